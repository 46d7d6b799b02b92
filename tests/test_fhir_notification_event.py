"""Issue 20: a HospitalNotification whose activity, Encounter.status and Encounter.class disagree, or whose event
cannot be told, is a finding with its own rule id (it was computed and dropped, or silently yielded no event)."""

from __future__ import annotations

from helpers.fhir import HOSPITAL, dump, entry_index, load, mutated, resource

from medcom.findings import Severity
from medcom.formats.fhir_adapter import read_fhir
from medcom.formats.messages import ReadOptions

DISCHARGE = HOSPITAL / "Bundle-f4aa42a4-86db-4e68-9b38-9dda0dfd5774.json"


def _read(bundle: dict) -> list[tuple[str, str | None]]:
    [message] = read_fhir(dump(bundle), "m.json", ReadOptions())
    return [(f.rule, f.xpath) for f in message.findings if f.severity == Severity.ERROR]


def test_the_examples_have_no_event_finding() -> None:
    for path in sorted(HOSPITAL.glob("*.json")):
        assert not [r for r, _ in _read(load(path)) if r.startswith("F-EVENT")], path.name


def test_a_discharge_with_status_onleave_is_f_event_status() -> None:
    bundle = mutated(DISCHARGE, lambda b: resource(b, "Encounter").update(status="onleave"))
    index = entry_index(bundle, "Encounter")
    assert ("F-EVENT-STATUS", f"Bundle.entry[{index}].resource.status") in _read(bundle)


def test_an_admission_with_the_wrong_class_is_f_event_class() -> None:
    bundle = mutated(HOSPITAL / "Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json",
                     lambda b: resource(b, "Encounter")["class"].update(code="EMER"))
    index = entry_index(bundle, "Encounter")
    assert ("F-EVENT-CLASS", f"Bundle.entry[{index}].resource.class") in _read(bundle)


def test_a_notification_without_a_provenance_for_its_own_header_is_f_event() -> None:
    def elsewhere(bundle: dict) -> None:
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] == "Provenance":
                entry["resource"]["target"][0]["reference"] = "MessageHeader/another-message"
    found = _read(mutated(DISCHARGE, elsewhere))
    assert ("F-EVENT", "Bundle.entry[0].resource") in found
