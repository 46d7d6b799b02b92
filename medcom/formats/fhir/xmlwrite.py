"""A resource in FHIR JSON's shape -> FHIR XML (the inverse of `xmlread`), elements in the specification's order."""

from __future__ import annotations

from decimal import Decimal
from itertools import zip_longest

from lxml import etree

from medcom.formats import xmlsafe
from medcom.formats.fhir.basemodel import element_order, elements
from medcom.formats.fhir.xmlread import FHIR_NS

_F = f"{{{FHIR_NS}}}"
_XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float):
        return str(value)
    return str(value)


def _resource(resource: dict) -> etree._Element:
    kind = str(resource["resourceType"])
    element = etree.Element(_F + kind, nsmap={None: FHIR_NS})
    _fill(element, resource, kind, is_resource=True)
    return element


def _fill(element: etree._Element, obj: dict, type_name: str, *, is_resource: bool) -> None:
    known = elements(type_name)
    if not is_resource:
        if "id" in obj:
            element.set("id", str(obj["id"]))
        if type_name == "Extension" and "url" in obj:
            element.set("url", str(obj["url"]))
    names = {key.lstrip("_") for key in obj if key != "resourceType"}
    if not is_resource:
        names -= {"id", "url"} if type_name == "Extension" else {"id"}
    order = element_order(type_name)
    for name in sorted(names, key=lambda n: (order.get(n, len(order)), n)):
        info = known.get(name)
        if info is None:
            continue  # not in the base model: nothing FHIR XML could say for it
        values, twins = obj.get(name), obj.get("_" + name)
        values = values if isinstance(values, list) else [values]
        twins = twins if isinstance(twins, list) else [twins]
        for value, twin in zip_longest(values, twins):
            if value is None and twin is None:
                continue
            if info.kind == "xhtml":
                element.append(xmlsafe.parse_bytes(str(value).encode("utf-8")).getroot())
                continue
            child = etree.SubElement(element, _F + name)
            if info.kind == "resource":
                child.append(_resource(value))
            elif info.kind == "complex":
                _fill(child, value, info.fhir_type, is_resource=False)
            else:
                if value is not None:
                    child.set("value", _text(value))
                if isinstance(twin, dict):
                    _fill(child, twin, "Element", is_resource=False)


def _indent(element: etree._Element, depth: int = 0) -> None:
    """Indent the FHIR elements, one per line; the narrative's XHTML is left exactly as it was."""
    if etree.QName(element).namespace != FHIR_NS:
        return  # the narrative's XHTML (its comments too) as it was
    children = [c for c in element if etree.QName(c).namespace == FHIR_NS or c.tag == _XHTML_DIV]
    if not children:
        return
    element.text = "\n" + "  " * (depth + 1)
    for child in children:
        _indent(child, depth + 1)
        child.tail = "\n" + "  " * (depth + 1)
    children[-1].tail = "\n" + "  " * depth


def to_xml(resource: dict) -> bytes:
    """FHIR XML of a resource (UTF-8, with an XML declaration, indented outside the narrative)."""
    root = _resource(resource)
    _indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
