"""The native base-model checks (primitives.py and the shape walk) against fhir.resources' R4B model, the check
they replaced, kept here as the oracle: value by value for every primitive type medcom still judges as the model
did (the others follow R4's own expressions and prose: tests/test_fhir_r4_lexical.py), and message by message on
mutations of the shipped examples. The native check must find everything the model found, at the same location;
where it finds more, the model had not looked (it was not run on a resource the shape walk had already faulted,
and pydantic skips a model's own validators when one of its elements failed)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from medcom.findings import Location, Severity
from medcom.formats.fhir.basemodel import elements, is_resource_type, model_class
from medcom.formats.fhir.igpackages import example_bundles
from medcom.formats.fhir.locations import LineMap, Path
from medcom.formats.fhir.primitives import CHECKS, format_problem
from medcom.formats.fhir.rules import F_INVARIANT
from medcom.formats.fhir.structure import StructureCheck

# pydantic's own errors of JSON shape: the shape walk reports these in FHIR's words before the model is asked
_PYDANTIC_OWN = {"extra_forbidden", "list_type", "model_type", "dict_type", "string_type", "bool_type", "int_type",
                 "bool_parsing", "int_parsing", "float_type", "decimal_type", "missing"}
_EXTENSION = model_class("Extension")
_TYPES = sorted({info.fhir_type for info in elements("Extension").values() if info.primitive})
# judged by R4's expressions and prose, where the model was looser (uri, string, base64's padding, id's 255) or other
# (uuid: version 4 only, any case, braced or bare)
_R4_OWN = frozenset({"base64Binary", "canonical", "code", "id", "markdown", "string", "uri", "url", "uuid"})
_AS_THE_MODEL = [t for t in _TYPES if t not in _R4_OWN]


def model_rejects(fhir_type: str, value: object) -> bool:
    """Whether fhir.resources' R4B model refuses `value` as an Extension's value of `fhir_type`."""
    name = "value" + fhir_type[:1].upper() + fhir_type[1:]
    try:
        _EXTENSION.model_validate({"url": "http://example.org/x", name: value})  # type: ignore[union-attr]
    except ValidationError as exc:
        return any(e["type"] not in _PYDANTIC_OWN for e in exc.errors())
    return False


def _shape_accepts(fhir_type: str, value: object) -> bool:
    """What reaches the format check: the right JSON type, not blank, integers within 32 bits."""
    kind = elements("Extension")["value" + fhir_type[:1].upper() + fhir_type[1:]].kind
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    if kind == "decimal":
        return isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str) and bool(value.strip())


_CHARS = st.sampled_from("0123456789-:.TZ+ aAfFzZ_/=\n\t\x0b\x1c\xa0\u2028\u3000{}urnoiduUR4589bB")
_NEAR = {  # values near each type's boundary, built from the pieces its expression is made of
    "date": st.from_regex(r"\A[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z"),
    "dateTime": st.from_regex(r"\A[0-9]{4}-[0-1][0-9]-[0-3][0-9](T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,9})?"
                              r"(Z|[+-][0-1][0-9]:[0-6][0-9])?)?\Z"),
    "instant": st.from_regex(r"\A[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,9})?"
                             r"(Z|[+-][0-1][0-9]:[0-6][0-9])?\Z"),
    "time": st.from_regex(r"\A[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{0,4})?\Z"),
    "id": st.from_regex(r"\A[A-Za-z0-9\-._ ]{1,4}\Z") | st.integers(60, 260).map(lambda n: "a" * n),
    "code": st.text(st.sampled_from("ab \t\n\x0b\x1c\x1f\x85\xa0\u2028\u3000\u200b"), min_size=1, max_size=6),
    "oid": st.from_regex(r"\Aurn:oid:[0-3](\.[0-9]{1,3}){0,3}\n?\Z"),
    "uuid": st.from_regex(r"\A(urn:uuid:|URN:UUID:|\{)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                          r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?\Z"),
    "base64Binary": st.text(st.sampled_from("QWa+/= \n!é"), min_size=1, max_size=9),
    "unsignedInt": st.integers(-3, 3), "positiveInt": st.integers(-3, 3), "integer": st.integers(-3, 3),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False) | st.integers(),
}


_ZONES = st.sampled_from(["Z", "+14:00", "-14:00", "+14:01", "-13:59", "+15:00", "+01:00", "", "+1:00"])
_DAYS = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 13),
                  st.integers(27, 32))
_TIMES = st.builds(lambda h, m, s: f"T{h:02d}:{m:02d}:{s:02d}", st.integers(0, 24), st.integers(0, 60),
                   st.integers(58, 61))
_NEAR["date"] |= _DAYS
_NEAR["dateTime"] |= st.builds(str.__add__, _DAYS, st.builds(str.__add__, _TIMES, _ZONES) | st.just(""))
_NEAR["instant"] |= st.builds(str.__add__, _DAYS, st.builds(str.__add__, _TIMES, _ZONES))


def _values(fhir_type: str) -> st.SearchStrategy[object]:
    """Values of the JSON type the element takes (the shape walk refuses any other before formats are checked)."""
    kind = elements("Extension")["value" + fhir_type[:1].upper() + fhir_type[1:]].kind
    if kind == "integer":
        return st.integers(-(2**31), 2**31 - 1) | st.integers(-3, 3)
    if kind == "decimal":
        return _NEAR["decimal"]
    if kind == "boolean":
        return st.booleans()
    return _NEAR.get(fhir_type, st.nothing()) | st.text(_CHARS, min_size=1, max_size=12)


@pytest.mark.parametrize("fhir_type", _AS_THE_MODEL)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_value_is_refused_exactly_when_the_model_refuses_it(fhir_type: str, data: st.DataObject) -> None:
    value = data.draw(_values(fhir_type).filter(lambda v: _shape_accepts(fhir_type, v)))
    assert (format_problem(fhir_type, value) is not None) == model_rejects(fhir_type, value), value  # type: ignore[arg-type]


EDGES = {
    "date": ["2023-02-29", "2024-02-29", "1900-02-29", "2000-02-29", "2023-04-31", "2023-04-30", "0001-01-01",
             "0000-01-01", "2023-13", "2023-00", "2023-1-01", "2023-01-01T10:00:00Z"],
    "dateTime": ["2023-02-29T10:00:00+01:00", "2023-04-31", "2023-01-01T10:00:00+14:00", "2023-01-01T10:00:00+14:01",
                 "2023-01-01T10:00:00-13:59", "2023-01-01T10:00:00+15:00", "2023-01-01T24:00:00Z",
                 "2023-01-01T23:59:60Z", "2023-01-01T10:00:00.1234567890Z", "2023-01-01T10:00:00",
                 "2023-01-01T10:00Z", "2023", "2023-02", "2023-01-01 10:00:00Z"],
    "instant": ["2023-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2023-01-01", "2023-01-01T10:00:00-14:00",
                "2023-01-01T10:00:00+14:30", "2023-01-01T10:00:60.5Z", "2023-01-01T10:00:00z"],
    "time": ["23:59:60", "24:00:00", "10:00", "10:00:00Z", "10:00:00.5"],
    "oid": ["urn:oid:1.2.3", "urn:oid:1.2.03", "urn:oid:3.1", "urn:oid:1", "urn:oid:1.2.3\n", "urn:oid:0.0"],
    "unsignedInt": [-1, 0, 1], "positiveInt": [-1, 0, 1],
}


@pytest.mark.parametrize(("fhir_type", "value"), [(t, v) for t, values in EDGES.items() for v in values])
def test_each_edge_value_is_refused_exactly_when_the_model_refuses_it(fhir_type: str, value: object) -> None:
    assert (format_problem(fhir_type, value) is not None) == model_rejects(fhir_type, value)  # type: ignore[arg-type]


def test_every_checked_type_is_one_the_model_has() -> None:
    assert set(EDGES) <= set(_AS_THE_MODEL)
    assert set(CHECKS) <= set(_TYPES)


# --- message by message -----------------------------------------------------------------------------------------


def _oracle(klass: type, resource: dict) -> tuple[list[Path], bool]:
    """The model's findings on one resource as medcom read them before (the steps inside it), and whether pydantic
    also raised one of its own shape errors there (medcom left those to the shape walk; pydantic skips a model's
    own validators where its elements failed, so the model had not looked at everything)."""
    try:
        klass.model_validate(resource)  # type: ignore[attr-defined]
    except ValidationError as exc:
        errors = exc.errors()
        return [tuple(s for s in e["loc"] if isinstance(s, int) or (isinstance(s, str) and s.lstrip("_")
                                                                    .isidentifier() and s != "root"))
                for e in errors if e["type"] not in _PYDANTIC_OWN], any(e["type"] in _PYDANTIC_OWN for e in errors)
    return [], False


def _walk(bundle: dict) -> StructureCheck:
    check = StructureCheck("m.json", "Bundle", LineMap())
    check.resource(bundle, ())
    return check


def _with_model(bundle: dict) -> tuple[set[Location], set[Location]]:
    """The shape walk and then the model, as before: each resource (the Bundle without its entries' resources,
    then each entry's resource) was given to the model unless the shape walk had faulted something inside it.
    Returns the findings' locations and the resources the model did not judge wholly (faulted, pydantic's own
    shape errors, or it failed on them)."""
    check = _walk(bundle)
    shell = dict(bundle)
    if isinstance(bundle.get("entry"), list):
        shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                          for e in bundle["entry"]]
    entries = bundle["entry"] if isinstance(bundle.get("entry"), list) else ()
    resources: list[tuple[Path, dict]] = [((), shell)] + [
        (("entry", i, "resource"), e["resource"]) for i, e in enumerate(entries)
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    found, unjudged = set(check.findings), set()
    for path, resource in resources:
        inside = Location.fhir("Bundle", path)
        kind = resource.get("resourceType")
        if not is_resource_type(kind) or any(location.within(inside) for location in check.findings):
            unjudged.add(inside)
            continue
        try:
            problems, partly = _oracle(model_class(kind), resource)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the model failed on it instead of reporting it
            unjudged.add(inside)
            continue
        if partly:
            unjudged.add(inside)
        found |= {Location.fhir("Bundle", path + steps) for steps in problems}
    return found, unjudged


def _resource_of(location: Location) -> Location:
    """The resource the model was given that holds a location: an entry's resource, else the Bundle."""
    steps = location.steps
    inside_entry = len(steps) >= 4 and steps[1] == "entry" and steps[3] == "resource"
    return Location(location.kind, steps[:4] if inside_entry else steps[:1])


