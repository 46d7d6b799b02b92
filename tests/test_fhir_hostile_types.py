"""Hostile JSON types in FHIR messages: a value anywhere in a shipped example Bundle replaced by a value of another
JSON type (a list, an object, a number, a boolean, null), an empty or huge string, a deep nesting, or given a
hostile `_name` twin: at the places the fast paths read as strings or shapes (resourceType, ids, fullUrls,
references, meta.profile, type, identifiers' system and value, codings, extension urls, timestamps) more often
than elsewhere.

Each mutant (a) is judged by `validator.validate_resource` and through the command line in-process (`medcom
validate` and `medcom replay` of a folder holding it): never a traceback, and a mutant whose change no FHIR JSON
allows (another type, an empty string, null) is never accepted (an error finding, exit 1); (b) gets, in a sequence
with its clean Bundle (clean, mutant, the mutant again, clean, the mutant renamed as the next message of a log),
the verdict of a fresh walk every time (remembered walks switched off as tests/helpers/fhir_walk_diff.py does).

A few seconds with the tests; `MEDCOM_FUZZ_EXAMPLES=5000 pytest tests/test_fhir_hostile_types.py` runs thousands."""

from __future__ import annotations

import copy
import json
import os
import random
import tempfile
from functools import cache
from pathlib import Path

import pytest
from click.testing import Result
from helpers.cli import invoke, no_traceback
from helpers.fhir_walk_diff import fresh, renamed, verdict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fhir_medcom_invariants import _bundles

from medcom.formats.fhir import walks
from medcom.formats.fhir.jsonread import JSONProblem, read_json
from medcom.formats.fhir.validator import validate_resource

TOTAL = int(os.environ.get("MEDCOM_FUZZ_EXAMPLES", "200"))
SETTINGS = {"deadline": None, "derandomize": TOTAL <= 200, "database": None,
            "suppress_health_check": [HealthCheck.too_slow]}

# Members the fast paths read as strings or shapes: drawn more often than the rest.
_AIMED = {"resourceType", "id", "fullUrl", "reference", "profile", "type", "system", "value", "code", "url",
          "timestamp", "sent", "lastUpdated", "definition", "endpoint", "display", "status", "category",
          "identifier", "coding", "meta", "extension", "entry", "resource", "focus", "source", "destination",
          "sender", "receiver", "subject", "encounter", "payload", "author", "recipient", "eventCoding",
          "valueString", "valueReference", "valueCoding", "div", "text", "name", "family", "given", "period",
          "start", "end", "use", "response", "request", "class", "serviceProvider", "managingOrganization"}


@cache
def _clean() -> tuple[dict, ...]:
    return tuple(_bundles())


def _places(value: object, path: tuple = ()) -> list[tuple[tuple, object]]:
    """Every place in the document but its root: (path, value)."""
    found: list[tuple[tuple, object]] = [(path, value)] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _places(v, (*path, i))
    return found


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _deep(depth: int) -> object:
    value: object = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


def _hostile(old: object, rng: random.Random) -> tuple[object, bool]:
    """A value for a place holding `old`, and whether FHIR JSON allows it nowhere (another JSON type, an empty
    string, null: the message must be rejected)."""
    options: list[tuple[object, bool]] = [
        ([old] if not isinstance(old, list) else old[0] if old else {}, True),  # a list of it, or its element
        ({}, True), ({"value": old if not isinstance(old, dict) else "x"}, True), (0, True), (-1.5, True),
        (True, True), (False, True), (None, True), ("", True), ("x" * rng.choice([65, 1_100, 70_000]), False),
        (_deep(rng.choice([5, 20, 40, 70])), True), ([], True), ([None], True), ([[]], True), (10**30, True),
        ("Bundle", False), ("MessageHeader/x", False), ("urn:uuid:" + "0" * 8, False)]
    value, broken = rng.choice(options)
    if _kind(value) == _kind(old) and broken and value != "":
        return value, False  # the same JSON type: maybe allowed (a list in place of a list)
    if value == old:
        return [old], True
    return value, broken


