"""FHIR validation: MedCom's examples pass; each kind of problem is found with its rule id, location and line."""

from __future__ import annotations

import pytest
from helpers.fhir import (
    ACK_OK,
    ADMISSION,
    CARE,
    CARE_NEW,
    DATA,
    HOSPITAL,
    OLDER_CARE_EXAMPLES,
    dump,
    entry_index,
    load,
    mutated,
    resource,
)

from medcom.findings import Severity
from medcom.formats.fhir import validate_bytes
from medcom.formats.fhir.igpackages import context, example_bundles, package, shipped
from medcom.formats.fhir.rules import F_BINDING, F_INVARIANT, F_PROFILE, F_STRUCTURE, F_UNCHECKED

EXAMPLES = sorted(DATA.glob("*/*.json"))


@pytest.mark.parametrize("name", sorted(example_bundles()))
def test_every_example_bundle_of_the_shipped_packages_has_no_error(name: str) -> None:
    result = validate_bytes(example_bundles()[name], name)
    assert result.profile is not None
    assert result.errors == [], [f"{f.xpath}: {f.text}" for f in result.errors]


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.name not in OLDER_CARE_EXAMPLES], ids=lambda p: p.name)
def test_every_reference_example_of_the_shipped_ig_versions_has_no_error(path) -> None:  # noqa: ANN001
    result = validate_bytes(path.read_bytes(), str(path))
    assert result.errors == [], [f"{f.xpath}: {f.text}" for f in result.errors]


@pytest.mark.parametrize("name", sorted(OLDER_CARE_EXAMPLES))
def test_older_care_communication_examples_fail_only_on_what_5_0_2_added(name: str) -> None:
    """These six examples predate CareCommunication 5.0.2 (not in its package): their errors are its additions."""
    result = validate_bytes((CARE / name).read_bytes(), name)
    texts = {f.text.split(":")[0] for f in result.errors}
    assert "MessageHeader.definition" in texts and "Communication.identifier" in texts
    assert texts <= {"MessageHeader.definition", "Communication.identifier", "medcom-careCommunication-3",
                     "MessageHeader.focus", "value 'entered-in-error' does not match the pattern 'unknown' of "
                     "Communication.status"}


def test_a_message_is_judged_by_its_igs_own_dependencies_with_no_error_softened_to_a_warning() -> None:
    """Issue 20: HospitalNotification 3.0.2 was built on medcom core 2.0.0 and messaging 2.1.0; its Provenance
    errors were warnings when judged by core 4.0.0 / messaging 4.0.2. Judged by its own closure, they are errors."""
    bundle = mutated(ADMISSION, lambda b: resource(b, "Provenance").pop("agent"))
    result = validate_bytes(dump(bundle), "m.json")
    assert result.ig == "medcom.fhir.dk.hospitalnotification#3.0.2"
    found = [f for f in result.findings if "Provenance.agent" in f.text]
    assert found and all(f.severity == Severity.ERROR for f in found)
    assert not any("built on" in f.text for f in result.findings)


def test_what_cannot_be_checked_is_counted_as_info() -> None:
    assert validate_bytes(CARE_NEW.read_bytes(), "cc.json").unchecked == []  # narratives too (test_fhir_narrative)
    bundle = mutated(CARE_NEW, lambda b: resource(b, "Patient").setdefault("meta", {}).setdefault("profile", []).append(
        "http://example.org/StructureDefinition/unknown"))
    result = validate_bytes(dump(bundle), "cc.json")
    assert result.unchecked and all(f.rule == F_UNCHECKED and f.severity == Severity.INFO for f in result.unchecked)
    assert "http://example.org/StructureDefinition/unknown" in " ".join(f.text for f in result.unchecked)


def test_dk_core_profiles_and_value_discriminators_by_binding_are_checked() -> None:
    """dk-core is shipped: its identifier profiles are checked (they were 'not checked' before), and the
    Patient.identifier:ecpr slice is told apart by its system's required binding."""
    result = validate_bytes(ADMISSION.read_bytes(), "stin.json")
    assert result.unchecked == []
    bundle = mutated(ADMISSION, lambda b: resource(b, "Patient")["identifier"][0].update(value="3209479989"))
    found = [f for f in validate_bytes(dump(bundle), "m.json").errors if f.rule == F_INVARIANT]
    assert [f.text.split(":")[0] for f in found] == ["cpr"]
    gln = mutated(ADMISSION, lambda b: resource(b, "Organization")["identifier"][0].update(value="5790001348121"))
    assert any(f.text.startswith("gln-modulus-10") for f in validate_bytes(dump(gln), "m.json").errors)


