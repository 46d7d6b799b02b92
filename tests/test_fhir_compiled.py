"""The compiled profile checkers (medcom.formats.fhir.checkers) against the interpreted walk they replaced
(tests/helpers/interpreted_walk.py): on every example Bundle of every shipped IG version and on hypothesis-made
mutants of them, the same findings (rule, severity, text, location, line, code, judging profile) in the same order,
the same unchecked counts, the same IG version, and the same walks remembered with the same effects."""

from __future__ import annotations

import copy
from collections.abc import Callable

from helpers.interpreted_walk import InterpretedValidation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fhir_medcom_invariants import _bundles

from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir import validator, walks
from medcom.formats.fhir.igpackages import package, shipped

BUNDLES = _bundles()


def _outcome(bundle: dict, interpreted: bool) -> tuple:
    """What a validation of a copy of `bundle` gives, from fresh memos, with either walk."""
    walks.forget()
    fp._MEMO.clear()
    original = validator._Validation
    if interpreted:
        validator._Validation = InterpretedValidation  # type: ignore[misc]
    try:
        result = validator.validate_resource(copy.deepcopy(bundle), "x")
    finally:
        validator._Validation = original  # type: ignore[misc]
    remembered = sorted((repr(k), repr(v)) for k, v in walks._WALKS.items())
    return ([f.as_dict() for f in result.findings], [f.as_dict() for f in result.unchecked], result.ig,
            result.profile, remembered, sorted(walks._NOT_LOCAL.items()))


def _same(bundle: dict) -> tuple:
    compiled = _outcome(bundle, interpreted=False)
    assert compiled == _outcome(bundle, interpreted=True)
    return compiled


def test_the_compiled_checkers_judge_every_example_as_the_interpreted_walk() -> None:
    assert len(BUNDLES) >= 40
    outcomes = [_same(bundle) for bundle in BUNDLES]
    assert any(findings for findings, *_ in outcomes)  # some examples have findings (older versions' own)
    assert any(remembered for *_, remembered, _ in outcomes)


def _pool() -> dict[str, list[object]]:
    """Every value the examples have under each JSON key: a code, system, coding or identifier in another place."""
    pool: dict[str, list[object]] = {}

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                seen = pool.setdefault(key, [])
                if len(seen) < 40 and item not in seen:
                    seen.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for bundle in BUNDLES:
        walk(bundle)
    return pool


def _prohibited() -> list[str]:
    """The names of the elements some shipped profile prohibits (max 0)."""
    return sorted({e["path"].rsplit(".", 1)[-1] for name, versions in shipped().items() for version in versions
                   for d in package(f"{name}#{version}").structure_definitions.values()  # type: ignore[union-attr]
                   for e in d.get("snapshot", {}).get("element", []) if e.get("max") == "0"})


POOL = _pool()
KEYS = sorted(POOL)
PROHIBITED = _prohibited()


def _containers(value: object, found: list[object]) -> list[object]:
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def _mutate(bundle: dict, draw: Callable) -> None:
    """One change where a profile looks: a member dropped, added (one a profile prohibits), renamed (another choice
    type), given another value found under its name or another name, wrapped in or taken out of an array, given a
    `_name` twin; an array item dropped, repeated or moved."""
    resources = [e["resource"] for e in bundle.get("entry", []) if isinstance(e, dict)
                 and isinstance(e.get("resource"), dict)] if isinstance(bundle.get("entry"), list) else []
    if resources and draw(st.integers(0, 4)) == 0:  # a resource given a member some profile prohibits
        added = draw(st.sampled_from(PROHIBITED))
        draw(st.sampled_from(resources))[added] = copy.deepcopy(draw(st.sampled_from(POOL.get(added) or ["x"])))
        return
    node = draw(st.sampled_from(_containers(bundle, [])))
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        how = draw(st.sampled_from(["drop", "same-name", "other-name", "rename", "wrap", "unwrap", "twin", "add"]))
        if how == "add":  # a member the object may not have
            added = draw(st.sampled_from(KEYS))
            node[added] = copy.deepcopy(draw(st.sampled_from(POOL[added])))
        elif how == "drop":
            del node[key]
        elif how == "same-name":
            node[key] = copy.deepcopy(draw(st.sampled_from(POOL.get(key) or ["x"])))
        elif how == "other-name":
            node[key] = copy.deepcopy(draw(st.sampled_from(POOL[draw(st.sampled_from(KEYS))])))
        elif how == "rename":
            node[draw(st.sampled_from(KEYS))] = node.pop(key)
        elif how == "wrap":
            node[key] = [node[key]]
        elif how == "unwrap" and isinstance(node[key], list) and node[key]:
            node[key] = node[key][0]
        elif how == "twin":
            node["_" + key] = {"extension": [{"url": "http://example.org/x", "valueString": "x"}]}
    elif isinstance(node, list) and node:
        index = draw(st.integers(0, len(node) - 1))
        how = draw(st.sampled_from(["drop", "repeat", "move"]))
        if how == "drop":
            node.pop(index)
        elif how == "repeat":
            node.append(copy.deepcopy(node[index]))
        else:
            node.insert(0, node.pop(index))


@st.composite
def mutants(draw: Callable) -> dict:
    bundle = copy.deepcopy(draw(st.sampled_from(BUNDLES)))
    for _ in range(draw(st.integers(1, 3))):
        _mutate(bundle, draw)
    return bundle


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
def test_the_compiled_checkers_judge_mutants_as_the_interpreted_walk(bundle: dict) -> None:
    _same(bundle)
