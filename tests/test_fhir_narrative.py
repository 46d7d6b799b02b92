"""txt-1 and txt-2, the narrative's htmlChecks() (R4 narrative.html#rules), evaluated on every narrative: before,
counted as not checked where a profile reached Narrative.div and not even counted where none did (HospitalNotification,
Acknowledgement), and a narrative with a script, an event attribute, a form, a stray namespace, malformed XHTML or
no content was accepted. JSON and XML alike."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from helpers.fhir import ACK_OK, ADMISSION, CARE_NEW, dump, load, mutated, resource

from medcom.formats.fhir import to_xml, validate_bytes
from medcom.formats.fhir.base_invariants import _ATTRIBUTES, _ELEMENTS, _XML_LANG, narrative_rules
from medcom.formats.fhir.structure import EXT_1, TXT_1, TXT_2

_X = 'xmlns="http://www.w3.org/1999/xhtml"'
_WHERE = "Bundle.entry[{}].resource.text.div"


def _organisation_with(div: str) -> tuple[dict, str]:
    bundle = mutated(CARE_NEW, lambda b: resource(b, "Organization")["text"].update({"div": div}))
    index = next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Organization")
    return bundle, _WHERE.format(index)


def _invariants(bundle: dict, form: str) -> set[tuple[str, str | None, str]]:
    data = dump(bundle) if form == "json" else to_xml(bundle)
    return {(str(f.severity), f.xpath, f.text.split(":")[0]) for f in validate_bytes(data, "m." + form).findings
            if f.rule == "F-INVARIANT"}


BROKEN_1 = [f'<div {_X}><script>alert(1)</script>a</div>', f'<div {_X}><p onclick="x()">a</p></div>',
            f'<div {_X}><form action="http://x">a</form></div>', f'<div {_X}><iframe src="http://x"/>a</div>',
            f'<div {_X}><p xmlns:o="urn:o" o:x="1">a</p></div>', f'<div {_X}><object data="x">a</object></div>',
            f'<div {_X}><link rel="stylesheet" href="http://x/s.css"/>a</div>', f'<p {_X}>a</p>',
            '<div xmlns="urn:not-xhtml">a</div>', f'<div {_X}><p>a</div>']
FINE = [f'<div {_X}>a</div>', f'<div {_X} xml:lang="da" lang="da"><p style="color: red" class="c">a</p></div>',
        f'<div {_X}><table class="grid"><tr><td style="display: none">-</td><td colspan="2"><a href="#x">b</a>'
        '</td></tr></table></div>', f'<div {_X}><img src="#pic" alt=""/></div>', f'<div {_X}><!-- c --><b>a</b></div>',
        f'<div {_X}>\u00a0</div>', f'<div {_X}><p>&#160;</p></div>']  # a no-break space is content (normalize-space)
BROKEN_2 = [f'<div {_X}> </div>', f'<div {_X}><p>\n</p><br/></div>', f'<div {_X}><img alt="x"/></div>']


@pytest.mark.parametrize("form", ["json", "xml"])
@pytest.mark.parametrize("div", BROKEN_1)
def test_txt_1_an_element_or_attribute_the_narrative_may_not_have(form: str, div: str) -> None:
    bundle, where = _organisation_with(div)
    if form == "xml" and ("<p>a</div>" in div or not div.startswith(f"<div {_X}")):
        return  # no FHIR XML holds it as a narrative div (malformed; another element or namespace than XHTML's div)
    assert ("error", where, "txt-1") in _invariants(bundle, form)


@pytest.mark.parametrize("form", ["json", "xml"])
@pytest.mark.parametrize("div", BROKEN_2)
def test_txt_2_a_narrative_without_content(form: str, div: str) -> None:
    bundle, where = _organisation_with(div)
    assert _invariants(bundle, form) == {("error", where, "txt-2")}


@pytest.mark.parametrize("form", ["json", "xml"])
@pytest.mark.parametrize("div", FINE)
def test_a_narrative_of_the_allowed_xhtml_is_fine(form: str, div: str) -> None:
    assert _invariants(_organisation_with(div)[0], form) == set()


def test_a_dtd_is_refused_and_not_read() -> None:
    assert narrative_rules('<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><div>&e;</div>') == (False, True)


def test_the_lists_are_r4s_own() -> None:
    """The elements and attributes are txt-1's XPath form as the shipped snapshots state it, and the texts of
    txt-1, txt-2 and ext-1 the structure check gives are theirs."""
    package = Path(__file__).parents[1] / "medcom" / "schemas" / "fhir" / "medcom.fhir.dk.messaging-4.0.2.tgz"
    with tarfile.open(package) as archive:
        texts = [archive.extractfile(m).read() for m in archive.getmembers()  # type: ignore[union-attr]
                 if m.name.startswith("package/StructureDefinition-") and m.name.endswith(".json")]
    constraints = [c for text in texts for e in (json.loads(text).get("snapshot") or {}).get("element", ())
                   for c in e.get("constraint", ()) if c["key"] in ("txt-1", "txt-2", "ext-1")]
    assert {f"{c['key']}: {c['human']}" for c in constraints} == {TXT_1, TXT_2, EXT_1}  # the structure check's texts
    xpaths = {c["xpath"] for c in constraints if c["key"] == "txt-1"}
    assert len(xpaths) == 1
    xpath = xpaths.pop()
    elements, attributes = re.findall(r"=\(([^)]*)\)", xpath)
    assert set(re.findall(r"'([^']+)'", elements)) == _ELEMENTS
    assert set(re.findall(r"'([^']+)'", attributes)) | {_XML_LANG} == _ATTRIBUTES


@pytest.mark.parametrize("form", ["json", "xml"])
@pytest.mark.parametrize("example", [ADMISSION, ACK_OK])
def test_every_narrative_is_judged_where_no_profile_reaches_its_div(form: str, example: Path) -> None:
    """HospitalNotification's and Acknowledgement's profiles do not expand Narrative.div: the structure check judges
    it (the same finding, said once where a profile judges it too: CareCommunication's, above)."""
    for index, entry in enumerate(load(example)["entry"]):
        clean = mutated(example, lambda b, i=index: b["entry"][i]["resource"].update(
            {"text": {"status": "generated", "div": FINE[1]}}))
        assert _invariants(clean, form) == set()
        broken = mutated(example, lambda b, i=index: b["entry"][i]["resource"].update(
            {"text": {"status": "generated", "div": BROKEN_1[0]}}))  # after the clean one: a remembered walk
        assert _invariants(broken, form) == {("error", _WHERE.format(index), "txt-1")}, entry["resource"]["id"]
