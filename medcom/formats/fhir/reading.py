"""Bytes -> a FHIR resource in FHIR JSON's shape, from JSON or XML, with lines and findings, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from medcom.findings import Finding, Severity
from medcom.formats.fhir.jsonread import JSONProblem, json_finding, read_json
from medcom.formats.fhir.locations import LineMap
from medcom.formats.fhir.rules import F_XML
from medcom.formats.fhir.xmlread import FHIR_NS, XMLProblem, read_xml
from medcom.formats.xmlsafe import root_start_in

DEFAULT_MAX_BYTES = 10_000_000


@dataclass
class ParsedResource:
    """A parsed document: the resource (None if it could not be read), its format, lines and reading findings."""

    resource: dict | None
    format: str  # 'json' | 'xml'
    lines: LineMap = field(default_factory=LineMap)
    findings: list[Finding] = field(default_factory=list)


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _head(data: bytes, size: int = 1024) -> str:
    """The start of a document as text, whatever Unicode encoding it is in (told by its byte-order mark, or by
    where the NULs of its first character are), for recognising what it is; the first `size` bytes only."""
    head = data[:size]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(codec, "ignore")
    if head[:3] == b"\x00\x00\x00":
        codec = "utf-32-be"
    elif head[1:4] == b"\x00\x00\x00":
        codec = "utf-32-le"
    elif head[:1] == b"\x00":
        codec = "utf-16-be"
    elif head[1:2] == b"\x00":
        codec = "utf-16-le"
    else:
        return head.decode("latin-1")  # ASCII-compatible: the first characters are what matter
    return head.decode(codec, "ignore")


def sniff(data: bytes) -> str:
    """'xml' when the document starts (after a BOM and white space, in any Unicode encoding) with '<', else
    'json'."""
    return "xml" if _head(data, 64).lstrip(" \t\r\n").startswith("<") else "json"


def looks_like_fhir(data: bytes) -> bool:
    """Whether a document is meant as FHIR: JSON (an object, or an array, which is then reported as not a
    resource), or XML whose root element is in the FHIR namespace. A cheap test on the document's start, in any
    Unicode encoding (UTF-16 JSON is then reported as not UTF-8), for sorting a mixed log; `parse` decides for
    real. XML that does not name the namespace in its first kilobyte is not FHIR, unless that kilobyte ends
    before the root's start tag does (after the declaration, comments and processing instructions) and the
    root is in the namespace; XML that does name it (an OIOXML letter may carry it in a comment or a spare
    namespace declaration) is FHIR when its root element is, as far as the start of the document tells."""
    head = _head(data).lstrip(" \t\r\n")
    if not head.startswith("<"):
        return head.startswith(("{", "["))
    if "<!DOCTYPE" in head:  # read no DTD even to sort: FHIR's reading refuses it with an F-XML finding
        return FHIR_NS in head
    if FHIR_NS not in head:  # unless the root's start tag comes later (a long comment before it): ask the parser
        return len(data) > 1024 and not root_start_in(head) and _root_namespace(data) == FHIR_NS
    namespace = _root_namespace(data)
    return namespace is None or namespace == FHIR_NS


def _root_namespace(data: bytes, limit: int = 65_536) -> str | None:
    """The namespace of the root element, from the first `limit` bytes (None: not told there, or not XML)."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, load_dtd=False, no_network=True,
                                 huge_tree=False)
    try:
        for start in range(0, min(len(data), limit), 4096):
            parser.feed(data[start:start + 4096])
            for _event, element in parser.read_events():
                return etree.QName(element).namespace
    except (etree.LxmlError, ValueError, LookupError):
        return None
    return None


def parse(data: bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedResource:
    """Read FHIR JSON or XML; a document that cannot be read gives a finding (F-JSON / F-XML) and no resource."""
    if sniff(data) == "xml":
        try:
            resource, lines, findings = read_xml(data, file, max_bytes=max_bytes)
        except XMLProblem as exc:
            return ParsedResource(None, "xml", findings=[Finding(F_XML, Severity.ERROR, str(exc), file, exc.line)])
        except RecursionError:
            return ParsedResource(None, "xml", findings=[Finding(F_XML, Severity.ERROR, "nested too deeply", file)])
        return ParsedResource(resource, "xml", lines, findings)
    try:
        value, lines = read_json(data, max_bytes=max_bytes)
    except JSONProblem as exc:
        return ParsedResource(None, "json", findings=[json_finding(exc, file)])
    if not isinstance(value, dict):
        return ParsedResource(None, "json", lines, [json_finding(JSONProblem(
            f"a FHIR resource is a JSON object, not {type(value).__name__}", 1), file)])
    return ParsedResource(value, "json", lines)
