"""The Python shortcuts for MedCom's invariants (medcom.formats.fhir.medcom_invariants) give exactly what
fhirpathpy gives, conformsTo() answered by the same validation: on the example Bundles of every shipped IG version
and on thousands of mutations of them aimed at what the shortcuts read."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from helpers.fhir import DATA

from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, UNEVALUABLE
from medcom.formats.fhir.igpackages import context, example_bundles, newest, package, shipped
from medcom.formats.fhir.jsonread import read_json
from medcom.formats.fhir.locations import LineMap
from medcom.formats.fhir.medcom_invariants import MEDCOM, native
from medcom.formats.fhir.validator import _Validation, candidate_versions, message_profile

EXAMPLES = sorted([*DATA.rglob("*.json"), *(Path(__file__).parent.parent / "examples" / "log").glob("*.json")])
_VALUE_LEVEL = {"gln-modulus-10", "CVR-modulus-11"}
_RESOURCE_LEVEL = {"medcom-careCommunication-7": "Communication", "medcom-careCommunication-8": "Communication",
                   "medcom-careCommunication-9": "Communication", "medcom-careCommunication-15": "Communication",
                   "dk-core-organization-mandatory-identifier": "Organization"}  # of a resource, not the Bundle


def _bundles() -> list[dict]:
    """Each distinct Bundle once (159 files, 127 distinct: IG versions ship the same examples again)."""
    found: dict[str, dict] = {}
    raws = [p.read_bytes() for p in EXAMPLES] + list(example_bundles(every_version=True).values())
    for raw in raws:
        try:
            value, _ = read_json(raw, max_bytes=10_000_000)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            found.setdefault(json.dumps(value), value)
    return list(found.values())


def _session(bundle: dict) -> _Validation:
    """The validation that judges the Bundle (its declared or newest IG version), as the validator makes it."""
    profile = message_profile(bundle) if isinstance(bundle.get("entry", []), list) else None
    label = newest("medcom.fhir.dk.carecommunication")
    if profile is not None:
        ig, versions, _ = candidate_versions(bundle, profile)
        label = f"{ig}#{versions[0]}"
    judge = context(label or "")
    assert judge is not None
    return _Validation(bundle, "x", LineMap(), judge)


def _resources_of(bundle: dict, kind: str) -> list[dict]:
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == kind]


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _disagreements(bundle: dict) -> tuple[list[str], int]:
    """Every shortcut on the Bundle (the value-level ones on each string in it) against fhirpathpy; how many
    answered without fhirpathpy."""
    try:
        session = _session(bundle)
    except (AttributeError, TypeError, KeyError, IndexError):
        return [], 0  # a shape the validator's own message_profile does not read: the structure check's
    found, answered = [], 0
    for (key, expression), shortcut in MEDCOM.items():
        values = [(s, "string") for s in _strings(bundle) if s.isdigit()] if key in _VALUE_LEVEL else [
            (r, _RESOURCE_LEVEL[key]) for r in _resources_of(bundle, _RESOURCE_LEVEL[key])] \
            if key in _RESOURCE_LEVEL else [(bundle, "Bundle")]
        for value, type_path in values:
            answer = shortcut(value, bundle, session)
            if answer is ASK_FHIRPATH:
                continue
            answered += 1
            expected = fp._evaluate(expression, value, type_path, bundle, session)
            got = None if answer is UNEVALUABLE else answer
            if got != expected:
                found.append(f"{key} on {json.dumps(value, default=str)[:200]}: {got} != {expected}")
    return found, answered


def test_every_shortcut_is_for_an_expression_medcom_ships() -> None:
    shipped_expressions = set()
    for name, versions in shipped().items():
        for version in versions:
            loaded = package(f"{name}#{version}")
            assert loaded is not None
            shipped_expressions |= {(c["key"], c.get("expression")) for d in loaded.structure_definitions.values()
                                    for e in d.get("snapshot", {}).get("element", []) for c in e.get("constraint", [])}
    assert set(MEDCOM) <= shipped_expressions
    for (key, expression), shortcut in MEDCOM.items():
        assert native(key, expression) is shortcut
        assert native(key, expression + " ") is None


def test_shortcuts_agree_with_fhirpathpy_on_the_examples() -> None:
    bundles = _bundles()
    assert len(bundles) >= 40
    answered = 0
    for bundle in bundles:
        disagreements, count = _disagreements(bundle)
        assert disagreements == []
        answered += count
    assert answered > 20 * len(bundles)  # the shortcuts answer for the examples' plain shapes


_KEYS = ["entry", "resource", "resourceType", "response", "code", "_code", "identifier", "_identifier", "system",
         "recipient", "payload", "valueReference", "url", "_url", "encounter", "episodeOfCare", "coding", "text",
         "_reference",
         "_system", "destination", "extension", "valueCoding", "valueString", "_valueCoding", "practitioner",
         "reference", "name", "_name", "meta", "_meta", "profile", "_profile", "type", "_resource", "fullUrl"]
_VALUES = [None, "", "x", "ok", "primary", "error", "urn:oid:1.2.208.176.1.2", 0, True, [], {}, [{}], [None],
           {"code": "ok"}, {"code": "primary"}, {"code": 1}, {"reference": "x"},
           [{"system": "urn:oid:1.2.208.176.1.2"}],
           [{"system": "s"}, {"system": "urn:oid:1.2.208.176.1.2"}], {"profile": ["a", "b"]}, {"profile": []},
           {"profile": ["http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-"
                        "provenance"]}, [{"url": "u", "valueCoding": {"code": "primary"}}], [{"family": "F"}],
           "Patient", "MessageHeader", "Provenance", "OperationOutcome", "Practitioner", "PractitionerRole",
           "message", "urn:oid:1.2.208.176.1.1", "https://kombit.dk/sts/organisation",
           "5790000121526", "5790000121527", "12345674", "12345675", {"resourceType": "Patient"}]


def _mutate(bundle: dict, rng: random.Random) -> None:
    """One change where the shortcuts look: an entry repeated, dropped or moved, a resource's type changed, a
    member set to an odd value or removed, a digit changed, anywhere in the Bundle."""
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    roll = rng.random()
    if entries and roll < 0.15:
        entries.append(copy.deepcopy(rng.choice(entries)))
        return
    if entries and roll < 0.25:
        entries.insert(rng.randrange(len(entries)), entries.pop(rng.randrange(len(entries))))
        return
    targets: list[object] = []

    def walk(x: object) -> None:
        if isinstance(x, dict | list):
            targets.append(x)
            for item in x.values() if isinstance(x, dict) else x:
                walk(item)

    walk(bundle)
    node = rng.choice(targets)
    if isinstance(node, dict):
        digits = [k for k, v in node.items() if isinstance(v, str) and v.isdigit()]
        if digits and rng.random() < 0.2:
            key = rng.choice(digits)
            position = rng.randrange(len(node[key]))
            node[key] = node[key][:position] + str(rng.randrange(10)) + node[key][position + 1:]
        elif node and rng.random() < 0.3:
            del node[rng.choice(list(node))]
        else:
            node[rng.choice(_KEYS)] = copy.deepcopy(rng.choice(_VALUES))
    elif isinstance(node, list) and node and rng.random() < 0.4:
        node.pop(rng.randrange(len(node)))
    elif isinstance(node, list):
        node.append(copy.deepcopy(rng.choice(_VALUES)))


@pytest.mark.parametrize("seed", range(4))
def test_shortcuts_agree_with_fhirpathpy_on_mutations(seed: int) -> None:
    rng = random.Random(seed)
    bundles = _bundles()
    disagreements: list[str] = []
    answered = 0
    for _ in range(120):
        bundle = copy.deepcopy(rng.choice(bundles))
        for _ in range(rng.randint(1, 3)):
            _mutate(bundle, rng)
        found, count = _disagreements(bundle)
        disagreements += found
        answered += count
    assert disagreements == []
    assert answered > 1000


_PRACTITIONER_EXTENSION = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension"


def _communication_members(bundle: dict) -> list[dict]:
    """Copies of a Bundle whose Communication names a sender (an extension's valueReference) or a recipient: the
    message's own sender or receiver organisation, another entry, a reference to nothing, an odd value."""
    entries = bundle["entry"]
    communication = next(i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "Communication")
    header = entries[0]["resource"]
    targets = [e["fullUrl"] for e in entries if isinstance(e.get("fullUrl"), str)]
    references = [*targets, header.get("sender", {}).get("reference"), "urn:uuid:nothing", 7]
    copies = []
    for reference in references:
        sender = [{"url": _PRACTITIONER_EXTENSION, "valueReference": {"reference": reference}}]
        for member, value in (("extension", sender), ("recipient", [{"reference": reference}]), ("extension", []),
                              ("_recipient", {})):
            # copied down the path that changes, the rest shared (nothing here writes to it; a deep copy of each
            # was a quarter of the test's time)
            changed = {**bundle, "entry": list(entries)}
            entry = entries[communication]
            changed["entry"][communication] = {**entry, "resource": {**entry["resource"], member: value}}
            copies.append(changed)
    return copies


def test_care_communication_sender_and_recipient_shortcuts_agree_with_fhirpathpy() -> None:
    """medcom-careCommunication-11 and -12 where a Communication names a sender or recipient: the shortcut leaves
    it to fhirpathpy (it fails when the shortcut answers true all the same)."""
    cares = [b for b in _bundles() if any(e.get("resource", {}).get("resourceType") == "Communication"
                                          for e in b.get("entry", []))]
    assert len(cares) >= 10
    shortcuts = [(k, e, s) for (k, e), s in MEDCOM.items() if k in ("medcom-careCommunication-11",
                                                                     "medcom-careCommunication-12")]
    assert len(shortcuts) == 4
    disagreements, answered = [], 0
    for bundle in cares:
        for changed in [bundle, *_communication_members(bundle)]:
            session = _session(changed)
            for key, expression, shortcut in shortcuts:
                answer = shortcut(changed, changed, session)
                if answer is ASK_FHIRPATH:
                    continue
                answered += 1
                expected = fp._evaluate(expression, changed, "Bundle", changed, session)
                if answer != expected:
                    disagreements.append(f"{key} on {json.dumps(changed)[:200]}: {answer} != {expected}")
    assert disagreements == []
    assert answered >= 4 * len(cares)  # the examples (and the copies with an empty extension list) are answered


def _shipped_matches() -> list[tuple[str, str]]:
    found = set()
    for name, versions in shipped().items():
        for version in versions:
            loaded = package(f"{name}#{version}")
            assert loaded is not None
            found |= {(c["key"], c["expression"]) for d in loaded.structure_definitions.values()
                      for e in d.get("snapshot", {}).get("element", []) for c in e.get("constraint", [])
                      if "matches(" in c.get("expression", "") and (c["key"], c["expression"]) not in MEDCOM}
    return sorted(found)


def test_matches_shortcuts_agree_with_fhirpathpy_on_every_string() -> None:
    """Each shipped `matches()` invariant a shortcut answers, on every string of the examples and on odd ones (a
    newline, non-ASCII digits, a CPR with its check digits changed)."""
    shortcuts = [(k, e, native(k, e)) for k, e in _shipped_matches() if native(k, e) is not None]
    assert len(shortcuts) >= 8  # CPR, GLN, CVR, SOR, uuids
    strings = {s for b in _bundles() for s in _strings(b)}
    rng = random.Random(3)
    strings |= {"0101701234\n", "٠١٠١٧٠١٢٣٤", "3102001234", "2902001234", "2902011234", "urn:uuid:" + "a" * 36,
                "x\ny", " 5790000121526", "5790000121526 ", "x urn:uuid:0c1b6c5b-5f3c-4d5e-8a3b-1f2e3d4c5b6a-y"}
    strings |= {"".join(rng.choice("0123456789") for _ in range(rng.choice((8, 10, 11, 13, 15)))) for _ in range(300)}
    session = _session(_bundles()[0])
    disagreements = []
    for key, expression, shortcut in shortcuts:
        for text in sorted(strings):
            answer = shortcut(text, {}, session)  # type: ignore[misc]
            if answer is ASK_FHIRPATH:
                continue
            expected = fp._evaluate(expression, text, "string", {}, session)
            if answer != expected:
                disagreements.append(f"{key} on {text!r}: {answer} != {expected}")
    assert disagreements == []


def _sender_and_encounter(bundle: dict) -> list[dict]:
    """Copies of a CareCommunication whose Communication's sender (the practitioner extension), the role and
    practitioner it leads to, and the encounter and its episode of care are each changed in the ways the shortcuts
    of medcom-careCommunication-7, -8 and -9 tell apart: another entry, nothing, coded or text or both, no name,
    no identifier, odd shapes."""
    entries = bundle["entry"]
    urls = [e["fullUrl"] for e in entries if isinstance(e.get("fullUrl"), str)]
    kinds = {e["resource"]["resourceType"]: e["resource"] for e in entries}
    communication, role, encounter = kinds.get("Communication"), kinds.get("PractitionerRole"), kinds.get("Encounter")
    person = kinds.get("Practitioner")
    if communication is None:
        return []
    changes: list = []
    for reference in [*urls, "urn:uuid:nothing", 7, ""]:
        sender = {"url": _PRACTITIONER_EXTENSION, "valueReference": {"reference": reference}}
        changes += [("Communication", "payload", [{"extension": [sender], "contentString": "x"}]),
                    ("Communication", "payload", [{"extension": [sender, dict(sender)], "contentString": "x"},
                                                  {"contentString": "y"}]),
                    ("Communication", "encounter", {"reference": reference}),
                    ("Communication", "payload", [{"extension": [{"url": "http://example.org/other", "valueReference":
                                                                  {"reference": reference}}], "contentString": "x"}])]
    odd_sender = [{"url": _PRACTITIONER_EXTENSION, "valueString": "x"}, {"url": _PRACTITIONER_EXTENSION},
                  {"valueReference": {"reference": urls[0]}},
                  {"url": _PRACTITIONER_EXTENSION, "valueReference": {"reference": urls[0]}, "_valueString": {}}]
    changes += [("Communication", "payload", [{"extension": [e], "contentString": "x"}]) for e in odd_sender]
    changes += [("Communication", "payload", []), ("Communication", "payload", {"contentString": "x"}),
                ("Communication", "encounter", {}), ("Communication", "_encounter", {"id": "x"}),
                ("Communication", "encounter", None), ("Communication", "encounter", {"display": "no reference"})]
    for code in ([{"coding": [{"code": "x", "system": "s"}]}], [{"text": "t"}],
                 [{"coding": [{"code": "x"}], "text": "t"}], [{"coding": [{"system": "s"}]}], [], [{}], {"text": "t"},
                 [{"coding": [{"code": ""}]}], [{"coding": [{"_code": {"id": "a"}}]}], None):
        changes.append(("PractitionerRole", "code", code))
    for practitioner in ({"reference": urls[-1]}, {"reference": "urn:uuid:nothing"}, {}, [{"reference": "x"}], None):
        changes.append(("PractitionerRole", "practitioner", practitioner))
    for name in ([{"family": "F"}], [], None, {"family": "F"}, [{}]):
        changes.append(("Practitioner", "name", name))
    for episodes in ([{"identifier": {"value": "1"}}], [{"reference": "x"}], [{"identifier": {}}], [], None,
                     {"identifier": {"value": "1"}}, [{"identifier": [{"value": "1"}]}]):
        changes.append(("Encounter", "episodeOfCare", episodes))
    copies = []
    targets = {"Communication": communication, "PractitionerRole": role, "Practitioner": person,
               "Encounter": encounter}
    for kind, member, value in changes:
        if targets[kind] is None:
            continue
        changed = copy.deepcopy(bundle)
        target = next(e["resource"] for e in changed["entry"] if e["resource"]["resourceType"] == kind)
        if value is None:
            target.pop(member, None)
        else:
            target[member] = copy.deepcopy(value)
        copies.append(changed)
    return copies


def test_care_communication_sender_and_encounter_shortcuts_agree_with_fhirpathpy() -> None:
    """medcom-careCommunication-7 (5.0), -8, -9 and -15, invariants of the Communication (the first three resolve
    references in the Bundle), on the examples and on copies changing what they read; the shortcuts answer for
    most of them."""
    cares = [b for b in _bundles() if _resources_of(b, "Communication")]
    shortcuts = [(k, e, s) for (k, e), s in MEDCOM.items() if _RESOURCE_LEVEL.get(k) == "Communication"]
    assert len(shortcuts) == 4  # -7 (5.0), -8, -9, -15
    disagreements, answered, asked, verdicts = [], 0, 0, set()
    for bundle in cares:
        for changed in [bundle, *_sender_and_encounter(bundle)]:
            session = _session(changed)
            for communication in _resources_of(changed, "Communication"):
                for key, expression, shortcut in shortcuts:
                    answer = shortcut(communication, communication, session)
                    if answer is ASK_FHIRPATH:
                        asked += 1
                        continue
                    answered += 1
                    verdicts.add((key, answer))
                    expected = fp._evaluate(expression, communication, "Communication", communication, session)
                    if answer != expected:
                        disagreements.append(f"{key} on {json.dumps(communication)[:300]}: {answer} != {expected}")
    assert disagreements == []
    assert answered > 5 * asked  # the shortcuts answer for the plain shapes, which are most
    assert verdicts == {(k, v) for k, _, _ in shortcuts for v in (True, False)}  # each shortcut both ways


def test_a_bundle_read_once_per_validation_gives_the_answers_of_one_read_each_time() -> None:
    """The Bundle-level shortcuts (FHIR's and MedCom's) read the Bundle's entries once per validation
    (base_invariants.remembered): in turn on one validation, they answer as when each reads it afresh, on the
    examples and on mutations of them."""
    from medcom.formats.fhir.base_invariants import NATIVE

    rng = random.Random(11)
    bundles = _bundles()
    for _ in range(60):
        bundle = copy.deepcopy(rng.choice(bundles))
        _mutate(bundle, rng)
        bundles.append(bundle)
    shortcuts = [s for (k, _), s in [*NATIVE.items(), *MEDCOM.items()]
                 if k.startswith(("bdl-", "medcom-")) and k not in _RESOURCE_LEVEL and k not in ("bdl-5", "bdl-8")]
    answered = 0
    for bundle in bundles:
        try:
            remembering, afresh = _session(bundle), _session(bundle)
        except (AttributeError, TypeError, KeyError, IndexError):
            continue
        afresh.shapes = None  # type: ignore[assignment]
        for shortcut in shortcuts:
            answer = shortcut(bundle, bundle, remembering)
            assert answer == shortcut(bundle, bundle, afresh)
            answered += answer is not ASK_FHIRPATH
        assert remembering.shapes
    assert answered > 10 * len(bundles)


def _with_values(bundles: list[dict]) -> list[dict]:
    """Every element object of the examples with a `value` member, and copies with it changed: odd strings, no
    string, a `_value` twin, the member gone."""
    found: list[dict] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "value" in value and "resourceType" not in value:
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for bundle in bundles:
        walk(bundle)
    changed = []
    for element in found[:200]:
        for other in ("", "x\ny", "urn:uuid:" + "a" * 36, 7, None, {"x": 1}):
            changed.append({**element, "value": other})
        changed.append({**element, "_value": {"extension": []}})
        changed.append({k: v for k, v in element.items() if k != "value"})
    return found + changed


def test_value_matches_shortcuts_agree_with_fhirpathpy_on_elements() -> None:
    """`value.matches(...)` on an element (an Identifier: MedCom's uuid invariants), answered from its `value`
    string, as fhirpathpy answers on every element of the examples and changed copies."""
    shortcuts = [(k, e, native(k, e)) for k, e in _shipped_matches()
                 if e.startswith("value.") and native(k, e) is not None]
    assert any(k == "medcom-uuidv4" for k, _, _ in shortcuts)
    session = _session(_bundles()[0])
    disagreements, answered = [], 0
    for element in _with_values(_bundles()):
        for key, expression, shortcut in shortcuts:
            answer = shortcut(element, {}, session)  # type: ignore[misc]
            if answer is ASK_FHIRPATH:
                continue
            answered += 1
            expected = fp._evaluate(expression, element, "Identifier", {}, session)
            if answer != expected:
                disagreements.append(f"{key} on {element!r}: {answer} != {expected}")
    assert disagreements == []
    assert answered > 500


_CODING = {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"}
_VARIANTS = {  # member -> values it is set to (None: removed), one member or two at a time, on each example resource
    "Patient": {"maritalStatus": [None, {}, [], {"text": "x"}, {"coding": []}, {"coding": [{}]},
                                  *({"coding": codings} for codings in (
                                      [{**_CODING, "code": "P"}], [{**_CODING, "code": "A"}],
                                      [{**_CODING, "code": "P"}, {**_CODING, "code": "A"}],
                                      [{**_CODING, "code": "A"}, {"code": "P"}],
                                      [{**_CODING, "code": "P"}, {"system": "x", "code": "A"}],
                                      [{**_CODING, "code": "P"}, {**_CODING, "code": "A", "_code": {}}],
                                      [{**_CODING, "code": "P"}, {**_CODING, "code": 1}],
                                      [{**_CODING, "code": "P"}, {**_CODING, "code": ""}]))],
                "_maritalStatus": [None, {}]},
    "Encounter": {"status": [None, "onleave", "finished", "in-progress", "", 1, ["onleave"]],
                  "_status": [None, {}],
                  "extension": [None, [], [{}], [{"url": "u"}], [{"url": "u", "valuePeriod": {}}],
                                [{"url": "u", "valuePeriod": {"start": "2024-01-01"}}],
                                [{"url": "u", "valuePeriod": {"end": "2024-01-01"}}],
                                [{"url": "u", "valuePeriod": {"start": ""}}],
                                [{"url": "u", "valuePeriod": {"_start": {}}}],
                                [{"url": "u", "valueString": "x"}, {"url": "v", "valuePeriod": {"start": "2024"}}],
                                [{"url": "u", "valuePeriod": [{"start": "2024"}]}],
                                [{"url": "u", "valueFoo": {"start": "2024"}}],
                                [{"url": "u", "_valuePeriod": {}}]]},
    "Communication": {"category": [None, [], [{}], [{"coding": []}], [{"coding": [{"code": "other"}]}],
                                   [{"coding": [{"code": "regarding-referral"}]}],
                                   [{"coding": [{"code": "carecoordination"}]}],
                                   [{"coding": [{"code": "other"}, {"code": "other"}]}],
                                   [{"coding": [{"code": "other"}]}, {"coding": [{"code": "x"}]}],
                                   [{"coding": [{"system": "s"}]}], [{"coding": [{"code": "other", "_code": {}}]}],
                                   [{"text": "t"}], {"coding": [{"code": "other"}]}],
                      "priority": [None, "routine", "", ["routine"]], "_priority": [None, {}],
                      "topic": [None, {"text": "t"}, {}, [{"text": "t"}]], "_topic": [None, {}]},
}
_NEW_SHORTCUTS = {"marital-status-unknown-usage": "Patient", "medcom-hospitalNotification-6": "Encounter",
                  "medcom-careCommunication-5": "Communication", "medcom-careCommunication-6": "Communication"}


def _variants(resource: dict) -> list[dict]:
    members = _VARIANTS[resource["resourceType"]]
    found = []
    pairs = [((a, x),) for a in members for x in members[a]] + [
        ((a, x), (b, y)) for a in members for b in members if a < b for x in members[a] for y in members[b]]
    for changes in pairs:
        changed = dict(resource)
        for member, value in changes:
            changed.pop(member, None)
            if value is not None:
                changed[member] = copy.deepcopy(value)
        found.append(changed)
    return found


def test_resource_shortcuts_agree_with_fhirpathpy_on_variants() -> None:
    """marital-status-unknown-usage, medcom-hospitalNotification-6 and medcom-careCommunication-5 and -6 (the
    invariants of a MedCom message that only fhirpathpy answered, which a replay imported and parsed them for) on
    every example resource they apply to, with their members set to plain and odd values, alone and in pairs."""
    shortcuts = [(k, e, s, _NEW_SHORTCUTS[k]) for (k, e), s in MEDCOM.items() if k in _NEW_SHORTCUTS]
    assert len(shortcuts) == 4
    disagreements, answered, asked = [], 0, 0
    seen: set[str] = set()
    for bundle in _bundles():
        session = _session(bundle)
        for key, expression, shortcut, kind in shortcuts:
            for resource in _resources_of(bundle, kind):
                if json.dumps([key, resource]) in seen:
                    continue
                seen.add(json.dumps([key, resource]))
                for changed in [resource, *_variants(resource)]:
                    answer = shortcut(changed, bundle, session)
                    if answer is ASK_FHIRPATH:
                        asked += 1
                        continue
                    answered += 1
                    expected = fp._evaluate(expression, changed, kind, bundle, session)
                    if answer != expected:
                        disagreements.append(f"{key} on {json.dumps(changed)[:300]}: {answer} != {expected}")
    assert disagreements == []
    assert answered > 1000 and asked > 100
