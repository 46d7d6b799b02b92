"""Remembered profile walks (medcom.formats.fhir.walks): a resource judged again from memory gets exactly the
findings, locations and lines a fresh walk gives, whatever came before; a copy that differs is walked again."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Callable, Iterator

import pytest
from helpers.fhir import ACK_OK, ADMISSION, CARE_NEW, entry_index, load, resource
from test_fhir_medcom_invariants import _bundles, _mutate

from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir import validator, walks
from medcom.formats.fhir.base_invariants import SHAPE_ONLY
from medcom.formats.fhir.medcom_invariants import VALUE_ONLY
from medcom.formats.fhir.validator import validate_resource


def _findings(bundle: dict) -> list[dict]:
    result = validate_resource(copy.deepcopy(bundle), "x")
    return [f.as_dict() for f in result.findings] + [f.as_dict() for f in result.unchecked]


def _fresh(bundle: dict) -> list[dict]:
    walks.forget()
    fp._MEMO.clear()
    return _findings(bundle)


def test_remembered_walks_give_the_findings_of_a_fresh_walk() -> None:
    rng = random.Random(7)
    bundles = _bundles()
    for _ in range(60):  # copies of the examples with a member changed: organisations, identifiers, ids
        bundle = copy.deepcopy(rng.choice(bundles))
        for _ in range(rng.randint(1, 3)):
            _mutate(bundle, rng)
        bundles.append(bundle)
    alone = [_fresh(b) for b in bundles]
    walks.forget()
    fp._MEMO.clear()
    hits = 0
    for bundle, expected in zip(reversed(bundles), reversed(alone), strict=True):
        before = len(walks._WALKS)
        assert _findings(bundle) == expected
        hits += len(walks._WALKS) == before
    assert walks._WALKS  # walks were remembered and replayed
    assert hits > 0


def _organisation(bundle: dict) -> dict:
    return resource(bundle, "Organization")


def test_an_organisation_that_differs_is_walked_again() -> None:
    bundle = load(ADMISSION)
    walks.forget()
    assert _findings(bundle) == _findings(copy.deepcopy(bundle))  # the second from memory
    assert walks._WALKS
    broken = copy.deepcopy(bundle)
    organisation = _organisation(broken)
    organisation["id"] = "renewed-id"  # a new id: the walk is remembered without it
    gln = next(i for i in organisation["identifier"] if i["value"].isdigit() and len(i["value"]) == 13)
    gln["value"] = gln["value"][:-1] + str((int(gln["value"][-1]) + 1) % 10)  # a wrong check digit
    found = _findings(broken)
    assert any("gln-modulus-10" in f["text"] for f in found)
    assert found == _fresh(broken)
    moved = copy.deepcopy(broken)  # the same broken organisation in another entry: its findings replayed there
    index = next(i for i, e in enumerate(moved["entry"]) if e["resource"]["resourceType"] == "Organization")
    moved["entry"].append(moved["entry"].pop(index))
    expected = _fresh(moved)
    _findings(broken)
    remembered = len(walks._WALKS)
    assert _findings(moved) == expected
    assert len(walks._WALKS) == remembered  # from memory
    assert any("gln-modulus-10" in f["text"] and f"entry[{len(moved['entry']) - 1}]" in str(f["xpath"])
               for f in expected)


def test_an_id_the_base_model_refuses_is_part_of_the_key() -> None:
    bundle = load(ADMISSION)
    walks.forget()
    _findings(bundle)
    odd = copy.deepcopy(bundle)
    _organisation(odd)["id"] = "not an id!"
    assert _findings(odd) == _fresh(odd)


def test_a_walk_that_judges_a_narrative_is_remembered_with_the_verdicts() -> None:
    """An organisation with a narrative is as local as one without: remembered with txt-1's and txt-2's answers (a
    function of the div alone), asked again for the next copy, whose narrative may break them where the first's
    did not."""
    bundle = load(CARE_NEW)
    div = _organisation(bundle)["text"]["div"]
    expected = _fresh(bundle)
    assert not any("txt-" in f["text"] for f in expected)
    walks.forget()
    _findings(bundle)
    assert any(key[0].endswith("medcom-messaging-organization") for key in walks._WALKS)
    remembered = len(walks._WALKS)
    assert _findings(copy.deepcopy(bundle)) == expected
    broken = copy.deepcopy(bundle)
    _organisation(broken)["text"]["div"] = div.replace("<p>", '<p onclick="x()">', 1)
    assert _findings(broken) == _fresh(broken)
    assert any(f["text"].startswith("txt-1:") for f in _findings(broken))
    assert len(walks._WALKS) == remembered  # the same walk, its verdict asked again


# --- walks of resources that refer to others: remembered with what their references resolve to -----------------


def _renewed(bundle: dict, salt: str) -> dict:
    """The Bundle as the next message of the log has it: every id, fullUrl and reference renewed (another uuid-like
    text), nothing else changed."""
    text = json.dumps(bundle)
    for ident in sorted({e["resource"]["id"] for e in bundle["entry"]}, key=len, reverse=True):
        text = text.replace(ident, hashlib.sha1((salt + ident).encode()).hexdigest()[:8] + ident[8:])
    return json.loads(text)


def _walked(bundle: dict) -> tuple[list[dict], int]:
    """(the findings, the walks remembered anew while validating it)."""
    before = walks._remembered
    found = _findings(bundle)
    return found, walks._remembered - before


def test_a_renewed_message_replays_its_header_and_encounter_walks() -> None:
    """The next message of a log (every id and reference renewed) is judged from memory: its header, encounter and
    provenance refer to others, and are remembered with what their references resolve to."""
    bundle = load(ADMISSION)
    walks.forget()
    _, first = _walked(bundle)
    assert first > 0
    renewed = _renewed(bundle, "next")
    assert renewed != bundle
    found, again = _walked(renewed)
    assert again == 0  # every walk from memory
    assert found == _fresh(renewed)
    keys = [key[0].rsplit("/", 1)[-1] for key in walks._WALKS]
    assert "medcom-hospitalNotification-messageHeader" in keys and "medcom-hospitalNotification-encounter" in keys


@pytest.mark.parametrize("path", [ADMISSION, CARE_NEW, ACK_OK], ids=lambda p: p.parent.name)
def test_a_renewed_message_walks_nothing_afresh_not_even_its_bundle(path: object,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The Bundle's own walk (Bundle-level invariants reading every entry, fullUrls, conformsTo() of the header and
    provenances) and a Communication's (its invariants resolve references) are remembered with their natives'
    answers: the next message of the log walks no profile afresh, and is judged as a fresh walk judges it."""
    walked: list[str] = []
    real = validator._Validation._check_resource

    def counted(self: object, resource: dict, *args: object) -> None:
        walked.append(str(resource.get("resourceType")))
        real(self, resource, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(validator._Validation, "_check_resource", counted)
    bundle = load(path)  # type: ignore[arg-type]
    walks.forget()
    _findings(bundle)
    assert "Bundle" in walked
    walked.clear()
    renewed = _renewed(bundle, "next")
    found = _findings(renewed)
    assert walked == []
    assert found == _fresh(renewed)


def _absolute(bundle: dict) -> dict:
    """The Bundle with each `Type/id` reference written as its target's fullUrl (found by it whatever the target's
    resourceType says)."""
    text = json.dumps(bundle)
    for entry in bundle["entry"]:
        relative = f'"{entry["resource"]["resourceType"]}/{entry["resource"]["id"]}"'
        text = text.replace(relative, json.dumps(entry["fullUrl"]))
    return json.loads(text)


def _retyped(bundle: dict, old: str, new: str) -> dict:
    """The Bundle with the resource of the entry of `old` a `new`."""
    changed = copy.deepcopy(bundle)
    changed["entry"][entry_index(changed, old)]["resource"]["resourceType"] = new
    return changed


@pytest.mark.parametrize(("kind", "new"), [("Encounter", "Observation"), ("Organization", "Practitioner"),
                                           ("Patient", "Group")])
def test_a_header_whose_targets_differ_gets_its_own_findings(kind: str, new: str) -> None:
    """Two messages with the same referring resources whose targets differ (another resource type at the same
    place): the second gets its own findings, not the first's; and the other way round."""
    bundle = _absolute(load(ADMISSION))
    broken = _retyped(bundle, kind, new)
    for first, second in ((bundle, broken), (broken, bundle)):
        expected = _fresh(second)
        walks.forget()
        fp._MEMO.clear()
        _findings(first)
        assert _findings(second) == expected
    assert any("the reference points at a " + new in f["text"] for f in _fresh(broken))


def test_a_target_elsewhere_in_the_bundle_is_expected_to_conform_there() -> None:
    """The same header whose focus resolves to an entry at another place: the Encounter profile is expected of
    that entry (its findings at its own place), not of the entry the remembered walk pointed at."""
    bundle = load(ADMISSION)
    moved = copy.deepcopy(bundle)
    index = entry_index(moved, "Encounter")
    encounter = moved["entry"].pop(index)
    encounter["resource"].pop("status")  # a finding at the Encounter, wherever it is
    moved["entry"].append(encounter)
    expected = _fresh(moved)
    assert any(f"entry[{len(moved['entry']) - 1}]" in str(f["xpath"]) and "status" in f["text"] for f in expected)
    walks.forget()
    fp._MEMO.clear()
    _findings(bundle)
    assert _findings(moved) == expected


def test_a_target_that_is_not_there_is_not_taken_from_memory() -> None:
    """A reference that resolved in the remembered message and resolves to nothing in this one (the target left
    out of the Bundle), and one that resolves now where it did not."""
    bundle = load(ADMISSION)
    header = resource(bundle, "MessageHeader")
    missing = copy.deepcopy(bundle)
    del missing["entry"][entry_index(missing, "Encounter")]
    for first, second in ((bundle, missing), (missing, bundle)):
        expected = _fresh(second)
        walks.forget()
        fp._MEMO.clear()
        _findings(first)
        assert _findings(second) == expected
    assert header["focus"]


def test_a_value_read_by_its_text_that_differs_is_walked_again() -> None:
    """Same shape, one string the walk judges by its text changed (the event code: a pattern and a binding): the
    walk is not replayed; a string it does not judge (the narrative's status is bound, the source endpoint is
    not) changes nothing."""
    bundle = load(ADMISSION)
    walks.forget()
    _findings(bundle)
    wrong = copy.deepcopy(bundle)
    resource(wrong, "MessageHeader")["eventCoding"]["code"] = "care-communication-message"
    found, again = _walked(wrong)
    assert again > 0
    assert found == _fresh(wrong)
    assert any("care-communication-message" in f["text"] for f in found)
    walks.forget()
    _findings(bundle)
    elsewhere = copy.deepcopy(bundle)
    resource(elsewhere, "MessageHeader")["source"]["endpoint"] = "https://example.org/another-endpoint"
    found, again = _walked(elsewhere)
    assert again == 0
    assert found == _fresh(elsewhere)


def test_a_reference_inside_a_value_read_whole_still_resolves_afresh() -> None:
    """A destination is read whole (its slices are told apart by value) and holds the receiver's Reference: the
    receiver's target is still asked of each Bundle (an earlier version left it out as inside a value read)."""
    bundle = _absolute(load(CARE_NEW))
    receiver = resource(bundle, "MessageHeader")["destination"][0]["receiver"]["reference"]
    broken = copy.deepcopy(bundle)
    next(e for e in broken["entry"] if e["fullUrl"] == receiver)["resource"]["resourceType"] = "Practitioner"
    expected = _fresh(broken)
    assert any("destination[0].receiver" in str(f["xpath"]) for f in expected)
    walks.forget()
    fp._MEMO.clear()
    _findings(bundle)
    assert _findings(broken) == expected


def _shape_changes(value: object) -> Iterator[object]:
    """Copies of `value` with every non-empty string but a resourceType changed to another non-empty string."""
    def changed(item: object, text: Callable[[str], str]) -> object:
        if isinstance(item, dict):
            return {k: v if k == "resourceType" else changed(v, text) for k, v in item.items()}
        if isinstance(item, list):
            return [changed(v, text) for v in item]
        return text(item) if isinstance(item, str) and item else item
    yield changed(value, lambda s: s + "x")
    yield changed(value, lambda s: "x")
    yield changed(value, lambda s: s[::-1])


def _objects(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def test_shape_only_natives_read_no_string_by_its_text() -> None:
    """base_invariants.SHAPE_ONLY: each such native answers the same for every value of the examples and copies of
    it with every other string changed (a remembered walk records nothing of what they read)."""
    assert SHAPE_ONLY
    asked = 0
    for bundle in _bundles()[:60]:
        for value in _objects(bundle):
            if not isinstance(value, dict):
                continue
            for native in SHAPE_ONLY:
                answer = native(value, value, None)
                for other in _shape_changes(value):
                    assert native(other, other, None) == answer, (native.__name__, value)
                    asked += 1
    assert asked > 1000


def test_a_patient_with_another_cpr_number_is_judged_from_memory() -> None:
    """A CPR number differs in every message: the patient's walk records the dk-core pattern's answer, not the
    number (medcom_invariants.VALUE_ONLY), so the next patient is judged from memory; a number the pattern refuses
    is walked again and reported as a fresh walk reports it."""
    bundle = load(ADMISSION)
    walks.forget()
    fp._MEMO.clear()
    _, first = _walked(bundle)
    assert first > 0
    cpr = resource(bundle, "Patient")["identifier"][0]["value"]
    other = copy.deepcopy(bundle)
    resource(other, "Patient")["identifier"][0]["value"] = cpr[:6] + str((int(cpr[6:]) + 1) % 10_000).zfill(4)
    expected = _fresh(other)
    walks.forget()
    fp._MEMO.clear()
    _findings(bundle)
    found, again = _walked(other)
    assert again == 0  # from memory
    assert found == expected
    refused = copy.deepcopy(bundle)
    resource(refused, "Patient")["identifier"][0]["value"] = "32" + cpr[2:]  # no 32nd day
    expected = _fresh(refused)
    assert any(f["rule"] == "F-INVARIANT" and f["text"].startswith("cpr:") for f in expected)
    walks.forget()
    fp._MEMO.clear()
    _findings(bundle)
    found, again = _walked(refused)
    assert again > 0 and found == expected


def test_value_only_natives_answer_by_the_value_alone() -> None:
    """medcom_invariants.VALUE_ONLY: a remembered walk asks these again on the next resource with no Bundle and no
    validation, so each must answer every value of the examples (and its copies with other strings) the same with
    another resource and without a session."""
    for bundle in _bundles()[:60]:
        validate_resource(copy.deepcopy(bundle), "x")  # the profiles' `matches()` natives made
    assert len(VALUE_ONLY) > 2
    asked, answers = 0, set()
    for bundle in _bundles()[:60]:
        for value in _objects(bundle):
            for native in VALUE_ONLY:
                for other in (value, *_shape_changes(value)):
                    answer = native(other, bundle, _Session())
                    assert native(other, {}, None) is answer or native(other, {}, None) == answer
                    answers.add(answer if isinstance(answer, bool) else "asked")
                    asked += 1
    assert asked > 1000 and answers == {True, False, "asked"}


class _Session:
    """A validation that must not be asked: a value-only native reads nothing but its value."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a value-only native asked the validation for {name}")


def test_a_decimal_is_keyed_and_compared_by_its_written_form() -> None:
    """medcom reads FHIR numbers as Decimal: 1.0 and 1.00 are equal Decimals but not the same FHIR value, so a walk
    remembered for one is not the other's (a profile may judge a decimal's precision)."""
    from decimal import Decimal

    from medcom.formats.fhir import walks

    one, two = {"value": Decimal("1.0")}, {"value": Decimal("1.00")}
    assert walks.shape(one) != walks.shape(two) and walks.snapshot(one) != walks.snapshot(two)
    assert walks.shape(one) == walks.shape({"value": Decimal("1.0")})
    assert walks.shape({"value": 1}) != walks.shape({"value": Decimal("1")})


@pytest.mark.parametrize("expression", ["birthDate <= today()", "period.start < now()", "timeOfDay() > @T08:00"])
def test_a_walk_that_asks_the_clock_is_not_remembered(expression: str) -> None:
    """An invariant's verdict that depends on when it is asked (now(), today(), timeOfDay()) must not be replayed
    for a later resource: the walk that read it is not local. No shipped profile has one; a future IG may."""
    from test_fhir_medcom_invariants import _session

    run = _session(load(ADMISSION))
    patient = {"resourceType": "Patient", "birthDate": "1950-01-01"}
    run._recording, run._local = ((), [], {}, patient), True
    run.read_fhirpath("birthDate.exists()", patient, ())
    assert run._local
    run.read_fhirpath(expression, patient, ())
    assert not run._local


def test_a_primitive_given_only_as_its_twin_is_judged_again_without_a_traceback() -> None:
    """A required primitive given only by its `_name` twin (Encounter.status as `_status` with an extension: FHIR
    allows it) is read by the walk at `status`, where nothing is: the second such message replayed the first's walk
    and looked for `status` (a KeyError traceback from `medcom validate` on two such files). Such a walk is not
    remembered; every copy gets the fresh walk's findings."""
    bundle = load(ADMISSION)
    encounter = resource(bundle, "Encounter")
    del encounter["status"]
    encounter["_status"] = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}
    fresh = _fresh(bundle)
    assert [_findings(bundle) for _ in range(3)] == [fresh] * 3


