"""The base model's remembered verdicts (structure.model_key): values a message renews (references, fullUrls,
whole instants) are left out of the key only where every element of their name accepts them, so that a copy with
other such values gets the verdict the model gives it, and a value the model refuses is part of the key."""

from __future__ import annotations

import copy
import importlib
import pkgutil
import random

import fhir.resources.R4B as r4b
import pytest
from helpers.fhir import ADMISSION, CARE_NEW, load, resource

from medcom.formats.fhir.basemodel import elements, model_class
from medcom.formats.fhir.structure import TIME_ELEMENTS, _validate_model, model_key

_STRING_TYPES = {"reference": {"string", "uri"}, "fullUrl": {"uri"}, "div": {"xhtml"}}
_TIME_TYPES = {"dateTime", "instant", "code"}


def _r4b_types() -> list[str]:
    names = []
    for module in pkgutil.iter_modules(r4b.__path__):
        loaded = importlib.import_module(f"{r4b.__name__}.{module.name}")
        names += [n for n, k in vars(loaded).items() if isinstance(k, type) and k.__module__ == loaded.__name__
                  and hasattr(k, "model_fields")]
    return names


def test_every_element_of_a_renewed_name_accepts_what_is_left_out() -> None:
    """In R4B, a `reference` is a string or uri, a `fullUrl` a uri, the time elements dateTime, instant or code,
    wherever a JSON string can be (an object or number type given a string is the shape walk's finding)."""
    seen = set()
    for type_name in _r4b_types():
        for name, info in elements(type_name).items():
            if info.kind not in ("string", "xhtml"):
                continue
            if name in _STRING_TYPES:
                assert info.fhir_type in _STRING_TYPES[name], (type_name, name, info.fhir_type)
            elif name in TIME_ELEMENTS:
                assert info.fhir_type in _TIME_TYPES, (type_name, name, info.fhir_type)
            else:
                continue
            seen.add(name)
    assert seen == {"reference", "fullUrl", "div", *TIME_ELEMENTS}


def _instants(rng: random.Random) -> list[str]:
    found = ["2000-01-01T00:00:00Z", "2024-02-29T23:59:59.999+13:59", "1999-12-31T00:00:00.123456-13:00"]
    for _ in range(200):
        found.append(f"{rng.randint(1900, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                     f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
                     f"{rng.choice(['', '.000', '.123456'])}{rng.choice(['Z', '+01:00', '-13:30', '+02:00'])}")
    return found


@pytest.mark.parametrize(("type_name", "element"), [("Bundle", "timestamp"), ("Provenance", "recorded"),
                                                     ("Period", "start"), ("Period", "end"), ("Meta", "lastUpdated"),
                                                     ("Communication", "sent")])
def test_the_model_accepts_every_instant_left_out(type_name: str, element: str) -> None:
    klass = model_class(type_name)
    base = {"resourceType": type_name} if type_name in ("Bundle", "Provenance", "Communication") else {}
    required = {"Bundle": {"type": "message"}, "Provenance": {"target": [{"reference": "x"}], "agent": [
        {"who": {"reference": "x"}}]}, "Communication": {"status": "completed"}}.get(type_name, {})
    for instant in _instants(random.Random(1)):
        value = {**base, **required, element: instant}
        key = model_key(klass, value)  # type: ignore[arg-type]
        assert f'"{element}": "2000-01-01T00:00:00Z"' in key  # left out
        assert _validate_model(klass, value) == ()  # type: ignore[arg-type]


def test_the_model_accepts_every_reference_left_out() -> None:
    rng = random.Random(2)
    characters = "abcXYZ019:/#?&=%-._~!$'()*+,;@[]{}|^`<>æøå€"
    for _ in range(300):
        text = "".join(rng.choice(characters) for _ in range(rng.randint(1, 40)))
        for type_name, value in (("Reference", {"reference": text}), ("BundleEntry", {"fullUrl": text}),
                                 ("Narrative", {"status": "generated", "div": text + ' "\\<p>'})):
            klass = model_class(type_name)
            assert '": "x"' in model_key(klass, value)  # type: ignore[arg-type]
            assert _validate_model(klass, value) == ()  # type: ignore[arg-type]


def _renewed(bundle: dict, rng: random.Random) -> dict:
    """Another message's copy: new ids, references, fullUrls and times (valid ones)."""
    text = str(rng.randrange(10**12))

    def walk(value: object) -> object:
        if isinstance(value, dict):
            return {k: (f"{v}{text}" if k in ("id", "reference", "fullUrl", "div") and isinstance(v, str) else
                        rng.choice(_instants(rng)) if k in TIME_ELEMENTS and isinstance(v, str) and "T" in v
                        else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return walk(copy.deepcopy(bundle))  # type: ignore[return-value]


@pytest.mark.parametrize("example", [ADMISSION, CARE_NEW])
def test_a_renewed_copy_has_the_same_key_and_verdict(example: object) -> None:
    rng = random.Random(3)
    bundle = load(example)  # type: ignore[arg-type]
    for kind in ("MessageHeader", "Provenance", "Encounter"):
        if not any(e["resource"]["resourceType"] == kind for e in bundle["entry"]):
            continue
        original = resource(bundle, kind)
        klass = model_class(kind)
        copy_ = resource(_renewed(bundle, rng), kind)
        assert copy_ != original
        assert model_key(klass, copy_) == model_key(klass, original)  # type: ignore[arg-type]
        assert _validate_model(klass, copy_) == _validate_model(klass, original)  # type: ignore[arg-type]


@pytest.mark.parametrize("odd", ["2025-02-30T10:00:00+01:00", "2025-01-01T24:00:00+01:00", "2025-01-01T10:00:00",
                                 "2025-01-01T10:00:60Z", "2025-01-01T10:00:00+14:30", "2025-01-01 10:00:00Z",
                                 "2025-01-01T10:00:00.1234567Z"])
def test_an_odd_time_is_part_of_the_key(odd: str) -> None:
    klass = model_class("Provenance")
    provenance = {"resourceType": "Provenance", "target": [{"reference": "x"}], "agent": [{"who": {"reference": "y"}}],
                  "recorded": "2025-01-01T10:00:00+01:00"}
    assert odd in model_key(klass, {**provenance, "recorded": odd})  # type: ignore[arg-type]


@pytest.mark.parametrize("odd", ["a b", "", " x", "x\n", 'a"b', "a\\b", "x" * 5000])
def test_an_odd_reference_is_part_of_the_key(odd: str) -> None:
    klass = model_class("Reference")
    assert model_key(klass, {"reference": odd}) != model_key(klass, {"reference": "x"})  # type: ignore[arg-type]
