"""FHIR XML -> the same JSON-like dict FHIR JSON gives, with each element's source line.

FHIR's XML form: elements in the `http://hl7.org/fhir` namespace, primitives as `value` attributes, an element's
`id` and an extension's `url` as attributes, repeated elements for lists, a contained resource as the one child
of its element, the narrative as an XHTML `div`. Which elements repeat and how each primitive is written in JSON
comes from the base model (`basemodel`); the document is parsed by `medcom.formats.xmlsafe` (no DTD, no entities,
no network, a size limit).
"""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from medcom.findings import Finding, Severity
from medcom.formats import xmlsafe
from medcom.formats.fhir.basemodel import ElementInfo, element_order, elements, is_resource_type
from medcom.formats.fhir.jsonread import reasonable_decimal
from medcom.formats.fhir.locations import LineMap, Path, fhirpath
from medcom.formats.fhir.primitives import CHECKS
from medcom.formats.fhir.rules import F_STRUCTURE, F_XML
from medcom.quoting import quoted

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,39})")  # FHIR's integer (and JSON's): no sign '+', no leading zeros


class XMLProblem(ValueError):
    """The document is not FHIR XML at all; `line` where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _Reader:
    def __init__(self, file: str, root_type: str) -> None:
        self.file = file
        self.root_type = root_type
        self.lines: dict[Path, int] = {}
        self.findings: list[Finding] = []

    def problem(self, path: Path, line: int | None, text: str, rule: str = F_STRUCTURE) -> None:
        self.findings.append(Finding(rule, Severity.ERROR, text, self.file, line, fhirpath(self.root_type, path)))

    def resource(self, element: etree._Element, path: Path) -> dict:
        name = etree.QName(element).localname
        self.lines.setdefault(path, element.sourceline)
        out: dict = {"resourceType": name}
        self._attributes(element, path, allowed=())
        self._children(element, name, path, out)
        return out

    def _attributes(self, element: etree._Element, path: Path, allowed: tuple[str, ...]) -> None:
        for attribute in element.attrib:
            if attribute.startswith("{"):
                continue  # namespaced attributes (xsi:schemaLocation...) are not FHIR content
            if attribute not in allowed:
                self.problem(path, element.sourceline, f"attribute {quoted(attribute)} is not allowed here")

    def _children(self, element: etree._Element, type_name: str, path: Path, out: dict) -> None:
        if element.text and element.text.strip():
            self.problem(path, element.sourceline, "text content is not allowed here (FHIR XML uses value attributes)",
                         F_XML)
        self._tails(element, path)
        extras: dict[str, list] = {}
        order, last = element_order(type_name), ""
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            name = etree.QName(child).localname
            child_path = path + (name,)
            info = self._element(child, type_name, child_path, is_resource="resourceType" in out)
            if info is None:
                continue
            if order.get(name, 0) < order.get(last, 0):  # the specification's order, a list's items together
                self.problem(child_path, child.sourceline, f"element {quoted(name)} is out of order: FHIR XML puts it "
                             f"before {quoted(last)} in {type_name}", F_XML)
            else:
                last = name
            if info.is_list:
                items = out.setdefault(name, [])
                child_path = child_path + (len(items),)
            elif name in out or "_" + name in out:
                self.problem(child_path, child.sourceline, f"element {quoted(name)} repeats but it can occur only once")
                continue
            self.lines.setdefault(child_path, child.sourceline)
            value, extra = self._value(child, info, child_path)
            if info.is_list:
                out[name].append(value)
                extras.setdefault(name, []).append(extra)
            else:
                if value is not None:
                    out[name] = value
                if extra is not None:
                    out["_" + name] = extra
        for name, items in extras.items():
            if any(item is not None for item in items):
                out["_" + name] = items
            if all(item is None for item in out[name]):
                del out[name]

    def _tails(self, element: etree._Element, path: Path) -> None:
        """Text between or after an element's children (comments and processing instructions included)."""
        for child in element:
            if child.tail and child.tail.strip():
                self.problem(path, child.sourceline, "text content is not allowed here", F_XML)

    def _element(self, child: etree._Element, type_name: str, path: Path, *, is_resource: bool) -> ElementInfo | None:
        """What the base model says of a child element; None (with a finding) where FHIR XML has no such element."""
        qname = etree.QName(child)
        name = qname.localname
        if qname.namespace != FHIR_NS and not (name == "div" and qname.namespace == XHTML_NS):
            self.problem(path, child.sourceline, f"element {quoted(child.tag)} is not in the FHIR namespace", F_XML)
            return None
        info = elements(type_name).get(name)
        # a datatype's id and an extension's url are attributes in FHIR XML
        if info is None or (name == "id" and not is_resource) or (name == "url" and type_name == "Extension"):
            self.problem(path, child.sourceline, f"unknown element {quoted(name)} in {type_name}")
            return None
        return info

    def _value(self, child: etree._Element, info: ElementInfo, path: Path) -> tuple[object, dict | None]:
        if info.kind == "resource":
            self._attributes(child, path, allowed=())
            if child.text and child.text.strip():
                self.problem(path, child.sourceline, "text content is not allowed here", F_XML)
            self._tails(child, path)
            inner = [c for c in child if isinstance(c.tag, str)]
            if len(inner) != 1 or not is_resource_type(etree.QName(inner[0]).localname) \
                    or etree.QName(inner[0]).namespace != FHIR_NS:
                self.problem(path, child.sourceline, f"'{info.name}' must hold exactly one FHIR resource")
                return {}, None
            return self.resource(inner[0], path), None
        if info.kind == "xhtml":
            if etree.QName(child).namespace != XHTML_NS:
                self.problem(path, child.sourceline, "the narrative div must be in the XHTML namespace", F_XML)
            return etree.tostring(child, encoding="unicode", with_tail=False), None
        if info.kind == "complex":
            self._attributes(child, path, ("id", "url") if info.fhir_type == "Extension" else ("id",))
            out: dict = {}
            if "id" in child.attrib:
                out["id"] = child.attrib["id"]
            if "url" in child.attrib and info.fhir_type == "Extension":
                out["url"] = child.attrib["url"]
            self._children(child, info.fhir_type, path, out)
            return out, None
        return self._primitive(child, info, path)

    def _primitive(self, child: etree._Element, info: ElementInfo, path: Path) -> tuple[object, dict | None]:
        self._attributes(child, path, ("id", "value"))
        raw = child.attrib.get("value")
        extra: dict = {}
        if "id" in child.attrib:
            extra["id"] = child.attrib["id"]
        extensions = [c for c in child if isinstance(c.tag, str)]
        for position, ext in enumerate(extensions):
            if etree.QName(ext).localname != "extension" or etree.QName(ext).namespace != FHIR_NS:
                self.problem(path, ext.sourceline, f"a primitive ({info.name}) holds only extensions")
                continue
            ext_path = path + ("extension", position)
            self.lines.setdefault(ext_path, ext.sourceline)
            value, _ = self._value(ext, elements("Element")["extension"], ext_path)
            extra.setdefault("extension", []).append(value)
        self._tails(child, path)
        if child.text and child.text.strip():
            self.problem(path, child.sourceline, "text content is not allowed (FHIR XML uses the value attribute)",
                         F_XML)
        elif raw is None and not extensions:  # ele-1: FHIR JSON has no form for it at all
            self.problem(path, child.sourceline, f"element {quoted(info.name)} has neither a value attribute nor "
                         "extensions", F_XML)
            extra = {}  # an id alone: said here, not again by the structure check (as JSON's `{"id": ...}` is)
        return (None if raw is None else _json_primitive(raw, info.kind)), (extra or None)