def mutate(bundle: dict, rng: random.Random) -> tuple[str, bool]:
    """One hostile change in `bundle` (in place): what it did and whether no FHIR JSON allows it."""
    places = _places(bundle)
    if rng.random() < 0.1:  # a hostile member name in an object (an unknown one, a twin of nothing, a resourceType)
        objects = [(p, v) for p, v in places if isinstance(v, dict)]
        if objects:
            path, target = rng.choice(objects)
            name = rng.choice(["", "_", "__id", "_resourceType", "resourceType", "x" * 300, "fhir_comments", "\u2170d",
                               "_extension", "_" + rng.choice(list(target) or ["id"])])
            if name.lstrip("_") in target and name.startswith("_") and name != "_resourceType":
                name = "_" + name  # a twin's twin
            value = rng.choice(["x", 1, {}, [], None, {"extension": [{"url": "http://x", "valueString": "y"}]}])
            target[name] = value
            return f"{path}: member {name[:40]!r} = {value!r:.40}", True
    aimed = [(p, v) for p, v in places if isinstance(p[-1], str) and p[-1] in _AIMED
             or isinstance(p[-1], int) and len(p) > 1 and p[-2] in _AIMED]
    path, old = rng.choice(aimed if aimed and rng.random() < 0.7 else places)
    parent: object = bundle
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    if isinstance(parent, dict) and isinstance(path[-1], str) and not path[-1].startswith("_") and rng.random() < 0.15:
        twin = "_" + path[-1]  # the primitive's twin: an object of id and extensions, or a list of them
        twin_value, broken = rng.choice([("x", True), (1, True), ([1], True), ({"id": 5}, True),
                                         ({"extension": "x"}, True), ({"extension": [{"url": 1}]}, True),
                                         (None, True), ({"id": "a", "extension": [{"url": "http://x"}]}, False)])
        if twin in parent:
            broken = broken and _kind(twin_value) != _kind(parent[twin])
        parent[twin] = twin_value
        return f"{path} twin {twin} = {str(twin_value)[:60]}", broken
    new, broken = _hostile(old, rng)
    parent[path[-1]] = new  # type: ignore[index]
    return f"{path}: {_kind(old)} -> {_kind(new)} {str(new)[:60]}", broken


def _judged(bundle: dict) -> list[dict]:
    try:
        value, lines = read_json(json.dumps(bundle, indent=2).encode(), max_bytes=10_000_000)
    except JSONProblem as problem:  # nested too deep: the reader's finding, before any validation
        return [{"severity": "error", "text": str(problem)}]
    return [f.as_dict() for f in validate_resource(value, "x.json", lines).findings]


def _errors(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["severity"] == "error"]


def _cli(clean: dict, bundle: dict, said: str, broken: bool) -> None:
    """`medcom validate` and `medcom replay` of a folder holding the mutant: no traceback, a broken one rejected;
    then `medcom validate` of a folder holding the clean Bundle, the mutant and the clean Bundle again: the
    mutant's findings those it got alone, the clean Bundle's after it those before it."""
    with tempfile.TemporaryDirectory(prefix="medcom-hostile-fhir-") as tmp:
        alone, together = Path(tmp) / "alone", Path(tmp) / "together"
        for folder, files in ((alone, {"m.json": bundle}), (together, {"a.json": clean, "m.json": bundle,
                                                                      "z.json": clean})):
            folder.mkdir()
            for name, value in files.items():
                (folder / name).write_text(json.dumps(value, indent=2), encoding="utf-8")
        for command in ("validate", "replay"):
            result = no_traceback(invoke(command, alone, "--format", "json"))
            assert result.exit_code in (0, 1), (command, said, result.exit_code, result.output[-2000:])
            if broken:
                assert result.exit_code == 1, (command, said)
                inputs = json.loads(result.stdout)["inputs"]
                assert inputs["accepted"] + inputs["rejected"] + inputs.get("duplicates", 0) == inputs["messages"]
                assert inputs["accepted"] == 0, (command, said, inputs)
        first = _findings_by_file(invoke("validate", alone, "--format", "json"))
        judged = _findings_by_file(invoke("validate", together, "--format", "json"))
        assert judged["m.json"] == first["m.json"], said
        assert judged["z.json"] == judged["a.json"], said


def _findings_by_file(result: Result) -> dict[str, list]:
    no_traceback(result)
    return {Path(f["file"]).name: [{k: v for k, v in finding.items() if k != "file"} for finding in f["findings"]]
            for f in json.loads(result.stdout)["files"]}


def _sequence(clean: dict, bundle: dict, said: str, rng: random.Random) -> None:
    """clean, mutant, mutant again, clean, mutant renamed: each verdict the fresh one."""
    for step, judged in enumerate((clean, bundle, bundle, clean, renamed(bundle, rng))):
        assert verdict(judged) == fresh(judged), (step, said)


@settings(max_examples=max(10, TOTAL // 10), **SETTINGS)  # type: ignore[arg-type]
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=3),
       st.booleans())
def test_hostile_types_never_traceback_nor_pass_and_memory_changes_no_verdict(pick: int, seed: int, count: int,
                                                                           through_cli: bool) -> None:
    walks.forget()
    clean = _clean()[pick % len(_clean())]
    rng = random.Random(seed)
    bundle = copy.deepcopy(clean)
    said, broken = [], False
    for _ in range(count):
        what, breaks = mutate(bundle, rng)
        said.append(what)
        broken = broken or breaks
    findings = _judged(bundle)
    if broken:
        assert _errors(findings), said
    if "rule" in findings[0] if findings else True:  # read as JSON (not nested beyond the reader's limit)
        _sequence(clean, bundle, "; ".join(said), rng)
    if through_cli:
        _cli(clean, bundle, "; ".join(said), broken)


