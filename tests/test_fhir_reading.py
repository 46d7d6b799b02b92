"""Reading FHIR: JSON and XML give the same resource, facts and findings; hostile input gives findings, never a
traceback."""

from __future__ import annotations

import copy
import json
import re

import pytest
from helpers import ROOT
from helpers.fhir import ADMISSION, DATA, canonical_divs, dump, entry_index, load, mutated, resource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medcom.formats.fhir import parse, validate_bytes
from medcom.formats.fhir.jsonread import MAX_DEPTH, JSONProblem, read_json
from medcom.formats.fhir.messages import read_message
from medcom.formats.fhir.rules import ALL, F_BINDING, F_JSON, F_PROFILE, F_STRUCTURE, F_XML
from medcom.formats.fhir.xmlwrite import to_xml

EXAMPLES = sorted(DATA.glob("*/*.json"))


def _key(finding) -> tuple:  # noqa: ANN001
    return finding.rule, str(finding.severity), finding.xpath, finding.text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_xml_form_reads_to_the_same_resource_facts_and_findings(path) -> None:  # noqa: ANN001
    from_json = parse(path.read_bytes(), path.name)
    xml = to_xml(from_json.resource)
    from_xml = parse(xml, path.name + ".xml")
    assert from_xml.findings == []
    assert canonical_divs(from_xml.resource) == canonical_divs(from_json.resource)
    assert read_message(from_xml.resource) == read_message(from_json.resource)
    assert sorted(map(_key, validate_bytes(xml, "x").findings)) == sorted(
        map(_key, validate_bytes(path.read_bytes(), "j").findings))


def test_the_same_finding_in_json_and_xml_has_each_forms_line() -> None:
    bundle = mutated(ADMISSION, lambda b: resource(b, "Encounter").update({"class": {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}))
    json_bytes, xml_bytes = dump(bundle), to_xml(bundle)
    [in_json] = [f for f in validate_bytes(json_bytes, "j").findings if f.rule == F_BINDING]
    [in_xml] = [f for f in validate_bytes(xml_bytes, "x").findings if f.rule == F_BINDING]
    assert in_json.xpath == in_xml.xpath == f"Bundle.entry[{entry_index(bundle, 'Encounter')}].resource.class"
    assert '"class"' in json_bytes.decode().splitlines()[in_json.line - 1]
    assert "<class>" in xml_bytes.decode().splitlines()[in_xml.line - 1]


def test_xml_primitive_extensions_and_repeats_become_json_arrays_and_twins() -> None:
    xml = b"""<Patient xmlns="http://hl7.org/fhir"><id value="p"/>
      <name><given value="A"/><given><extension url="http://x"><valueString value="y"/></extension></given></name>
      <birthDate value="2020-01-01"><extension url="http://t"><valueBoolean value="true"/></extension></birthDate>
      <deceasedBoolean value="false"/></Patient>"""
    parsed = parse(xml, "p.xml")
    assert parsed.findings == []
    assert parsed.resource == {
        "resourceType": "Patient", "id": "p",
        "name": [{"given": ["A", None], "_given": [None, {"extension": [{"url": "http://x", "valueString": "y"}]}]}],
        "birthDate": "2020-01-01", "_birthDate": {"extension": [{"url": "http://t", "valueBoolean": True}]},
        "deceasedBoolean": False}


def test_xml_that_is_not_fhir_xml_gives_findings() -> None:
    wrong_namespace = parse(b"<Bundle><type value='message'/></Bundle>", "a.xml")
    assert [f.rule for f in wrong_namespace.findings] == [F_XML] and wrong_namespace.resource is None
    unknown = parse(b'<Bundle xmlns="http://hl7.org/fhir"><nonsense value="1"/><type>message</type></Bundle>',
                    "b.xml")
    assert {f.rule for f in unknown.findings} == {F_STRUCTURE, F_XML}
    twice = parse(b'<Bundle xmlns="http://hl7.org/fhir"><type value="message"/><type value="batch"/></Bundle>', "c")
    assert any("occur only once" in f.text for f in twice.findings)


def test_xml_with_a_doctype_is_refused_before_parsing() -> None:
    evil = (b'<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Bundle xmlns="http://hl7.org/fhir"><id value="&x;"/></Bundle>')
    result = validate_bytes(evil, "evil.xml")
    assert [f.rule for f in result.findings] == [F_XML] and "DOCTYPE" in result.findings[0].text


HOSTILE = {
    "deep nesting": b'{"resourceType":"Bundle","entry":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep xml": b'<Bundle xmlns="http://hl7.org/fhir">' + b"<entry>" * 5000 + b"</entry>" * 5000 + b"</Bundle>",
    "huge integer": b'{"resourceType":"Bundle","total":' + b"9" * 100_000 + b"}",
    "huge exponent": b'{"resourceType":"Bundle","total":1e999999999}',
    "invalid utf-8": b'{"resourceType":"Bundle","id":"\xff\xfe"}',
    "lone surrogate": b'{"resourceType":"Bundle","id":"\\ud800"}',
    "NaN": b'{"resourceType":"Bundle","total":NaN}',
    "duplicate key": b'{"resourceType":"Bundle","type":"message","type":"batch"}',
    "array root": b"[1, 2, 3]",
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "not a bundle": b'{"resourceType":"Patient","id":"x"}',
    "unknown resource": b'{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Bogus"}}]}',
    "wrong shapes": b'{"resourceType":"Bundle","type":["message"],"entry":{"resource":1},"meta":"x"}',
    "over size": b'{"resourceType":"Bundle","id":"' + b"a" * 200 + b'"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_gives_findings_never_an_exception(name: str) -> None:
    result = validate_bytes(HOSTILE[name], name, max_bytes=200 if name == "over size" else 10_000_000)
    assert result.errors, name
    assert all(f.rule in (F_JSON, F_XML, F_STRUCTURE, F_PROFILE) for f in result.errors)


def test_nesting_just_within_the_limit_is_read() -> None:
    nested = b'{"resourceType":"Bundle","x":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert parse(nested, "n").resource is not None


def test_json_reading_findings_carry_the_line() -> None:
    result = validate_bytes(b'{\n"resourceType": "Bundle",\n"type": "message",\n"id": \n}', "broken.json")
    assert [(f.rule, f.line) for f in result.findings] == [(F_JSON, 5)]


def _mutations() -> st.SearchStrategy:
    """Random damage to a valid Bundle: drop, retype or duplicate any element anywhere."""
    return st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["drop", "null", "string", "number", "list",
                                                                          "object", "bool", "empty"])),
                    min_size=1, max_size=6)


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, path + (index,))
    return found