@pytest.mark.parametrize("path", [ADMISSION, CARE_NEW, ACK_OK], ids=["notification", "communication", "ack"])
@pytest.mark.parametrize("odd", [["X"], {"x": 1}, 7], ids=["list", "object", "number"])
def test_a_target_whose_resource_type_is_not_a_string_is_judged_not_a_traceback(path: object, odd: object) -> None:
    """A broken message may give any JSON as an entry's resourceType. A reference resolving to such an entry was
    recorded as it stood, and a list made the remembered walk's key unhashable: `medcom validate` ended in a
    TypeError. Each entry in turn gets it (its own name in a list, an object, a number), with the relative fullUrl
    the references name (so they still resolve to it); judged fresh, then again from memory: the same findings."""
    base = load(path)  # type: ignore[arg-type]
    for index, entry in enumerate(base["entry"]):
        bundle = copy.deepcopy(base)
        kind = entry["resource"]["resourceType"]
        bundle["entry"][index]["resource"]["resourceType"] = [kind] if odd == ["X"] else odd
        bundle["entry"][index]["fullUrl"] = f"{kind}/{entry['resource']['id']}"  # references still find it
        expected = _fresh(bundle)
        assert expected  # the broken entry is reported
        assert _findings(bundle) == expected
        assert _findings(copy.deepcopy(bundle)) == expected
