"""Issue 20: what was accepted (or only warned about) and is an error by the message's own IG version or by R4."""

from __future__ import annotations

import pytest
from helpers.fhir import ACK_OK, ADMISSION, CARE_NEW, dump, mutated, resource

from medcom.findings import Severity
from medcom.formats.fhir import validate_bytes
from medcom.formats.fhir.rules import F_BINDING, F_STRUCTURE


def _provenance(bundle: dict) -> dict:
    return resource(bundle, "Provenance")


def _occurred_period(bundle: dict) -> None:
    provenance = _provenance(bundle)
    provenance["occurredPeriod"] = {"start": provenance.pop("occurredDateTime")}


def _payload_date_as_string(bundle: dict) -> None:
    extension = resource(bundle, "Communication")["payload"][0]["extension"][0]
    extension["valueString"] = extension.pop("valueDateTime")


def _renamed_full_url(bundle: dict) -> None:
    bundle["entry"][1]["fullUrl"] = bundle["entry"][1]["fullUrl"].rsplit("/", 1)[0] + "/another-id"


def _focus_nowhere(bundle: dict) -> None:
    resource(bundle, "MessageHeader")["focus"][0]["reference"] = "urn:uuid:0b2e8e27-9a0c-4c2a-9d2c-2b1f3a3e4a11"


CASES = {
    # (message, change, what a finding must name)
    "Provenance without target (R4 1..*)": (ADMISSION, lambda b: _provenance(b).pop("target"), "target"),
    "Provenance without agent (R4 1..*)": (ADMISSION, lambda b: _provenance(b).pop("agent"), "agent"),
    "Acknowledgement's Provenance without target": (ACK_OK, lambda b: _provenance(b).pop("target"), "target"),
    "Provenance without activity": (ADMISSION, lambda b: _provenance(b).pop("activity"), "activity"),
    "Provenance with an unknown activity": (
        ADMISSION, lambda b: _provenance(b)["activity"]["coding"][0].update(code="nonsense"), "activity"),
    "Provenance without occurredDateTime": (ADMISSION, lambda b: _provenance(b).pop("occurredDateTime"),
                                            "occurred"),
    "Provenance with occurredPeriod": (ADMISSION, _occurred_period, "occurred"),
    "Patient.gender 'mand' (R4 required binding)": (
        ADMISSION, lambda b: resource(b, "Patient").update(gender="mand"), "gender"),
    "Narrative.status 'auto' (R4 required binding)": (
        ADMISSION, lambda b: resource(b, "Patient")["text"].update(status="auto"), "text.status"),
    "Organization without identifiers": (ADMISSION, lambda b: resource(b, "Organization").pop("identifier"),
                                         "identifier"),
    "Organization with a wrong SOR system": (
        ADMISSION, lambda b: resource(b, "Organization")["identifier"][1].update(system="urn:oid:1.2.3"),
        "identifier"),
    "Acknowledgement's Organization without identifiers": (
        ACK_OK, lambda b: resource(b, "Organization").pop("identifier"), "identifier"),
    "CareCommunication payload date as a string": (CARE_NEW, _payload_date_as_string, "payload[0].extension[0]"),
    "fullUrl .../Patient/x on a Patient whose id is not x": (ADMISSION, _renamed_full_url, "entry[1].fullUrl"),
    "MessageHeader.focus to a urn:uuid no entry has": (ADMISSION, _focus_nowhere, "focus[0].reference"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_message_is_an_error_naming_the_element(case: str) -> None:
    path, change, element = CASES[case]
    result = validate_bytes(dump(mutated(path, change)), "m.json")
    errors = [f for f in result.errors if element in (f.xpath or "") or element in f.text]
    assert errors, [(f.rule, f.xpath, f.text) for f in result.findings]
    assert not [f for f in result.findings if f.severity == Severity.WARNING and element in f.text]


def test_base_required_bindings_and_references_have_their_rule_ids() -> None:
    gender = validate_bytes(dump(mutated(ADMISSION, lambda b: resource(b, "Patient").update(gender="mand"))), "m")
    assert [(f.rule, f.xpath) for f in gender.errors] == [(F_BINDING, "Bundle.entry[1].resource.gender")]
    focus = validate_bytes(dump(mutated(ADMISSION, _focus_nowhere)), "m")
    assert (F_STRUCTURE, "Bundle.entry[0].resource.focus[0].reference") in [(f.rule, f.xpath) for f in focus.errors]


def test_a_urn_reference_that_resolves_and_a_fullurl_that_agrees_are_accepted() -> None:
    def to_urns(bundle: dict) -> None:
        """Every fullUrl as urn:uuid and every reference by it: allowed by R4 and by MedCom's profiles."""
        renamed = {}
        for index, entry in enumerate(bundle["entry"]):
            urn = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
            old = entry["fullUrl"]
            renamed[old] = urn
            renamed[old.split("/hospitalnotification/", 1)[1]] = urn
            entry["fullUrl"] = urn

        def walk(value: object) -> None:
            if isinstance(value, dict):
                if isinstance(value.get("reference"), str) and value["reference"] in renamed:
                    value["reference"] = renamed[value["reference"]]
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
        walk(bundle)
    result = validate_bytes(dump(mutated(ADMISSION, to_urns)), "m.json")
    assert result.errors == [], [(f.xpath, f.text) for f in result.errors]


_ODD = [None, "", "x", "urn:uuid:nowhere", "female", "bogus-code", 0, True, [], {}, [{}], [None], ["x"],
        {"reference": "urn:uuid:nowhere"}, [{"reference": "urn:uuid:nowhere"}], {"use": "bogus"}, [{"use": "bogus"}],
        {"extension": [{"url": "u", "valueReference": {"reference": "urn:uuid:nowhere"}}]},
        {"resourceType": "Patient", "gender": "bogus", "managingOrganization": {"reference": "urn:oid:1.2"}}]
_ODD_KEYS = ["reference", "gender", "use", "status", "identifier", "managingOrganization", "subject", "_gender",
             "_status", "extension", "valueReference", "resource", "contained", "entry", "period", "resourceType"]


def _containers(value: object) -> list:
    """Every object and array in a JSON value."""
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers(item))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in _containers(item))]
    return []


