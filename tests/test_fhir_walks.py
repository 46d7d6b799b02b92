"""Remembered profile walks (medcom.formats.fhir.walks): a resource judged again from memory gets exactly the
findings, locations and lines a fresh walk gives, whatever came before; a copy that differs is walked again."""

from __future__ import annotations

import copy
import random

from helpers.fhir import ADMISSION, CARE_NEW, load, resource
from test_fhir_medcom_invariants import _bundles, _mutate

from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir import walks
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


def test_a_walk_that_counts_what_it_cannot_check_is_remembered_with_the_counts() -> None:
    """An organisation with a narrative (txt-1 and txt-2 cannot be evaluated here: counted, at no location) is as
    local as one without: remembered, and its counts replayed for the next copy."""
    bundle = load(CARE_NEW)
    assert "text" in _organisation(bundle)
    expected = _fresh(bundle)
    assert any("txt-1" in f["text"] for f in expected)
    walks.forget()
    _findings(bundle)
    assert any(key[0].endswith("medcom-messaging-organization") for key in walks._WALKS)
    remembered = len(walks._WALKS)
    assert _findings(copy.deepcopy(bundle)) == expected  # the counts replayed
    assert len(walks._WALKS) == remembered  # from memory
