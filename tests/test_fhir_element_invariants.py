"""R4's base invariants of every element, wherever it is: ext-1 (an extension has nested extensions or a value, not
both) and ele-1 (an element has a value or children, an `id` not counting). A profile walk reaches only what its
snapshot expands; before, an extension on a primitive (its `_name` object), on a complex element no snapshot expands
or nested in an extension, and an element holding only an id, were accepted. JSON and XML alike."""

from __future__ import annotations

import pytest
from helpers.fhir import ADMISSION, dump, mutated, resource

from medcom.formats.fhir import to_xml, validate_bytes
from medcom.formats.fhir.structure import EXT_1

_ID_ALONE = "an element must have a value or children; an id alone is not allowed"
_BARE = {"url": "urn:x"}  # an extension with neither a value nor nested extensions


def _errors(bundle: dict, form: str) -> list[tuple[str, str | None, str]]:
    data = dump(bundle) if form == "json" else to_xml(bundle)
    return [(f.rule, f.xpath, f.text) for f in validate_bytes(data, "m." + form).findings
            if str(f.severity) == "error"]


def _patient(change):  # noqa: ANN001, ANN202 - a change of the admission's Patient
    return mutated(ADMISSION, lambda b: change(resource(b, "Patient")))


FORMS = pytest.mark.parametrize("form", ["json", "xml"])


@FORMS
def test_the_example_is_clean(form: str) -> None:
    assert _errors(mutated(ADMISSION, lambda b: None), form) == []


@FORMS
@pytest.mark.parametrize(("where", "change"), [
    ("Bundle.type.extension[0]", lambda b: b.update({"_type": {"extension": [_BARE]}})),
    ("Bundle.meta.extension[0]", lambda b: b["meta"].update({"extension": [_BARE]})),
    ("Bundle.meta.profile[0].extension[0]", lambda b: b["meta"].update({"_profile": [{"extension": [_BARE]}]})),
    ("Bundle.entry[1].resource.extension[0].extension[0]",
     lambda b: resource(b, "Patient").update({"extension": [{"url": "urn:x", "extension": [_BARE]}]})),
    ("Bundle.entry[1].resource.name[0].family.extension[0]",
     lambda b: resource(b, "Patient")["name"][0].update({"_family": {"extension": [
         {"url": "urn:x", "valueString": "a", "extension": [{"url": "urn:y", "valueString": "b"}]}]}})),
])
def test_ext_1_holds_on_every_extension(form: str, where: str, change) -> None:  # noqa: ANN001
    """The same F-INVARIANT error a profile walk gives an extension on a resource (`_BARE` there, below)."""
    assert ("F-INVARIANT", where, EXT_1) in _errors(mutated(ADMISSION, change), form)


@FORMS
def test_ext_1_where_a_profile_walk_finds_it_too_is_said_once_as_the_profile_says_it(form: str) -> None:
    bundle = _patient(lambda p: p.update({"extension": [_BARE]}))
    data = dump(bundle) if form == "json" else to_xml(bundle)
    found = [f for f in validate_bytes(data, "m." + form).findings if f.rule == "F-INVARIANT"]
    assert [(f.xpath, f.text) for f in found] == [("Bundle.entry[1].resource.extension[0]", EXT_1)]
    assert found[0].judged_by is not None


@FORMS
def test_a_primitive_extension_with_a_value_or_nested_extensions_is_fine(form: str) -> None:
    bundle = mutated(ADMISSION, lambda b: b.update({"_type": {"id": "t", "extension": [
        {"url": "urn:x", "valueString": "a"}, {"url": "urn:y", "extension": [{"url": "z", "valueBoolean": True}]}]}}))
    assert _errors(bundle, form) == []


@pytest.mark.parametrize(("where", "change"), [
    ("Bundle.entry[1].resource.gender", lambda p: (p.pop("gender", None), p.update({"_gender": {"id": "g"}}))),
    ("Bundle.entry[1].resource.name[0].given[0]",
     lambda p: p["name"][0].update({"given": [None], "_given": [{"id": "g"}]})),
])
def test_ele_1_a_primitive_with_only_an_id_and_no_value(where: str, change) -> None:  # noqa: ANN001
    """JSON: its `_name` object holding only an id; FHIR XML reports `<gender id="g"/>` as F-XML already
    (tests/test_fhir_xml_order.py), once."""
    bundle = _patient(change)
    assert ("F-STRUCTURE", where, _ID_ALONE) in _errors(bundle, "json")
    assert [e for e in _errors(bundle, "xml") if e[1] == where] == [
        ("F-XML", where, f"element '{where.rsplit('.', 1)[1].split('[')[0]}' has neither a value attribute nor "
                         "extensions")]


@FORMS
def test_ele_1_a_complex_element_with_only_an_id(form: str) -> None:
    bundle = _patient(lambda p: p["name"][0].update({"period": {"id": "p"}}))
    assert ("F-STRUCTURE", "Bundle.entry[1].resource.name[0].period", _ID_ALONE) in _errors(bundle, form)


def test_ele_1_an_id_beside_a_value_is_fine() -> None:
    bundle = _patient(lambda p: p["name"][0].update({"_family": {"id": "f"}}))
    assert _errors(bundle, "json") == [] == _errors(bundle, "xml")