def _rules_walked_alone(bundle: dict) -> list[tuple]:
    from medcom.formats.fhir.bundle_rules import BundleRules, walk
    rules = BundleRules(bundle)
    found: list[tuple] = []
    walk(bundle, "Bundle", (), rules.urls, found)
    return found


@pytest.mark.parametrize("seed", range(3))
def test_the_rules_asked_on_the_structure_walk_find_what_a_walk_of_their_own_finds(seed: int) -> None:
    """bundle_rules' references and codes, asked by the structure check's walk as it goes, against the same rules
    walked alone over the whole Bundle, on the examples with members set to odd values and shapes anywhere."""
    import copy
    import random

    from helpers.fhir import load

    from medcom.formats.fhir.bundle_rules import bundle_rules_of
    from medcom.formats.fhir.locations import LineMap
    from medcom.formats.fhir.structure import StructureCheck

    rng = random.Random(seed)
    originals = [load(p) for p in (ADMISSION, CARE_NEW, ACK_OK)]
    compared = found = 0
    for _ in range(200):
        bundle = copy.deepcopy(rng.choice(originals))
        for _ in range(rng.randint(2, 8)):
            node = rng.choice(_containers(bundle))
            if isinstance(node, dict):
                node[rng.choice(_ODD_KEYS + list(node))] = copy.deepcopy(rng.choice(_ODD))
            elif node:
                node[rng.randrange(len(node))] = copy.deepcopy(rng.choice(_ODD))
        rules = bundle_rules_of(bundle)
        if rules is None:
            continue
        StructureCheck("x", "Bundle", LineMap(), rules).resource(bundle, ())
        assert rules.found == _rules_walked_alone(bundle)
        compared += 1
        found += len(rules.found)
    assert compared > 150 and found > 20
    twin = copy.deepcopy(originals[0])  # a primitive's `_name` extensions are not the rules' to walk
    resource(twin, "Patient")["_gender"] = copy.deepcopy(_ODD[-2])
    resource(twin, "Patient")["gender"] = "bogus"
    rules = bundle_rules_of(twin)
    assert rules is not None
    StructureCheck("x", "Bundle", LineMap(), rules).resource(twin, ())
    assert rules.found == _rules_walked_alone(twin) and [f[2] for f in rules.found] == [F_BINDING]