def _native(bundle: dict) -> tuple[set[Location], set[Location]]:
    """The structure check's errors but ext-1 (an invariant, which the model never evaluated), and those of them
    that judge a value's format by R4 where the model did not (`_R4_OWN`)."""
    check = _walk(bundle)
    check.add_base()
    errors = {location: finding for location, finding in check.findings.items()
              if finding.rule != F_INVARIANT and finding.severity == Severity.ERROR}
    return set(errors), {location for location, finding in errors.items()
                         if any(f"is a FHIR {fhir_type}: " in finding.text for fhir_type in _R4_OWN)}


_BUNDLES = sorted(example_bundles(every_version=True).items())


def _leaves(value: object, path: Path = ()) -> list[Path]:
    found: list[Path] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [path + (key,)] + _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaves(item, path + (index,))
    return found


def _parent(bundle: dict, path: Path) -> dict | list:
    node: object = bundle
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    return node  # type: ignore[return-value]


_MUTANT_VALUES = st.one_of(*(_NEAR.values()), st.text(_CHARS, max_size=12), st.booleans(), st.none(),
                           st.just({}), st.just({"id": "x"}))


@st.composite
def _mutants(draw: st.DrawFn) -> dict:
    name, data = draw(st.sampled_from(_BUNDLES))
    bundle = json.loads(data, parse_float=Decimal)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _leaves(bundle) if p[-1] != "resourceType"]
        path = draw(st.sampled_from(paths))
        parent, key = _parent(bundle, path), path[-1]
        how = draw(st.sampled_from(["value", "value", "value", "delete", "twin"]))
        if how == "delete" and isinstance(parent, dict):
            del parent[key]  # type: ignore[arg-type]
        elif how == "twin" and isinstance(parent, dict) and isinstance(key, str) and not key.startswith("_"):
            parent["_" + key] = draw(st.sampled_from([{"id": "t"}, {"extension": [
                {"url": "http://example.org/x", "valueDateTime": draw(_NEAR["dateTime"])}]}]))
            if draw(st.booleans()):
                del parent[key]
        else:
            parent[key] = draw(_MUTANT_VALUES)  # type: ignore[index]
    return bundle


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bundle=_mutants())
def test_the_native_check_finds_what_the_model_found_and_more_only_where_it_did_not_look(bundle: dict) -> None:
    before, unjudged = _with_model(copy.deepcopy(bundle))
    after, by_r4 = _native(bundle)
    assert before <= after, sorted(map(str, before - after))
    faulted = {_resource_of(location) for location in before}  # pydantic skips a model's validators there
    extra = [str(location) for location in after - before - by_r4
             if _resource_of(location) not in unjudged | faulted]
    assert not extra, extra
