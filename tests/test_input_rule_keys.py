"""The input rules relate messages through the keys `relations_of` declares (medcom.replay.input_rules: by_episode,
by_patient, by_message, by_envelope), the same keys the partitioner groups by: a patient is one patient however
the CPR number is spelt, in the passes as in the partitions."""

from __future__ import annotations

from medcom.calendar import parse_instant
from medcom.events import Event
from medcom.events.from_messages import NEW, MessageEvents
from medcom.policy import load_policy
from medcom.replay.input_rules import by_patient, prepare, relations_of
from medcom.replay.load import ReplayInput, Unit


def _unit(seq: int, at: str, kind: str, ident: str, episode: str | None, cpr: str) -> Unit:
    event = Event(parse_instant(at)[0], episode or "", kind, {"id": ident}, seq, f"m{seq}.json", origin="fhir")
    return Unit(MessageEvents([event], NEW, kind, cpr, episode), seq, "fhir")


def test_one_patient_spelt_two_ways_under_one_episode_id_is_not_m_patient() -> None:
    """_separate_patients compared raw CPR strings: "250947-9989" and "2509479989" were two patients, and the
    second message was split off as an episode of its own (M-PATIENT), while the partitioner kept them together
    as one patient."""
    units = [_unit(0, "2025-03-03T09:00", "admission_advice_sent", "a1", "EP1", "2509479989"),
             _unit(1, "2025-03-03T10:00", "admission_report_sent", "r1", "EP1", "250947-9989")]
    prepared = prepare(ReplayInput(units=units), load_policy())
    assert {e.episode for e in prepared.events} == {"EP1"}
    assert not [v for notes in prepared.notes.values() for v in notes if v.rule == "M-PATIENT"]


def test_two_patients_under_one_episode_id_are_still_m_patient() -> None:
    units = [_unit(0, "2025-03-03T09:00", "admission_advice_sent", "a1", "EP1", "2509479989"),
             _unit(1, "2025-03-03T10:00", "admission_report_sent", "r1", "EP1", "0101010101")]
    prepared = prepare(ReplayInput(units=units), load_policy())
    assert {e.episode for e in prepared.events} == {"EP1", "EP1~2"}
    assert [v.rule for v in prepared.notes["EP1~2"]] == ["M-PATIENT"]


def test_a_message_of_no_episode_finds_its_patients_episode_however_the_cpr_is_spelt() -> None:
    """_resolve_orphans keyed the patient's episodes by the raw CPR string: a correspondence naming no episode,
    with the CPR number hyphenated, was put in an episode of its own."""
    units = [_unit(0, "2025-03-03T09:00", "admission_advice_sent", "a1", "EP1", "2509479989"),
             _unit(1, "2025-03-04T10:00", "correspondence_sent", "c1", None, " 250947-9989")]
    prepared = prepare(ReplayInput(units=units), load_policy())
    assert {e.id: e.episode for e in prepared.events} == {"a1": "EP1", "c1": "EP1"}


def test_the_passes_and_the_partitioner_key_a_patient_alike() -> None:
    """The key a pass looks a patient up by is the key relations_of declares for the partitioner."""
    unit = _unit(0, "2025-03-03T09:00", "admission_advice_sent", "a1", "EP1", "250947-9989")
    keys = relations_of(unit.events.events, unit.events).keys
    assert by_patient("2509479989") in keys and by_patient(" 2509479989 ") == by_patient("250947-9989")
    assert by_patient("") is None and by_patient("  ") is None
