"""What the FHIR base model finds that nothing else in medcom's FHIR checking finds (issue 23's contract).

Each case changes one value of a shipped example so that only the base model's own checks can see it: a
primitive's format (the regexes of FHIR R4 and real calendar dates), a base-required primitive given only as its
`_name` twin with no extension, a required choice element missing, each also inside a contained resource, an
extension and a choice type. The shape walk (unknown elements, JSON types, empty values, arrays) does not see
these, and the profiles do not constrain these elements. Each is an F-STRUCTURE error with no machine code at the
element (or, for a required choice, at the object that lacks it), on the element's line, naming the value.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helpers.fhir import ADMISSION, CARE_NEW, dump, load, resource

from medcom.findings import Severity
from medcom.formats.fhir import validate_bytes
from medcom.formats.fhir.rules import F_STRUCTURE


def _extension(value: dict) -> Callable[[dict], None]:
    """An extension of the Patient (entry 1) with one typed value."""
    def change(bundle: dict) -> None:
        resource(bundle, "Patient").setdefault("extension", []).append({"url": "http://example.org/x", **value})
    return change


def _set(kind: str, **values: object) -> Callable[[dict], None]:
    return lambda bundle: resource(bundle, kind).update(values)


def _rank(bundle: dict) -> None:
    resource(bundle, "Patient")["telecom"] = [{"system": "phone", "value": "12345678", "rank": 0}]


def _contained(bundle: dict) -> None:
    resource(bundle, "Patient")["contained"] = [{"resourceType": "Organization", "id": "bad_id", "name": "x"}]


def _twin_without_extension(bundle: dict) -> None:
    encounter = resource(bundle, "Encounter")
    del encounter["status"]
    encounter["_status"] = {"id": "s1"}


def _twin_extension_value(bundle: dict) -> None:
    resource(bundle, "Encounter")["_status"] = {
        "extension": [{"url": "http://example.org/x", "valueDateTime": "2024-13-01"}]}


def _no_event(bundle: dict) -> None:
    del resource(bundle, "MessageHeader")["eventCoding"]


def _no_payload_content(bundle: dict) -> None:
    del resource(bundle, "Communication")["payload"][0]["contentString"]


# name: (example, change, FHIRPath of the finding, a value the finding's text names or None)
CASES: dict[str, tuple[object, Callable[[dict], None], str, str | None]] = {
    "id: a character FHIR's id does not allow": (
        ADMISSION, _set("Provenance", id="a7cf3888_6f42"), "Bundle.entry[5].resource.id", "a7cf3888_6f42"),
    "id: longer than the model's 255": (
        ADMISSION, _set("Provenance", id="a" * 256), "Bundle.entry[5].resource.id", "aaaa"),
    "code: two spaces inside": (
        ADMISSION, lambda b: resource(b, "Patient")["name"][0].update(use="usual  x"),
        "Bundle.entry[1].resource.name[0].use", "usual  x"),
    "code: a trailing newline": (
        ADMISSION, lambda b: resource(b, "Patient")["name"][0].update(use="official\n"),
        "Bundle.entry[1].resource.name[0].use", "official"),
    "dateTime (choice type): a time without a time zone": (
        ADMISSION, _set("Provenance", occurredDateTime="2022-12-07T12:00:02"),
        "Bundle.entry[5].resource.occurredDateTime", "2022-12-07T12:00:02"),
    "dateTime: a day the month does not have": (
        ADMISSION, lambda b: resource(b, "Encounter")["period"].update(start="2023-02-29T10:00:00+01:00"),
        "Bundle.entry[2].resource.period.start", "2023-02-29T10:00:00+01:00"),
    "instant: a date alone": (
        ADMISSION, _set("Provenance", recorded="2022-12-07"), "Bundle.entry[5].resource.recorded", "2022-12-07"),
    "instant: 31 April": (
        ADMISSION, _set("Provenance", recorded="2022-04-31T12:00:02+02:00"), "Bundle.entry[5].resource.recorded",
        "2022-04-31T12:00:02+02:00"),
    "instant of the Bundle itself: no time zone": (
        ADMISSION, lambda b: b.update(timestamp="2022-12-07T12:00:02"), "Bundle.timestamp", "2022-12-07T12:00:02"),
    "date: month 13": (ADMISSION, _set("Patient", birthDate="1947-13-25"), "Bundle.entry[1].resource.birthDate",
                       "1947-13-25"),
    "date: 29 February of a common year": (
        ADMISSION, _set("Patient", birthDate="1947-02-29"), "Bundle.entry[1].resource.birthDate", "1947-02-29"),
    "time (in an extension): 24:00": (
        ADMISSION, _extension({"valueTime": "24:00:00"}), "Bundle.entry[1].resource.extension[0].valueTime",
        "24:00:00"),
    "oid (in an extension): a leading zero": (
        ADMISSION, _extension({"valueOid": "urn:oid:1.2.08"}), "Bundle.entry[1].resource.extension[0].valueOid",
        "urn:oid:1.2.08"),
    "uuid (in an extension): not a UUID": (
        ADMISSION, _extension({"valueUuid": "urn:uuid:x"}), "Bundle.entry[1].resource.extension[0].valueUuid",
        "urn:uuid:x"),
    "base64Binary (in an extension): bad padding": (
        ADMISSION, _extension({"valueBase64Binary": "YQ="}),
        "Bundle.entry[1].resource.extension[0].valueBase64Binary", "YQ="),
    "unsignedInt (in an extension): negative": (
        ADMISSION, _extension({"valueUnsignedInt": -1}), "Bundle.entry[1].resource.extension[0].valueUnsignedInt",
        "-1"),
    "positiveInt: ContactPoint.rank 0": (ADMISSION, _rank, "Bundle.entry[1].resource.telecom[0].rank", "0"),
    "contained resource: an id with an underscore": (
        ADMISSION, _contained, "Bundle.entry[1].resource.contained[0].id", "bad_id"),
    "a primitive's extension: a bad dateTime inside `_status`": (
        ADMISSION, _twin_extension_value, "Bundle.entry[2].resource.status.extension[0].valueDateTime",
        "2024-13-01"),
    "required primitive: Encounter.status given as `_status` with no extension": (
        ADMISSION, _twin_without_extension, "Bundle.entry[2].resource.status", None),
    "required choice: MessageHeader.event[x] missing": (
        ADMISSION, _no_event, "Bundle.entry[0].resource", None),
    "required choice: Communication.payload.content[x] missing": (
        CARE_NEW, _no_payload_content, "Bundle.entry[2].resource.payload[0]", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_base_model_finds_it_at_the_element(case: str) -> None:
    example, change, where, value = CASES[case]
    bundle = load(example)  # type: ignore[arg-type]
    change(bundle)
    found = [f for f in validate_bytes(dump(bundle), "m.json").findings if f.xpath == where]
    structural = [f for f in found if f.rule == F_STRUCTURE]
    assert structural, [(f.rule, f.xpath, f.text) for f in found]
    finding = structural[0]
    assert finding.severity == Severity.ERROR
    assert finding.code is None
    assert finding.line is not None and finding.line > 1
    if value is not None:
        assert value in finding.text
