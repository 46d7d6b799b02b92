"""Bytes -> a FHIR resource in FHIR JSON's shape, from JSON or XML, with lines and findings, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field

from medcom.findings import Finding, Severity
from medcom.formats.fhir.jsonread import JSONProblem, json_finding, read_json
from medcom.formats.fhir.locations import LineMap
from medcom.formats.fhir.rules import F_XML
from medcom.formats.fhir.xmlread import XMLProblem, read_xml

DEFAULT_MAX_BYTES = 10_000_000


@dataclass
class ParsedResource:
    """A parsed document: the resource (None if it could not be read), its format, lines and reading findings."""

    resource: dict | None
    format: str  # 'json' | 'xml'
    lines: LineMap = field(default_factory=LineMap)
    findings: list[Finding] = field(default_factory=list)


def sniff(data: bytes) -> str:
    """'xml' when the document starts (after a BOM and white space) with '<', else 'json'."""
    head = data[:64].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    return "xml" if head.startswith((b"<", b"<\x00")) else "json"


def looks_like_fhir(data: bytes) -> bool:
    """Whether a document is meant as FHIR: JSON (an object), or XML whose start names the FHIR namespace. A cheap
    test on the first kilobyte, for sorting a mixed log; `parse` decides for real."""
    head = data[:1024]
    if sniff(data) == "json":
        return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    return b"http://hl7.org/fhir" in head or b"h\x00t\x00t\x00p\x00:\x00/\x00/\x00h\x00l\x007\x00" in head


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
