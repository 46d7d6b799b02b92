"""A finding's line in FHIR JSON: found by going down the text along its path when asked (jsonread._Lines), the same
line the token scan of the whole text gave every path (tests/helpers/json_lines_before.py, the oracle), for any
JSON text, however written."""

from __future__ import annotations

import json
import random

from helpers.fhir import DATA
from helpers.json_lines_before import _scan_lines
from hypothesis import given
from hypothesis import strategies as st

from medcom.formats.fhir.jsonread import line_map, read_json
from medcom.formats.fhir.locations import LineMap

_KEYS = st.one_of(st.sampled_from(["resourceType", "entry", "resource", "_birthDate", "birthDate", "id", "a", "_a",
                                   "", "0"]), st.text(max_size=6))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=8))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                         st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=40)
_SPACE = [" ", "\n", "\t", "\r\n", "  \n  ", ""]


def _written(value: object, rng: random.Random, ascii_only: bool) -> str:
    """`value` as JSON with white space of any kind (newlines too) between any two tokens."""
    def space() -> str:
        return rng.choice(_SPACE) if rng.random() < 0.5 else ""

    if isinstance(value, dict):
        members = [space() + json.dumps(k, ensure_ascii=ascii_only) + space() + ":" + space()
                   + _written(v, rng, ascii_only) + space() for k, v in value.items()]
        return "{" + ",".join(members) + space() + "}"
    if isinstance(value, list):
        return "[" + ",".join(space() + _written(v, rng, ascii_only) + space() for v in value) + space() + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _asked(lines: dict) -> set[tuple]:
    """Every path of the text, and paths beside them that are not there (a missing member, index, twin, a step
    of the wrong kind): LineMap.line falls back to a parent or a `_name` twin for those."""
    asked = set(lines)
    for path in lines:
        asked |= {path + ("missing",), path + (0,), path + (7,), path + ("0",), path + ("_a",)}
        if path and isinstance(path[-1], int):
            asked.add(path[:-1] + (path[-1] + 1,))
        elif path:
            asked.add(path[:-1] + ("_" + str(path[-1]),))
    return asked


def _same_lines(text: str) -> int:
    oracle = _scan_lines(text)
    before, now = LineMap(oracle), line_map(text)
    for path in _asked(oracle):
        assert now.line(path) == before.line(path), (path, text[:300])
    return len(oracle)


@given(_VALUES, st.integers(0, 2**32), st.booleans())
def test_each_paths_line_is_the_whole_scans(value: object, seed: int, ascii_only: bool) -> None:
    rng = random.Random(seed)
    text = rng.choice(_SPACE) + _written(value, rng, ascii_only) + rng.choice(_SPACE)
    assert json.loads(text) == value or value != value  # noqa: PLR0124 - the text is the value
    _same_lines(text)


@given(_VALUES, st.sampled_from([None, 0, 1, 2, "\t"]))
def test_each_paths_line_is_the_whole_scans_as_json_dumps_writes(value: object, indent: int | str | None) -> None:
    _same_lines(json.dumps(value, indent=indent))


def test_each_paths_line_is_the_whole_scans_on_the_examples() -> None:
    checked = 0
    for path in sorted(DATA.glob("*/*.json")):
        checked += _same_lines(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    assert checked > 1000


def test_the_lines_of_a_read_document_are_found_after_a_byte_order_mark() -> None:
    text = '\ufeff{\n  "resourceType": "Bundle",\n  "entry": [\n    {"resource":\n      {"id": "x"}}\n  ]\n}\n'
    _, lines = read_json(text.encode(), max_bytes=10_000)
    assert [lines.line(p) for p in [(), ("entry",), ("entry", 0), ("entry", 0, "resource"),
                                    ("entry", 0, "resource", "id"), ("entry", 0, "resource", "id", 3),
                                    ("entry", 1), ("nothing",)]] == [1, 3, 4, 4, 5, 5, 3, 1]
