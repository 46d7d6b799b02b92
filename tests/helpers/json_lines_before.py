"""The line map of FHIR JSON as medcom made it before (a token scan of the whole text in Python, every path's
line at once): the oracle of the per-path line finder (jsonread._Lines), which must give every path the same
line."""

from __future__ import annotations

import json
import re

Path = tuple[str | int, ...]
_STRING = r'"(?:[^"\\]++|\\.)*+"'
_TOKEN = re.compile(_STRING + r'|[{}\[\]:,]|[^\s{}\[\]:,"]++', re.DOTALL)


def _scan_lines(text: str) -> dict[Path, int]:
    lines: dict[Path, int] = {}
    stack: list[list] = []  # frames: [is_object, path, key or index, expecting_key]
    line, last = 1, 0

    def here() -> Path:
        frame = stack[-1]
        return frame[1] + (frame[2],)

    for match in _TOKEN.finditer(text):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        token = match.group()
        top = stack[-1] if stack else None
        if token in ",:":
            if token == "," and top is not None:
                if top[0]:
                    top[3] = True
                else:
                    top[2] += 1
            continue
        if token in "}]":
            stack.pop()
            continue
        if top is not None and top[0] and top[3]:  # an object key
            top[2] = json.loads(token) if "\\" in token else token[1:-1]
            top[3] = False
            lines.setdefault(here(), line)
            continue
        path: Path = here() if top is not None else ()
        lines.setdefault(path, line)
        if token == "{":
            stack.append([True, path, None, True])
        elif token == "[":
            stack.append([False, path, 0, False])
    return lines
