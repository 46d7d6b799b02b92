"""Hardened reading of FHIR JSON: bytes -> a dict, with each element's line, and findings instead of exceptions.

Limits: the document size, the nesting depth (checked by a scan before `json.loads`, so no RecursionError), the
length of a number (no huge-integer conversion), UTF-8 only (a BOM is tolerated), no lone surrogates (escaped
`\\ud800` that no UTF-8 output could carry), no duplicate keys, no NaN/Infinity. Decimals are kept exact.

The line map goes down the same text (only text `json.loads` accepted) along the path of each finding, when a
finding asks for its line: most documents have none.

Every scan is linear in time and constant in memory per token: a string token's runs of plain characters and
its escapes are matched possessively (`++`, `*+`), so the regex engine keeps no backtracking frame per character
(a 9 MB string once cost 1.1 GB) and never rescans from a quote inside a string; the depth scan of broken text
takes an unterminated string to the end of the text instead of retrying from every escaped quote in it (which
was quadratic: 160 KB of `\"` took 240 s).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from medcom.findings import Finding, Severity
from medcom.formats.fhir.locations import LineMap, Path
from medcom.formats.fhir.rules import F_JSON
from medcom.quoting import quoted

MAX_DEPTH = 64  # a MedCom Bundle nests about 12 deep; extensions in extensions add a few levels each
MAX_NUMBER_CHARS = 40
_BRACKETS = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[{}\[\]]', re.DOTALL)  # a string ends at its quote or the end
_SURROGATE = re.compile("[\ud800-\udfff]")
# UTF-8 text decodes to no surrogate: a lone one in the value comes from an escape `\ud800`-`\udfff` (either
# case), which this finds (with a few that are not escapes, `\\ud800`): only then is the value searched
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONProblem(ValueError):
    """The text is not acceptable FHIR JSON; `line` where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _check_depth(text: str) -> None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            if depth > MAX_DEPTH:
                raise JSONProblem(f"nested deeper than {MAX_DEPTH} levels", _line_at(text, match.start()))
        elif token in "}]":
            depth -= 1


def _number(kind: type) -> object:
    def convert(text: str) -> object:
        if len(text) > MAX_NUMBER_CHARS:
            raise JSONProblem(f"number of {len(text)} characters (the limit is {MAX_NUMBER_CHARS})")
        value = kind(text)
        if isinstance(value, Decimal) and not reasonable_decimal(value):
            raise JSONProblem(f"number {text} is out of range")
        return value
    return convert


def reasonable_decimal(value: Decimal) -> bool:
    """A decimal FHIR can mean (finite, exponent within +-400): no huge powers of ten for later code to expand."""
    return value.is_finite() and -400 <= value.adjusted() <= 400


def _constant(name: str) -> object:
    raise JSONProblem(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JSONProblem(f"duplicate key {quoted(duplicate)} in one object")
    return result


def _find_surrogate(value: object, path: Path) -> Path | None:
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return path + (key,)
            found = _find_surrogate(item, path + (key,))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_surrogate(item, path + (index,))
            if found is not None:
                return found
    return None


def line_map(text: str) -> LineMap:
    """The line each value of (valid) JSON `text` starts on, by path; a key's line for an object member. Each path's
    line is worked out when it is asked for (`_Lines`)."""
    return LineMap(locate=_Lines(text))


_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's white space (json.loads takes no other)
_SKIP = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # reads one value from an offset, in C: what a path passes by


class _Lines:
    """The line of one path in JSON text that `json.loads` accepted, found by going down the text along the path:
    each object or array on the way is read once, member by member (each member's value passed by the C scanner),
    noting where each member starts. A finding needs a few lines of a document; scanning every token of every
    document in Python cost more than checking it. Each container is read at most once, so the time stays within
    the text's length times its depth (at most MAX_DEPTH)."""

    def __init__(self, text: str) -> None:
        self.text = text
        start = _SPACE.match(text).end()  # type: ignore[union-attr]
        self.found: dict[Path, tuple[int, int]] = {(): (start, start)}  # path -> (its line's offset, its value's)
        self.read: set[Path] = set()  # the containers whose members are in `found`

    def __call__(self, path: Path) -> int | None:
        found = self._find(path)
        return None if found is None else self.text.count("\n", 0, found[0]) + 1

    def _find(self, path: Path) -> tuple[int, int] | None:
        found = self.found.get(path)
        if found is None and path and path[:-1] not in self.read:
            parent = self._find(path[:-1])
            if parent is not None:
                self._read(path[:-1], parent[1])
            self.read.add(path[:-1])
            found = self.found.get(path)
        return found

    def _read(self, path: Path, at: int) -> None:
        """Note where each member of the object or array at offset `at` starts: a key's offset and its value's, an
        item's offset twice."""
        text = self.text
        opening = text[at]
        if opening not in "{[":
            return
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        if text[at] in "]}":
            return
        index = 0
        while True:
            if opening == "[":
                self.found[path + (index,)] = (at, at)
                at = _SKIP(text, at)[1]
            else:
                key, after = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
                value = _SPACE.match(text, _SPACE.match(text, after).end() + 1).end()  # type: ignore[union-attr]
                self.found[path + (key,)] = (at, value)
                at = _SKIP(text, value)[1]
            at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
            if text[at] != ",":
                return
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
            index += 1


def read_json(data: bytes, *, max_bytes: int) -> tuple[object, LineMap]:
    """Parse FHIR JSON; raises `JSONProblem` (with a line where known) for anything not acceptable."""
    if len(data) > max_bytes:
        raise JSONProblem(f"document is {len(data):,} bytes, over the limit of {max_bytes:,}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4]:  # JSON text starts with ASCII
        wide = "UTF-32" if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00")) or data[1:4] == b"\x00\x00\x00" \
            else "UTF-16"
        raise JSONProblem(f"FHIR JSON is UTF-8; this document is {wide}", 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONProblem(f"not UTF-8: {exc.reason} at byte {exc.start}",
                          data.count(b"\n", 0, exc.start) + 1) from None
    text = text.removeprefix("\ufeff")
    try:  # most documents are fine: parsed first, their depth read off the value rather than scanned for
        value = _loads(text)
    except (ValueError, RecursionError):
        value = _FAILED
    if value is _FAILED or _deeper_than(value, MAX_DEPTH):
        value = _checked_loads(text)  # the problem, found in the order the checks are made (depth first)
    lines = line_map(text)
    surrogate = _find_surrogate(value, ()) if _SURROGATE_ESCAPE.search(text) else None
    if surrogate is not None:
        raise JSONProblem("a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape)",
                          lines.line(surrogate))
    return value, lines


_FAILED = object()


def _loads(text: str) -> object:
    return json.loads(text, object_pairs_hook=_object, parse_int=_number(int), parse_float=_number(Decimal),
                      parse_constant=_constant)


def _checked_loads(text: str) -> object:
    """The depth limit first, then the parse; raises the first problem as a `JSONProblem`."""
    _check_depth(text)
    try:
        return _loads(text)
    except JSONProblem:
        raise
    except json.JSONDecodeError as exc:
        raise JSONProblem(f"not well-formed JSON: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise JSONProblem(f"cannot read JSON: {exc}") from None


def _deeper_than(value: object, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (the outermost is level 1)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        following = []
        for node in level:
            for item in node.values() if isinstance(node, dict) else node:
                if isinstance(item, dict | list):
                    following.append(item)
        level = following
    return False


def json_finding(problem: JSONProblem, file: str) -> Finding:
    return Finding(F_JSON, Severity.ERROR, str(problem), file, problem.line)
