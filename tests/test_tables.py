"""The tables that replaced if-chains cover what they must: every type a policy or scenario field has a converter
(a field of a new type fails here, not when a user's file is first loaded)."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from medcom.policy import CONVERTERS, GENERIC_CONVERTERS, Policy
from simulator.scenario import SETTINGS_TABLES, Run


def _leaf_types(hint: object) -> set[object]:
    """The plain types a field's hint is made of (through Annotated, tuple, dict and nested dataclasses)."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(hint)[0])
    if origin is not None:
        assert origin in GENERIC_CONVERTERS, f"no converter for the form {hint!r}"
        item = typing.get_args(hint)[-1 if origin is dict else 0]  # tuple[X, ...]; dict[year, X]
        return _leaf_types(item)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, include_extras=True)
        return set().union(*(_leaf_types(hints[f.name]) for f in dataclasses.fields(hint) if f.name != "raw"))
    return {hint}


@pytest.mark.parametrize("table", [Policy, Run, *SETTINGS_TABLES.values()], ids=lambda t: t.__name__)
def test_every_field_type_has_a_converter(table: type) -> None:
    leaves = _leaf_types(table)
    assert leaves, table
    assert leaves <= set(CONVERTERS), f"{table.__name__}: no converter for {leaves - set(CONVERTERS)}"