_REPLACEMENTS = {"null": None, "string": "x", "number": 10**30, "list": [], "object": {}, "bool": True, "empty": ""}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_randomly_damaged_bundles_give_findings_never_exceptions(damage: list) -> None:
    bundle = copy.deepcopy(load(ADMISSION))
    for position, how in damage:
        paths = _paths(bundle)
        if not paths:
            break
        *parent_path, last = paths[position % len(paths)]
        parent = bundle
        for step in parent_path:
            parent = parent[step]
        if how == "drop":
            del parent[last]
        else:
            parent[last] = _REPLACEMENTS[how]
    data = json.dumps(bundle).encode()
    result = validate_bytes(data, "damaged.json")
    assert {f.rule for f in result.findings + result.unchecked} <= set(ALL)
    read_message(parse(data, "damaged.json").resource)


def test_fhir_is_told_apart_from_oioxml_cheaply() -> None:
    from medcom.formats.fhir import looks_like_fhir
    assert looks_like_fhir(ADMISSION.read_bytes())
    assert looks_like_fhir(to_xml(load(ADMISSION)))
    assert not looks_like_fhir(b'<?xml version="1.0"?><Emessage xmlns="urn:oio:medcom:municipality:1.0.3"/>')
    assert looks_like_fhir(b'["not", "a resource"]')  # JSON: reported as F-JSON (not a resource), not as bad XML


@pytest.mark.parametrize("naming", [
    (b"?>", b"?><!-- converted from http://hl7.org/fhir -->"),
    (b"<Emessage ", b'<Emessage xmlns:fhir="http://hl7.org/fhir" '),
    (b"?>", b'?><?note http://hl7.org/fhir?>'),
], ids=["comment", "spare namespace", "processing instruction"])
def test_an_oioxml_letter_naming_fhirs_namespace_is_read_as_oioxml(naming) -> None:  # noqa: ANN001
    """The namespace in a comment, a PI or a spare declaration of an OIOXML letter: still OIOXML (before: sorted as
    FHIR and rejected with F-XML "root element ... is not in the FHIR namespace", a false reject)."""
    from medcom.formats.fhir import looks_like_fhir
    from medcom.formats.read import read_document
    sample = ROOT / "tests" / "data" / "oioxml" / "medcom-samples" / "DIS20_1.xml"
    plain = sample.read_bytes()
    named = plain.replace(*naming, 1)
    assert named != plain and not looks_like_fhir(named)

    def verdict(data: bytes) -> list:
        return [(m.format, m.family, sorted(f.rule for f in m.findings)) for m in read_document(data, "x.xml")]
    assert verdict(named) == verdict(plain) and verdict(plain)[0][0] == "oioxml"


_SURROGATES = st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010) | st.characters(max_codepoint=0x7F)


@settings(max_examples=150, deadline=None)
@given(st.text(_SURROGATES, max_size=6), st.text(_SURROGATES, max_size=6), st.booleans())
def test_a_lone_surrogate_is_refused_wherever_its_escape_is(key: str, value: str, upper: bool) -> None:
    """A lone surrogate (`\\ud800`-`\\udfff` escaped, in either case, unpaired) in a key or a value is refused; a
    pair is one character and read (the reader searches the value only where the text has such an escape)."""
    text = json.dumps({"resourceType": "Bundle", "id": "x", "extension": [{key: value}]})
    if upper:
        text = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(), text)
    loaded = json.loads(text)
    lone = any(0xD800 <= ord(c) <= 0xDFFF for part in loaded["extension"][0].items() for s in part for c in s)
    try:
        read_json(text.encode(), max_bytes=10_000)
    except JSONProblem as problem:
        assert lone and "lone surrogate" in str(problem)
    else:
        assert not lone