def _findings(bundle: dict, rule: str) -> list:
    return [f for f in validate_bytes(dump(bundle), "m.json").findings if f.rule == rule]


def test_missing_required_element_is_a_profile_error_at_the_element_with_the_parents_line() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Encounter").pop("period"))
    found = [f for f in _findings(bundle, F_PROFILE) if "Encounter.period" in f.text]
    index = entry_index(bundle, "Encounter")
    assert [f.xpath for f in found] == [f"Bundle.entry[{index}].resource.period"]
    assert found[0].severity == Severity.ERROR and "minimum required = 1" in found[0].text
    assert dump(bundle).decode().splitlines()[found[0].line - 1].strip().startswith('"resource"')


def test_wrong_fixed_value() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Patient")["identifier"][0].update(use="usual"))
    found = _findings(bundle, F_PROFILE)
    assert [f.xpath for f in found] == [f"Bundle.entry[{entry_index(bundle, 'Patient')}].resource.identifier[0].use"]
    assert "fixed value 'official'" in found[0].text


def test_wrong_pattern_value() -> None:
    bundle = mutated(ADMISSION, lambda b: b.update(type="collection"))
    assert any(f.xpath == "Bundle.type" and "pattern 'message'" in f.text for f in _findings(bundle, F_PROFILE))


def test_code_outside_a_required_binding() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Encounter").update({"class": {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}))
    found = _findings(bundle, F_BINDING)
    assert [f.xpath for f in found] == [f"Bundle.entry[{entry_index(bundle, 'Encounter')}].resource.class"]
    assert "v3-ActCode#AMB" in found[0].text and "medcom-hospitalNotification-encounterClass" in found[0].text


def test_code_outside_a_base_binding_is_checked_with_the_base_models_codes() -> None:
    bundle = mutated(ACK_OK, lambda b: resource(b, "MessageHeader")["response"].update(code="maybe"))
    found = _findings(bundle, F_BINDING)
    assert [f.xpath for f in found] == ["Bundle.entry[0].resource.response.code"]


def test_violated_invariant() -> None:
    def leave_without_period(bundle: dict) -> None:
        resource(bundle, "Encounter")["status"] = "onleave"
    found = _findings(mutated(ADMISSION, leave_without_period), F_INVARIANT)
    assert [(f.xpath, f.text.split(":")[0]) for f in found] == [
        (f"Bundle.entry[{entry_index(load(ADMISSION), 'Encounter')}].resource", "medcom-hospitalNotification-6")]


def test_bundle_level_invariant_with_fhirpath_over_the_entries() -> None:
    def second_patient(bundle: dict) -> None:
        bundle["entry"].append({"fullUrl": "Patient/x", "resource": dict(resource(bundle, "Patient"), id="x")})
    found = _findings(mutated(ADMISSION, second_patient), F_INVARIANT)
    assert ("Bundle", "medcom-hospitalNotification-2") in [(f.xpath, f.text.split(":")[0]) for f in found]


def test_wrong_base_type_is_a_structure_error() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Patient").update(deceasedBoolean="yes"))
    found = _findings(bundle, F_STRUCTURE)
    assert [f.xpath for f in found] == [f"Bundle.entry[{entry_index(bundle, 'Patient')}].resource.deceasedBoolean"]
    assert "true or false" in found[0].text


def test_type_the_profile_does_not_allow_is_a_profile_error() -> None:
    def period_for_occurrence(bundle: dict) -> None:
        provenance = resource(bundle, "Provenance")
        provenance["occurredPeriod"] = {"start": provenance.pop("occurredDateTime")}
    bundle = mutated(ADMISSION, period_for_occurrence)
    found = _findings(bundle, F_PROFILE)
    assert any(f.xpath == f"Bundle.entry[{entry_index(bundle, 'Provenance')}].resource.occurredPeriod"
               and "type Period is not allowed" in f.text for f in found), found


