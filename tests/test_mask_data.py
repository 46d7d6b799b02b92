"""`mask_data` masks each distinct string of a report once (a memo per call): the same report as masking every
string where it stands, on generated reports whose strings repeat (keys, values, CPR numbers in every spelling)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medcom.identifiers import mask_cprs
from medcom.reports.masking import mask_data


def _mask_each(value: Any) -> Any:
    """Every string masked where it stands (mask_data before the memo)."""
    if isinstance(value, str):
        return mask_cprs(value)
    if isinstance(value, dict):
        return {_mask_each(k): _mask_each(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_each(v) for v in value]
    return value


_PIECES = st.sampled_from(["0101011234", "010101-1234", "3112999999", "0101017AB1", "file", "rule", " ", "-", ".",
                           "12", "x0101011234", "120524.05218525213", "M-CPR", ""])
_TEXTS = st.lists(_PIECES, max_size=4).map("".join)
_LEAVES = st.one_of(_TEXTS, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_REPORTS = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                         st.dictionaries(_TEXTS, inner, max_size=5)), max_leaves=40)


@given(_REPORTS)
def test_a_report_is_masked_as_each_string_alone(report: Any) -> None:
    assert mask_data(report) == _mask_each(report)


def test_a_repeated_cpr_is_masked_wherever_it_recurs() -> None:
    report = {"0101011234": ["0101011234", {"text": "CPR 0101011234"}], "again": "0101011234"}
    assert mask_data(report) == {"010101-****": ["010101-****", {"text": "CPR 010101-****"}], "again": "010101-****"}