def _json_primitive(raw: str, kind: str) -> object:
    """The JSON form of an XML value attribute; a value that cannot be converted, or is not written as FHIR
    writes its type (Python's int() and Decimal() take '01', '+1', '.5', '1_0', ' 1' and other digits), stays a
    string (and is flagged by the base check as the wrong JSON type for its element)."""
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "integer":
        return int(raw) if _INTEGER.fullmatch(raw) else raw
    if kind == "decimal":
        if len(raw) > 40 or CHECKS["decimal"](raw) is not None:  # FHIR's (and JSON's) form, not Decimal()'s
            return raw
        value = Decimal(raw)
        return value if reasonable_decimal(value) else raw
    return raw


def read_xml(data: bytes, file: str, *, max_bytes: int) -> tuple[dict, LineMap, list[Finding]]:
    """Parse FHIR XML into FHIR's JSON shape; raises `XMLProblem` when it is not FHIR XML at all."""
    try:
        tree = xmlsafe.parse_bytes(data, max_bytes=max_bytes)
    except xmlsafe.UnsafeXMLError as exc:
        raise XMLProblem(str(exc), exc.line) from None
    root = tree.getroot()
    qname = etree.QName(root)
    if qname.namespace != FHIR_NS:
        raise XMLProblem(f"root element {quoted(root.tag)} is not in the FHIR namespace {FHIR_NS}", root.sourceline)
    if not is_resource_type(qname.localname):
        raise XMLProblem(f"root element {quoted(qname.localname)} is not a FHIR resource", root.sourceline)
    reader = _Reader(file, qname.localname)
    resource = reader.resource(root, ())
    return resource, LineMap(reader.lines), reader.findings