def test_too_many_repeats() -> None:
    def two_focus(bundle: dict) -> None:
        header = resource(bundle, "MessageHeader")
        header["focus"] = header["focus"] * 2
    found = _findings(mutated(ADMISSION, two_focus), F_PROFILE)
    assert [f.xpath for f in found] == ["Bundle.entry[0].resource.focus[1]"]
    assert "max allowed = 1, but found 2" in found[0].text


def test_unknown_element_and_empty_values_are_structure_errors() -> None:
    def damage(bundle: dict) -> None:
        resource(bundle, "Patient")["nickname"] = "Bob"
        resource(bundle, "Encounter")["period"]["end"] = ""
        resource(bundle, "Organization")["name"] = None
    paths = {f.xpath: f.text for f in _findings(mutated(ADMISSION, damage), F_STRUCTURE)}
    assert any(p.endswith("resource.nickname") and "unknown element" in t for p, t in paths.items())
    assert any(p.endswith("resource.period.end") and "empty" in t for p, t in paths.items())
    assert any(p.endswith("resource.name") and "null" in t for p, t in paths.items())


def test_closed_slicing_and_slice_cardinality() -> None:
    def cc_destination(bundle: dict) -> None:
        destination = resource(bundle, "MessageHeader")["destination"][0]
        destination["extension"][0]["valueCoding"]["code"] = "cc"
    found = _findings(mutated(ADMISSION, cc_destination), F_PROFILE)
    texts = " | ".join(f.text for f in found)
    assert "MessageHeader.destination:primary: minimum required = 1" in texts
    assert "MessageHeader.destination:cc: max allowed = 0" in texts


def test_target_profile_of_a_reference_is_applied_to_the_resource_it_points_at() -> None:
    """The Encounter has no meta.profile: MessageHeader.focus's target profile still applies to it."""
    def unprofiled(bundle: dict) -> None:
        encounter = resource(bundle, "Encounter")
        encounter.pop("meta")
        encounter.pop("serviceProvider")
    found = _findings(mutated(ADMISSION, unprofiled), F_PROFILE)
    assert any("Encounter.serviceProvider: minimum required = 1" in f.text for f in found)


def test_no_message_profile_is_an_error() -> None:
    def anonymous(bundle: dict) -> None:
        bundle.pop("meta")
        header = resource(bundle, "MessageHeader")
        header.pop("meta")
        header["eventCoding"]["code"] = "something-else"
    found = _findings(mutated(ADMISSION, anonymous), F_PROFILE)
    assert any("no MedCom message profile" in f.text for f in found)


def test_message_profile_is_chosen_from_the_message_header_when_the_bundle_names_none() -> None:
    result = validate_bytes(dump(mutated(HOSPITAL / ADMISSION.name, lambda b: b.pop("meta"))), "x.json")
    assert result.profile == ("http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                              "medcom-hospitalNotification-message")
    assert result.errors == []


def test_packages_are_read_from_package_data_with_their_versions() -> None:
    versions = shipped()
    assert versions["medcom.fhir.dk.hospitalnotification"] == ("3.0.0", "3.0.1", "3.0.2")
    assert versions["medcom.fhir.dk.carecommunication"] == ("4.0.0", "4.0.1", "4.0.2", "4.0.3", "5.0.0", "5.0.1",
                                                            "5.0.2")
    assert versions["medcom.fhir.dk.acknowledgement"] == ("2.0.0", "2.0.1", "2.0.2", "2.0.3")
    for name in ("medcom.fhir.dk.hospitalnotification", "medcom.fhir.dk.carecommunication",
                 "medcom.fhir.dk.acknowledgement"):
        for version in versions[name]:
            ig = package(f"{name}#{version}")
            judge = context(f"{name}#{version}")
            assert ig is not None and judge is not None and ig.info.version == version
            named = {f"{n}#{v}" for n, v in ig.info.dependencies.items() if n.startswith(("medcom.", "hl7.fhir.dk."))}
            assert named <= set(judge.packages), (name, version)  # every MedCom and dk-core dependency, as named


def test_a_cpr_number_in_a_finding_is_masked() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Patient")["identifier"][0].update(use="2509479989"))
    texts = " ".join(f.text for f in validate_bytes(dump(bundle), "m.json").findings)
    assert "250947-****" in texts and "2509479989" not in texts
