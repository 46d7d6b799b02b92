"""Where each key of a scenario file comes from: the SOURCE / ASSUMPTION / FITTED mark of its comment.

A scenario file says in comments what rests on a reference and what is a guess (`medcom calibrate` writes the
same marks). A key's mark is the first word of its own end-of-line comment when that is a mark, else the first
mark that starts a line of the comment block directly above it (no blank line or key between). A key with
neither is unmarked: the reports count it apart instead of guessing. The marks are read with tomlkit, which
keeps comments, from the text the scenario was loaded from.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.items import Comment, Table, Whitespace

MARKS = ("SOURCE", "ASSUMPTION", "FITTED")
UNMARKED = "unmarked"
TABLES = ("admissions", "stay", "hospital", "municipality")  # the simulated behaviour (what sensitivity varies)


def _mark(comment: str) -> str | None:
    text = comment.strip().lstrip("#").strip()
    return next((m for m in MARKS if text.startswith(m)), None)


def key_marks(text: str) -> dict[str, str]:
    """Dotted key ('stay.ready_after_sigma') -> its mark (or 'unmarked'), for the behaviour tables of a
    scenario's TOML `text`; {} if tomlkit cannot read it (the loader has already accepted it with tomllib)."""
    try:
        doc = tomlkit.parse(text)
    except Exception:  # noqa: BLE001 - tomlkit's errors have no common base; the marks are then unknown
        return {}
    out: dict[str, str] = {}
    for table in TABLES:
        item: Any = doc.get(table)
        if not isinstance(item, Table):
            continue
        block: list[str] = []
        for key, value in item.value.body:
            if key is None:
                if isinstance(value, Comment):
                    block.append(value.as_string())
                elif isinstance(value, Whitespace) and "\n" in value.as_string():
                    block = []  # a blank line ends the block
                continue
            own = _mark(value.trivia.comment) if value.trivia.comment else None
            above = next((m for m in (_mark(line) for line in block) if m), None)
            out[f"{table}.{key.key}"] = own or above or UNMARKED
            block = []
    return out


def counts(marks: dict[str, str]) -> dict[str, int]:
    """How many keys carry each mark (every mark listed, unmarked last)."""
    return {m: sum(1 for v in marks.values() if v == m) for m in (*MARKS, UNMARKED)}
