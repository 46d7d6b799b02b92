"""FHIR XML's form beyond its elements' names: each type's elements in the specification's order (a list's items
together), a datatype's id and an extension's url as attributes, no element without a value or children (ele-1).
MedCom FHIR messages travel as `application/fhir+xml` as well as JSON; a receiver validating against FHIR's XML
schema rejects a message that breaks any of these, so medcom must not accept it."""

from __future__ import annotations

import json
import tarfile
from importlib import resources

import pytest
from helpers.fhir import ACK_OK, ADMISSION, CARE_NEW, load
from lxml import etree

from medcom.formats.fhir import validate_bytes
from medcom.formats.fhir.basemodel import element_order
from medcom.formats.fhir.rules import F_XML
from medcom.formats.fhir.xmlread import FHIR_NS
from medcom.formats.fhir.xmlwrite import to_xml

_F = f"{{{FHIR_NS}}}"


def _snapshots() -> list[dict]:
    """Every StructureDefinition snapshot of the shipped IG packages (all built on FHIR R4 4.0.1)."""
    found = []
    for package in sorted(resources.files("medcom").joinpath("schemas", "fhir").iterdir(), key=str):
        if not package.name.endswith(".tgz"):
            continue
        with package.open("rb") as stream, tarfile.open(fileobj=stream, mode="r:gz") as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.endswith(".json"):
                    try:
                        document = json.load(archive.extractfile(member))  # type: ignore[arg-type]
                    except ValueError:
                        continue
                    if isinstance(document, dict) and document.get("resourceType") == "StructureDefinition" \
                            and "snapshot" in document:
                        found.append(document)
    return found


def test_the_order_medcom_reads_is_r4s_as_every_shipped_snapshot_lists_it() -> None:
    """The order comes from fhir.resources' R4B models; R4's snapshots (MedCom's and dk-core's profiles of
    resources, backbone elements and datatypes) are the oracle for every element they list."""
    compared = 0
    for snapshot in _snapshots():
        children: dict[str, list[str]] = {}
        for element in snapshot["snapshot"]["element"]:
            parts = element["path"].split(".")
            if len(parts) < 2 or ":" in element.get("id", ""):
                continue  # the root, and slices (which repeat their element's place)
            names = children.setdefault(".".join(parts[:-1]), [])
            if parts[-1] not in names:
                names.append(parts[-1])
        for parent, names in children.items():
            steps = parent.split(".")
            type_name = steps[0] + "".join(step[:1].upper() + step[1:] for step in steps[1:])  # BundleEntry...
            order = element_order(type_name)
            if not order:
                continue  # a datatype element's children (Encounter.class.system): Coding's order, seen elsewhere
            places = []
            for name in names:
                typed = [place for element, place in order.items()
                         if element == name or (name.endswith("[x]") and element.startswith(name[:-3]))]
                assert typed, (snapshot["url"], parent, name)
                places.append(min(typed))
            assert places == sorted(places), (snapshot["url"], parent, names)
            compared += 1
    assert compared > 500


def _siblings(root: etree._Element) -> list[etree._Element]:
    """Parents with two FHIR elements of different names next to each other (the narrative's XHTML left out)."""
    return [parent for parent in root.iter(_F + "*")
            if any(a.tag != b.tag for a, b in zip(_children(parent), _children(parent)[1:], strict=False))]


def _children(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str) and child.tag.startswith(_F)]


def _errors(xml: bytes) -> list:
    return [f for f in validate_bytes(xml, "m.xml").findings if f.severity.name == "ERROR"]


@pytest.mark.parametrize("example", [ADMISSION, CARE_NEW, ACK_OK], ids=lambda p: p.parent.name)
def test_two_elements_swapped_anywhere_are_an_error(example) -> None:  # noqa: ANN001
    """Every place of three examples where two different elements sit side by side, swapped: each is an F-XML
    error naming the element out of order (before: read as if in order, and the message accepted)."""
    written = to_xml(load(example))
    assert _errors(written) == []
    places = len(_siblings(etree.fromstring(written)))
    assert places > 20
    for index in range(places):
        root = etree.fromstring(written)
        parent = _siblings(root)[index]
        kids = _children(parent)
        first = next(i for i in range(len(kids) - 1) if kids[i].tag != kids[i + 1].tag)
        parent.replace(kids[first + 1], etree.Element("placeholder"))
        parent.replace(kids[first], kids[first + 1])
        parent.replace(parent.find("placeholder"), kids[first])
        found = [f for f in _errors(etree.tostring(root)) if f.rule == F_XML and "out of order" in f.text]
        assert found, (example.name, root.getroottree().getpath(parent))


def test_a_list_split_by_another_element_is_an_error() -> None:
    xml = (b'<Patient xmlns="http://hl7.org/fhir"><id value="p"/><identifier><value value="1"/></identifier>'
           b'<active value="true"/><identifier><value value="2"/></identifier></Patient>')
    [finding] = [f for f in _errors(xml) if f.rule == F_XML]
    assert "'identifier' is out of order" in finding.text and "before 'active'" in finding.text
    in_order = xml.replace(b'<active value="true"/>', b"").replace(b"</Patient>", b'<active value="true"/></Patient>')
    assert [f for f in _errors(in_order) if f.rule == F_XML] == []


def test_an_extensions_url_written_as_an_element_is_an_error() -> None:
    bundle = load(ADMISSION)
    written = to_xml(bundle)
    root = etree.fromstring(written)
    extension = next(root.iter(_F + "extension"))
    url = extension.attrib.pop("url")
    etree.SubElement(extension, _F + "url").set("value", url)
    extension.insert(0, extension[-1])  # where the specification's order would put it
    assert any("unknown element 'url' in Extension" in f.text for f in _errors(etree.tostring(root)))


@pytest.mark.parametrize("empty", ['<gender/>', '<gender id="g"/>'])
def test_a_primitive_element_without_a_value_or_extensions_is_an_error(empty) -> None:  # noqa: ANN001
    """ele-1: an element has a value or children; before, it was dropped and the message read as without it."""
    xml = f'<Patient xmlns="http://hl7.org/fhir"><id value="p"/>{empty}</Patient>'.encode()
    assert any(f.rule == F_XML and "neither a value attribute nor extensions" in f.text for f in _errors(xml))
    valued = xml.replace(b"<gender", b'<gender value="male"')
    assert [f for f in _errors(valued) if f.rule == F_XML] == []
