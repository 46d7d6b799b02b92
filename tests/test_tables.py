"""The tables that replaced if-chains cover what they must: every type a policy or scenario field has a converter
(a field of a new type fails here, not when a user's file is first loaded), and every message kind a timeline may
hold has a writer in each of build's formats, and every scenario key an estimator in calibrate."""

from __future__ import annotations

import dataclasses
import math
import typing
from datetime import time

import pytest

from medcom.calendar import parse_instant
from medcom.events import FORMATS, MESSAGE_EVENTS, to_fhir, to_oioxml
from medcom.events.build import WRITERS, writer_for
from medcom.policy import CONVERTERS, GENERIC_CONVERTERS, Policy, load_policy
from simulator import calibrate
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


WRITTEN_KINDS = sorted(MESSAGE_EVENTS - {"receipt_sent"})  # a receipt answers a message in that message's format


@pytest.mark.parametrize("formats", FORMATS)
@pytest.mark.parametrize("kind", WRITTEN_KINDS)
def test_every_message_kind_has_a_writer_in_every_format(kind: str, formats: str) -> None:
    """`medcom build --formats F` writes every message kind a timeline may hold, or says why no letter can."""
    writer = writer_for(kind, formats)
    if formats == "oioxml" and kind in to_oioxml.NOT_WRITTEN:
        assert writer is None
    else:
        assert writer is not None, f"no writer for {kind} in the {formats} formats"


def test_writer_tables_name_only_message_kinds() -> None:
    assert set(to_oioxml.WRITERS) | set(to_fhir.WRITERS) | set(to_oioxml.NOT_WRITTEN) == set(WRITTEN_KINDS)
    assert not set(to_oioxml.WRITERS) & set(to_oioxml.NOT_WRITTEN)
    assert {kind for kind, _ in WRITERS} == set(to_oioxml.WRITERS) | set(to_fhir.WRITERS)
    assert {fmt for _, fmt in WRITERS} == {"oioxml", "fhir"}


def test_every_scenario_key_has_one_estimator() -> None:
    """calibrate fits (or says why it assumes) every key of the scenario's tables, each by a registered estimator."""
    tables = {"run": Run, **SETTINGS_TABLES}
    keys = {f"{table}.{f.name}" for table, cls in tables.items() for f in dataclasses.fields(cls)}
    assert set(calibrate.ESTIMATORS) == keys


def _stay(name: str, plan_at: str) -> calibrate.StayRow:
    instants = {"admitted": "2025-03-24T08:00", "plan": plan_at, "ready": "2025-03-26T10:00"}
    times = tuple(calibrate._micros(parse_instant(instants[k])[0]) if k in instants else calibrate.NO_TIME
                  for k in calibrate.INSTANTS)
    return calibrate.StayRow(name, times, (math.nan,) * 3, calibrate.SOMATIC, "813", None)


def test_the_ward_day_is_its_own_estimator() -> None:
    """The ward's day is read from the care plans' local times alone (it was fitted inside the discharge's keys)."""
    stays = [_stay("A", "2025-03-24T09:10"), _stay("B", "2025-03-25T13:20"), _stay("C", "2025-03-25T11:00")]
    fit = calibrate._Fit(calibrate.StayTable.of(stays), load_policy(), {}, "log", "base", "fitted")
    calibrate.ESTIMATORS["hospital.ward_day_start"](fit)
    keys = fit.out.keys["hospital"]
    assert set(keys) == {"ward_day_start", "ward_day_end"}
    assert (keys["ward_day_start"].value, keys["ward_day_end"].value) == (time(9, 10), time(14, 0))
    assert keys["ward_day_start"].n == 3
