"""The Python shortcuts for FHIR's base invariants (medcom.formats.fhir.base_invariants) and the remembered
verdicts of local FHIRPath invariants give exactly what fhirpathpy gives: on every element of the shipped example
Bundles, and on thousands of mutations of them aimed at the shapes the shortcuts read."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from helpers.fhir import DATA

from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, NATIVE, UNEVALUABLE, native
from medcom.formats.fhir.jsonread import read_json
from medcom.formats.fhir.validator import validate_resource

EXAMPLES = sorted([*DATA.rglob("*.json"), *(Path(__file__).parent.parent / "examples" / "log").glob("*.json")])
_DOM = [k for k in NATIVE if k[0].startswith("dom-")]
_BUNDLE = [k for k in NATIVE if k[0] in ("bdl-1", "bdl-2", "bdl-3", "bdl-4", "bdl-7", "bdl-9", "bdl-10", "bdl-11",
                                         "bdl-12")]
_ENTRY = [k for k in NATIVE if k[0] in ("bdl-5", "bdl-8")]
_EXTENSION = [k for k in NATIVE if k[0] == "ext-1"]
_ORGANIZATION = [k for k in NATIVE if k[0] == "org-1"]


class _NoBundle:
    label = "no IG"

    def resolve(self, reference: str) -> dict | None:
        return None

    def expansion(self, value_set: str) -> None:
        return None

    def conforms_to(self, resource: dict, profile: str) -> bool | None:
        return None


def _bundles() -> list[dict]:
    found = []
    for path in EXAMPLES:
        try:
            value, _ = read_json(path.read_bytes(), max_bytes=10_000_000)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            found.append(value)
    return found


def _cases(bundle: dict) -> list[tuple[tuple[str, str], object, dict, str]]:
    """(invariant, element value, its resource, type) for every element a shortcut applies to."""
    cases: list[tuple[tuple[str, str], object, dict, str]] = [(k, bundle, bundle, "Bundle") for k in _BUNDLE]
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    for entry in entries:
        cases += [(k, entry, bundle, "Bundle.entry") for k in _ENTRY]
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        kind = str(resource.get("resourceType"))
        cases += [(k, resource, resource, kind) for k in _DOM]
        if kind == "Organization":
            cases += [(k, resource, resource, kind) for k in _ORGANIZATION]
        cases += [(k, ext, resource, "Extension") for ext in _extensions(resource) for k in _EXTENSION]
    return cases


def _extensions(value: object) -> list[object]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("extension", "modifierExtension") and isinstance(item, list):
                found += item
            found += _extensions(item)
    elif isinstance(value, list):
        for item in value:
            found += _extensions(item)
    return found


_VALUES = [None, "", " ", "x", 0, 1, 2.5, True, False, [], {}, [{}], [None], {"a": 1}, "#c", "/_history/1",
           "http://x/_history/2", "urn:uuid:1", "message", "document", "history", "batch", "transaction",
           "searchset", "batch-response", {"reference": "#c"}, {"url": "u"}, {"url": "u", "valueString": "v"},
           [{"url": "u", "valueString": "v"}], [{"resourceType": "Patient", "id": "c"}], {"div": "<div>x</div>"},
           {"status": "generated", "div": ""}, {"versionId": "1"}, {"system": "s", "value": "v"}, [{"value": "v"}]]
_KEYS = ["contained", "_contained", "text", "_text", "div", "_div", "extension", "_extension", "valueString",
         "_valueString", "valueCoding", "valueFoo", "value", "valueBoolean", "valueInteger", "valueReference",
         "fullUrl", "_fullUrl", "request", "response", "search", "_search", "total", "_total", "type", "_type",
         "entry", "_entry", "resource", "meta", "identifier", "name", "_name", "timestamp", "url", "resourceType"]


def _mutate(bundle: dict, rng: random.Random) -> None:
    """One change where the shortcuts look: the Bundle, an entry, a resource, its narrative or an extension (a
    member set to an odd value, removed, or an entry repeated), or anywhere at all."""
    entries = [e for e in bundle.get("entry", []) if isinstance(e, dict)] if isinstance(bundle.get("entry"),
                                                                                        list) else []
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    targets: list[object] = [bundle, *entries, *resources, *[r["text"] for r in resources if isinstance(
        r.get("text"), dict)], *_extensions(bundle)]
    if entries and rng.random() < 0.1:
        bundle["entry"].append(copy.deepcopy(rng.choice(entries)))  # the same fullUrl twice (bdl-7)
        return
    if rng.random() < 0.2:
        targets = []

        def walk(x: object) -> None:
            if isinstance(x, dict | list):
                targets.append(x)
                for item in x.values() if isinstance(x, dict) else x:
                    walk(item)

        walk(bundle)
    node = rng.choice(targets)
    if isinstance(node, dict):
        if node and rng.random() < 0.3:
            del node[rng.choice(list(node))]
        else:
            node[rng.choice(_KEYS)] = copy.deepcopy(rng.choice(_VALUES))
    elif isinstance(node, list) and node and rng.random() < 0.4:
        node.pop(rng.randrange(len(node)))
    elif isinstance(node, list):
        node.append(copy.deepcopy(rng.choice(_VALUES)))


def _agree(case: tuple[tuple[str, str], object, dict, str]) -> str | None:
    (key, expression), value, resource, type_path = case
    answer = NATIVE[(key, expression)](value, resource)
    if answer is ASK_FHIRPATH:
        return None
    expected = fp._evaluate(expression, value, type_path, resource, _NoBundle())
    got = None if answer is UNEVALUABLE else answer
    return None if got == expected else f"{key} on {json.dumps(value, default=str)[:300]}: {got} != {expected}"


def test_every_shortcut_is_for_its_exact_expression() -> None:
    for (key, expression), shortcut in NATIVE.items():
        assert native(key, expression) is shortcut
        assert native(key, expression + " ") is None


def test_shortcuts_agree_with_fhirpathpy_on_the_examples() -> None:
    bundles = _bundles()
    assert len(bundles) >= 20
    answered = 0
    for bundle in bundles:
        for case in _cases(bundle):
            assert _agree(case) is None
            answered += NATIVE[case[0]](case[1], case[2]) is not ASK_FHIRPATH
    assert answered > 1000  # the shortcuts answer for the examples' plain shapes


@pytest.mark.parametrize("seed", range(4))
def test_shortcuts_agree_with_fhirpathpy_on_mutations(seed: int) -> None:
    rng = random.Random(seed)
    bundles = _bundles()
    disagreements = []
    for _ in range(150):
        bundle = copy.deepcopy(rng.choice(bundles))
        for _ in range(rng.randint(1, 4)):
            _mutate(bundle, rng)
        disagreements += [d for case in _cases(bundle) if (d := _agree(case))]
    assert disagreements == []


def test_remembered_verdicts_follow_what_the_expression_reads() -> None:
    expression = "identifier.where(system='urn:oid:1.2.208.176.1.1').exists()"
    organisation = {"resourceType": "Organization", "id": "a", "name": "A",
                    "identifier": [{"system": "urn:oid:1.2.208.176.1.1", "value": "1"}]}
    renewed = {**organisation, "id": "b", "name": "B"}  # another message's copy: new id, the same identifiers
    other = {**organisation, "identifier": [{"system": "urn:oid:other", "value": "1"}]}
    session = _NoBundle()
    assert fp.evaluate(expression, organisation, "Organization", organisation, session) is True
    assert fp._memo_key(expression, organisation, "Organization") == fp._memo_key(expression, renewed, "Organization")
    assert fp.evaluate(expression, other, "Organization", other, session) is False
    # a choice element is read by its typed names; a `_name` twin goes with its primitive
    assert fp._memo_key("value.exists()", {"valueString": "a"}, "Extension") != \
        fp._memo_key("value.exists()", {"valueString": "b"}, "Extension")
    assert fp._memo_key("name.exists()", {"_name": {"id": "x"}}, "Organization") != \
        fp._memo_key("name.exists()", {}, "Organization")
    # an expression that may read the whole element is remembered by all of it
    assert fp._memo_key("children().count() > 1", {"a": 1}, "X") != fp._memo_key("children().count() > 1", {"b": 1},
                                                                                   "X")


def test_remembered_verdicts_give_the_same_findings_in_any_order() -> None:
    """Validating the examples one after another (verdicts remembered) gives the findings each gets alone."""
    bundles = _bundles()
    alone = []
    for bundle in bundles:
        fp._MEMO.clear()
        alone.append([f.as_dict() for f in validate_resource(copy.deepcopy(bundle), "x").findings])
    fp._MEMO.clear()
    for bundle, expected in zip(reversed(bundles), reversed(alone), strict=True):
        assert [f.as_dict() for f in validate_resource(copy.deepcopy(bundle), "x").findings] == expected


def test_the_extension_value_types_are_fhirpathpy_s() -> None:
    """The types an extension's `value` finds, read from fhirpathpy's R4 model file without importing fhirpathpy,
    are what fhirpathpy itself loads."""
    from fhirpathpy.models import models

    from medcom.formats.fhir import base_invariants

    loaded = frozenset(models["r4"]["choiceTypePaths"]["Extension.value"])
    assert loaded == base_invariants._EXTENSION_VALUE_TYPES
    assert {"Period", "Coding", "String", "Reference"} <= base_invariants._EXTENSION_VALUE_TYPES