def _deep_places(clean: dict) -> list[tuple]:
    return [p for p, _ in _places(clean) if isinstance(p[-1], str) and p[-1] in _AIMED]


@pytest.mark.parametrize("new", ["wrap", {}, 7, True, None, ""], ids=["list", "object", "number", "bool", "null",
                                                                     "empty"])
def test_each_aimed_member_of_each_kind_of_message_as_each_json_type(new: object) -> None:
    """Every aimed member, at its first place in one Bundle of each message kind, given another JSON type (a list
    of it, an object, a number, a boolean, null, an empty string) right after its clean Bundle was judged: an
    error, and the fresh verdict."""
    kinds: dict[str, dict] = {}
    for clean in _clean():
        header = next((e["resource"] for e in clean.get("entry", []) if isinstance(e, dict) and isinstance(
            e.get("resource"), dict) and e["resource"].get("resourceType") == "MessageHeader"), {})
        kinds.setdefault(json.dumps(header.get("eventCoding")), clean)
    done = set()
    for clean in list(kinds.values())[: max(2, TOTAL // 100)]:  # every kind in a big run
        firsts: dict[str, tuple] = {}
        for path, _ in _places(clean):
            if isinstance(path[-1], str) and path[-1] in _AIMED:
                firsts.setdefault(path[-1], path)
        for member, path in firsts.items():
            walks.forget()
            verdict(clean)
            bundle = copy.deepcopy(clean)
            parent: object = bundle
            for step in path[:-1]:
                parent = parent[step]  # type: ignore[index]
            old = parent[path[-1]]  # type: ignore[index]
            value = [old] if new == "wrap" else new
            if _kind(value) == _kind(old) and value != "":
                continue
            parent[path[-1]] = value  # type: ignore[index]
            said = f"{path}: {_kind(old)} -> {value!r:.60}"
            assert _errors(_judged(bundle)), said
            assert verdict(bundle) == fresh(bundle), said
            done.add(member)
    assert len(done) > 20, sorted(done)


def _first(bundle: dict, kind: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def test_a_null_in_a_primitive_array_without_its_twin_is_an_error() -> None:
    """FHIR JSON allows a null in an array of primitives only where the `_name` twin array holds that element's
    id and extensions; a bare null (meta.profile [null], a given name null) was passed without a finding."""
    clean = next(b for b in _clean() if any(isinstance(e.get("resource", {}).get("meta", {}).get("profile"), list)
                                            for e in b["entry"][1:]))
    verdict(clean)
    entry = next(e for e in clean["entry"][1:] if isinstance(e["resource"].get("meta", {}).get("profile"), list))
    index = clean["entry"].index(entry)
    bare = copy.deepcopy(clean)
    bare["entry"][index]["resource"]["meta"]["profile"].append(None)
    nulls = [f for f in _errors(_judged(bare)) if f["text"] == "null is not allowed here"]
    assert nulls, _judged(bare)
    assert verdict(bare) == fresh(bare)
    both_null = copy.deepcopy(bare)
    both_null["entry"][index]["resource"]["meta"]["_profile"] = [None] * len(bare["entry"][index]["resource"][
        "meta"]["profile"])
    assert [f for f in _errors(_judged(both_null)) if f["text"] == "null is not allowed here"]
    paired = copy.deepcopy(both_null)
    paired["entry"][index]["resource"]["meta"]["_profile"][-1] = {"id": "p1"}
    assert not [f for f in _judged(paired) if f["text"] == "null is not allowed here"], _judged(paired)


def test_a_null_in_a_twin_array_without_its_value_is_an_error() -> None:
    """The other side of the pairing: a null in a `_name` twin array stands for "no id or extensions" of the value
    at its index, so it needs that value; a lone `_profile: [null]` (no `profile`) or a null beside a null value
    was passed without a finding. A twin null beside a value stays allowed."""
    clean = next(b for b in _clean() if any(isinstance(e.get("resource", {}).get("meta", {}).get("profile"), list)
                                            for e in b["entry"][1:]))
    entry = next(e for e in clean["entry"][1:] if isinstance(e["resource"].get("meta", {}).get("profile"), list))
    index = clean["entry"].index(entry)
    alone = copy.deepcopy(clean)
    meta = alone["entry"][index]["resource"]["meta"]
    meta["_profile"] = [None]
    del meta["profile"]
    assert [f for f in _errors(_judged(alone)) if f["text"] == "null is not allowed here"], _judged(alone)
    assert verdict(alone) == fresh(alone)
    beside = copy.deepcopy(clean)
    meta = beside["entry"][index]["resource"]["meta"]
    meta["_profile"] = [None] * len(meta["profile"])  # every value there: the nulls say "no id, no extensions"
    assert not [f for f in _judged(beside) if f["text"] == "null is not allowed here"], _judged(beside)
