"""Read a timeline (.jsonl, CONTRACT.md): one event per line, any order.

A bad line (not UTF-8, not JSON, a missing key, a value of the wrong type, an unknown event, a malformed,
nonexistent or out-of-range time, an invalid CPR) is reported as a finding naming file, line and rule and
counted as rejected; the other lines are read. Files are decoded line by line, so that one bad line does not
lose the file, and read within limits (a line, the whole file), so that no input can exhaust memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from medcom.calendar import LocalTimeKind, NonexistentLocalTime, TimeOutOfRange, parse_instant
from medcom.events import EVENT_KINDS, TIME_KEYS, Event
from medcom.findings import LINE, Finding, Severity
from medcom.formats.inputs import READ_ERRORS, Source, UnreadableInput
from medcom.identifiers import check_cpr, check_municipality
from medcom.quoting import quoted

MAX_LINE_BYTES = 1_000_000  # one event is a few hundred bytes; a longer line is rejected unread

# The types CONTRACT.md gives the keys replay and build read (None: the key may be null, i.e. absent).
_TEXT, _BOOL, _CODE = (str,), (bool,), (str, int)
KEY_TYPES: dict[str, tuple[type, ...]] = {
    "id": _TEXT, "ref": _TEXT, "reply_to": _TEXT, "correction_of": _TEXT, "cpr": _TEXT, "municipality": _CODE,
    "department": _CODE, "sender": _TEXT, "caller": _TEXT, "topic": _TEXT, "decision": _TEXT, "reason": _TEXT,
    "subject": _TEXT, "destination": _TEXT, "special_coordination": _TEXT,
    "somatic": _BOOL, "unplanned": _BOOL, "wishes_to_stay": _BOOL, "positive": _BOOL,
}
_TYPE_NAMES = {str: "text", bool: "true or false", int: "a whole number"}
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # no message can carry these


@dataclass
class TimelineLine:
    """One line's outcome: an event, or the finding that rejected it (warnings may come with an event)."""

    event: Event | None
    findings: list[Finding]
    kind: str | None = None  # the line's `event`, when it could be read (a rejected line is counted by it)


def _time(value: object, key: str, source: str, line: int, findings: list[Finding]) -> datetime | None:
    if not isinstance(value, str):
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: expected an ISO 8601 time, got {quoted(value)}",
                                source, line, location=LINE))
        return None
    try:
        instant, kind = parse_instant(value)
    except (NonexistentLocalTime, TimeOutOfRange) as exc:
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: {exc}", source, line, location=LINE))
        return None
    except ValueError:
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: not an ISO 8601 time: {quoted(value)}", source,
                                line, location=LINE))
        return None
    if kind is LocalTimeKind.AMBIGUOUS:
        findings.append(Finding("M-TIME", Severity.WARNING,
                                f"{key}: {value} occurs twice when summer time ends; read as the first occurrence",
                                source, line, location=LINE))
    return instant


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _json(text: str) -> tuple[object, str | None]:
    """The JSON value of a line, or why it has none (never raises: deep nesting, huge numbers, NaN)."""
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        return None, f"not a JSON object: {exc.msg}"
    except RecursionError:
        return None, "not a JSON object: nested too deeply"
    except ValueError as exc:  # an integer of thousands of digits, NaN or Infinity
        return None, f"not a JSON object: {str(exc).split(';')[0]}"


def _has_lone_surrogate(raw: object) -> bool:
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _type_problem(raw: dict[str, Any]) -> str | None:
    """The first key whose value has the wrong type, said in a sentence."""
    if not isinstance(raw["event"], str):
        return f"event: expected text, got {_kind(raw['event'])}"
    for key, types in (("episode", _CODE), *KEY_TYPES.items()):
        value = raw.get(key)
        if value is not None and not (isinstance(value, types) and (bool in types or not isinstance(value, bool))):
            return f"{key}: expected {' or '.join(_TYPE_NAMES[t] for t in types)}, got {_kind(value)}"
        if isinstance(value, str) and (bad := _NOT_XML_TEXT.search(value)):
            return f"{key}: the control character U+{ord(bad[0]):04X} is not allowed in text"
    return None


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", bool: "true or false", str: "text", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def parse_line(text: str, source: str, line: int, seq: int) -> TimelineLine:
    """Read one timeline line."""
    findings: list[Finding] = []

    kind: str | None = None

    def reject(message: str, rule: str = "M-SCHEMA") -> TimelineLine:
        findings.append(Finding(rule, Severity.ERROR, message, source, line, location=LINE))
        return TimelineLine(None, findings, kind)

    raw, problem = _json(text)
    if problem is not None:
        return reject(problem)
    if not isinstance(raw, dict):
        return reject("not a JSON object")
    kind = raw.get("event") if isinstance(raw.get("event"), str) else None
    if "\\u" in text and _has_lone_surrogate(raw):
        return reject("text with a lone surrogate (an escape such as \\ud800 that is no character)")
    missing = [k for k in ("at", "episode", "event") if k not in raw]
    if missing:
        return reject(f"missing required key(s): {', '.join(missing)}")
    if problem := _type_problem(raw):
        return reject(problem)
    if raw["event"] not in EVENT_KINDS:
        return reject(f"unknown event {quoted(raw['event'])}")
    if raw["event"] == "admitted" and raw.get("cpr") is not None and (problem := check_cpr(raw["cpr"])):
        return reject(f"cpr: {problem}", "M-CPR")
    if raw.get("municipality") is not None and (problem := check_municipality(str(raw["municipality"]))):
        return reject(f"municipality: {problem}", "M-MUNICIPALITY")
    at = _time(raw["at"], "at", source, line, findings)
    data = {k: v for k, v in raw.items() if k not in ("at", "episode", "event")}
    for key in TIME_KEYS:
        if key in data and data[key] is not None:
            data[key] = _time(data[key], key, source, line, findings)
    if at is None or any(f.severity is Severity.ERROR for f in findings):
        return TimelineLine(None, findings, kind)
    return TimelineLine(Event(at, str(raw["episode"]), raw["event"], data, seq, source, line), findings, kind)


