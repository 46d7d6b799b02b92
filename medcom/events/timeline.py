"""Read a timeline (.jsonl, CONTRACT.md): one event per line, any order.

A bad line (not JSON, a missing key, an unknown event, a malformed or nonexistent time) is reported as a
finding naming file, line and rule and counted as rejected; the other lines are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from medcom.calendar import LocalTimeKind, NonexistentLocalTime, parse_instant
from medcom.events import EVENT_KINDS, TIME_KEYS, Event
from medcom.findings import Finding, Severity


@dataclass
class TimelineLine:
    """One line's outcome: an event, or the finding that rejected it (warnings may come with an event)."""

    event: Event | None
    findings: list[Finding]
    kind: str | None = None  # the line's `event`, when it could be read (a rejected line is counted by it)


def _time(value: object, key: str, source: str, line: int, findings: list[Finding]) -> datetime | None:
    if not isinstance(value, str):
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: expected an ISO 8601 time, got {value!r}",
                                source, line))
        return None
    try:
        instant, kind = parse_instant(value)
    except NonexistentLocalTime as exc:
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: {exc}", source, line))
        return None
    except ValueError:
        findings.append(Finding("M-TIME", Severity.ERROR, f"{key}: not an ISO 8601 time: {value!r}", source, line))
        return None
    if kind is LocalTimeKind.AMBIGUOUS:
        findings.append(Finding("M-TIME", Severity.WARNING,
                                f"{key}: {value} occurs twice when summer time ends; read as the first occurrence",
                                source, line))
    return instant


def parse_line(text: str, source: str, line: int, seq: int) -> TimelineLine:
    """Read one timeline line."""
    findings: list[Finding] = []

    kind: str | None = None

    def reject(message: str) -> TimelineLine:
        findings.append(Finding("M-SCHEMA", Severity.ERROR, message, source, line))
        return TimelineLine(None, findings, kind)

    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return reject(f"not a JSON object: {exc.msg}")
    if not isinstance(raw, dict):
        return reject("not a JSON object")
    kind = raw.get("event") if isinstance(raw.get("event"), str) else None
    missing = [k for k in ("at", "episode", "event") if k not in raw]
    if missing:
        return reject(f"missing required key(s): {', '.join(missing)}")
    if raw["event"] not in EVENT_KINDS:
        return reject(f"unknown event {raw['event']!r}")
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


@dataclass
class TimelineFile:
    """A whole timeline: its events in file order, and the findings of its lines."""

    events: list[Event]
    findings: list[Finding]
    rejected: int


def read_file(path: Path) -> TimelineFile:
    """Every line of a timeline file (invalid UTF-8 is a finding of its line, not of the file)."""
    out = TimelineFile([], [], 0)
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for parsed in read_lines(handle, str(path)):
            out.findings.extend(parsed.findings)
            if parsed.event is None:
                out.rejected += 1
            else:
                out.events.append(parsed.event)
    return out