def read_lines(lines: Iterable[str], source: str, start_seq: int = 0) -> Iterator[TimelineLine]:
    """Every non-blank line of a timeline, in order; `source` names it in findings."""
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield parse_line(text, source, number, start_seq + number)


def _unreadable(source: str, line: int | None, why: str) -> TimelineLine:
    return TimelineLine(None, [Finding("M-XML", Severity.ERROR, why, source, line, location=LINE)])


def _decode(raw: bytes, number: int) -> tuple[str | None, str | None]:
    """A line's text, or why it has none (invalid UTF-8: only this line is lost)."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark some editors write
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"line is not UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"


def _raw_lines(source: Source, max_bytes: int) -> Iterator[tuple[int, bytes | TimelineLine]]:
    """(line number, its bytes) for each line, or (number, a rejected line) where reading failed or a limit
    was reached; reading stops at the first failure."""
    name, number, total = source.name, 0, 0
    try:
        with source.open(max_bytes) as (stream, _size):
            while raw := stream.readline(MAX_LINE_BYTES + 1):
                number += 1
                total += len(raw)
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while total <= max_bytes and (more := stream.readline(MAX_LINE_BYTES + 1)):
                        total += len(more)  # skip the rest of the line, within the file's limit
                        if more.endswith(b"\n"):
                            break
                    if total <= max_bytes:
                        yield number, TimelineLine(None, [Finding(
                            "M-SCHEMA", Severity.ERROR, f"line is longer than {MAX_LINE_BYTES:,} bytes; not read",
                            name, number, location=LINE)])
                        continue
                if total > max_bytes:
                    yield number, _unreadable(name, number, f"timeline is over the limit of {max_bytes:,} bytes; "
                                                            "this line and the rest were not read")
                    return
                yield number, raw
    except UnreadableInput as exc:
        yield number, _unreadable(name, number + 1 if number else None, str(exc))
    except READ_ERRORS as exc:
        yield number, _unreadable(name, number + 1, f"cannot read {'archive member' if source.member else 'file'}: "
                                                    f"{exc}")


def read_source(source: Source, max_bytes: int, start_seq: int = 0) -> Iterator[TimelineLine]:
    """Every non-blank line of a timeline file or archive member, in order, at most `max_bytes` of it; a
    source that cannot be read is one rejected line (line None) with its M-XML finding."""
    for number, raw in _raw_lines(source, max_bytes):
        if isinstance(raw, TimelineLine):
            yield raw
            continue
        text, problem = _decode(raw, number)
        if problem is not None:
            yield TimelineLine(None, [Finding("M-SCHEMA", Severity.ERROR, problem, source.name, number, location=LINE)])
        elif text is not None and text.strip():
            yield parse_line(text, source.name, number, start_seq + number)


@dataclass
class TimelineFile:
    """A whole timeline: its events in file order, and the findings of its lines."""

    events: list[Event]
    findings: list[Finding]
    rejected: int


def read_file(path: Path, max_bytes: int = 200_000_000) -> TimelineFile:
    """Every line of a timeline file (a bad line is a finding of its own and the rest is read)."""
    out = TimelineFile([], [], 0)
    for parsed in read_source(Source(str(path)), max_bytes):
        out.findings.extend(parsed.findings)
        if parsed.event is None:
            out.rejected += 1
        else:
            out.events.append(parsed.event)
    return out
