"""Validate one message document: hardened parse, schema, identifiers and message-level rules.

Every problem becomes a `Finding` with its rule id (RULES.md M-*), severity, file, line and a readable
XPath. A schema error does not stop the identifier and time checks: they run on whatever was parsed,
so one run reports every problem of a file.
"""

from __future__ import annotations

import contextlib
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from medcom.business_calendar import LocalTimeKind, classify_local
from medcom.codec import DecodeError, decode, decode_block, identify, read_datetime
from medcom.families import FamilySpec, schema_for
from medcom.identifiers import check_cpr, check_gln, check_municipality
from medcom.model import (
    AcknowledgementCode,
    AdmissionAdvice,
    ClinicalMessage,
    DischargeAdvice,
    DischargeReport,
    IdentifierKind,
    LetterStatus,
    Message,
    Party,
)
from medcom.xmlsafe import DEFAULT_MAX_BYTES, UnsafeXMLError, parse_bytes


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One rule broken by one input: what, where, how bad."""

    rule: str
    severity: Severity
    text: str
    file: str
    line: int | None = None
    xpath: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": str(self.severity), "file": self.file, "line": self.line,
                "xpath": self.xpath, "text": self.text}


@dataclass
class CheckedDocument:
    """The outcome for one input document."""

    source: str
    family: FamilySpec | None = None
    message: Message | None = None
    envelope_id: str | None = None
    receipt_requested: bool = False
    sender_ean: str | None = None
    sender: Party | None = None  # read leniently: present whenever the block itself is complete
    receiver: Party | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


def readable_path(el: etree._Element) -> str:
    """/Emessage/ProgressOfCarePlan/Patient/CivilRegistrationNumber, with [n] where siblings share a name."""
    parts = []
    while el is not None:
        name = etree.QName(el).localname
        parent = el.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
            if len(same) > 1:
                name += f"[{same.index(el) + 1}]"
        parts.append(name)
        el = parent
    return "/" + "/".join(reversed(parts))


_NS_IN_TEXT = re.compile(r"\{[^}]*\}")


class _Collector:
    def __init__(self, doc: CheckedDocument) -> None:
        self.doc = doc

    def add(self, rule: str, severity: Severity, text: str, el: etree._Element | None = None,
            line: int | None = None) -> None:
        self.doc.findings.append(Finding(
            rule, severity, text, self.doc.source,
            line if line is not None else (el.sourceline if el is not None else None),
            readable_path(el) if el is not None else None,
        ))


def check_bytes(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedDocument:
    """Check one document's bytes; never raises for bad input, every problem is a finding."""
    doc = CheckedDocument(source)
    out = _Collector(doc)
    try:
        tree = parse_bytes(data, max_bytes=max_bytes)
    except UnsafeXMLError as exc:
        out.add("M-XML", Severity.ERROR, str(exc), line=exc.line)
        return doc
    root = tree.getroot()
    _read_envelope(root, doc)
    spec, body = identify(root)
    doc.family = spec
    if spec is None:
        out.add("M-SCHEMA", Severity.ERROR,
                f"not a known MedCom-style message (root {_NS_IN_TEXT.sub('', root.tag)} in namespace "
                f"{etree.QName(root).namespace or 'none'}); no schema to validate it against", root)
        return doc
    schema = schema_for(spec.schema_file)
    schema_ok = schema.validate(tree)
    for error in schema.error_log:
        hits = root.xpath(error.path) if error.path else []
        el = hits[0] if hits and isinstance(hits[0], etree._Element) else None
        out.add("M-SCHEMA", Severity.ERROR, _NS_IN_TEXT.sub("", error.message), el, line=error.line)
    _check_identifiers(root, out)
    _check_local_times(root, spec.namespace, out)
    _check_status(body, spec.namespace, out)
    try:
        doc.message = decode(root)
    except DecodeError as exc:
        if schema_ok:  # otherwise the schema errors already say it
            out.add("M-SCHEMA", Severity.ERROR, str(exc), exc.element)
    if doc.message is not None:
        _check_sent_after_event(doc.message, root, out)
    return doc


def _read_envelope(root: etree._Element, doc: CheckedDocument) -> None:
    """Envelope id, receipt request and parties, read leniently (any namespace, any version) so that
    invalid messages and unknown versions can still be answered with a negative receipt."""
    doc.envelope_id = (root.findtext("{*}Envelope/{*}Identifier") or "").strip() or None
    doc.receipt_requested = (root.findtext("{*}Envelope/{*}AcknowledgementCode") or "").strip() == \
        AcknowledgementCode.POSITIVE_RECEIPT
    doc.sender_ean = (root.findtext("{*}*/{*}Sender/{*}EANIdentifier") or "").strip() or None
    for role in ("sender", "receiver"):
        block = root.find(f"{{*}}*/{{*}}{role.capitalize()}")
        if block is not None:
            with contextlib.suppress(DecodeError):  # an incomplete party just means no receipt
                setattr(doc, role, decode_block(block, Party))


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _check_identifiers(root: etree._Element, out: _Collector) -> None:
    for el in root.iter():
        name = _local(el)
        text = (el.text or "").strip()
        if name == "CivilRegistrationNumber":
            problem = check_cpr(text)
            if problem:
                out.add("M-CPR", Severity.ERROR, problem, el)
        elif name in ("EANIdentifier", "AnswerToEANIdentifier"):
            problem = check_gln(text)
            if problem:
                out.add("M-GLN", Severity.ERROR, problem, el)
        elif name == "IdentifierCode" and text == IdentifierKind.MUNICIPALITY.value:
            ident = el.getprevious()
            if ident is not None and _local(ident) == "Identifier":
                problem = check_municipality((ident.text or "").strip())
                if problem:
                    out.add("M-MUNICIPALITY", Severity.ERROR, problem, ident)


def _check_local_times(root: etree._Element, ns: str, out: _Collector) -> None:
    """T-2: a local time in the spring gap is an error; one in the autumn fold a warning."""
    for date_el in root.iter(f"{{{ns}}}Date"):
        holder = date_el.getparent()
        try:
            _instant, naive = read_datetime(holder, ns)
        except DecodeError:
            continue  # the schema reports malformed dates and times
        kind = classify_local(naive)
        what = _local(holder)
        if kind is LocalTimeKind.NONEXISTENT:
            out.add("M-TIME", Severity.ERROR,
                    f"{what} {naive:%Y-%m-%d %H:%M:%S} does not exist in Danish time (the clocks skip it "
                    "when summer time starts)", holder)
        elif kind is LocalTimeKind.AMBIGUOUS:
            out.add("M-TIME", Severity.WARNING,
                    f"{what} {naive:%Y-%m-%d %H:%M:%S} occurs twice when summer time ends; read as the "
                    "first occurrence (summer time)", holder)


def _check_status(body: etree._Element | None, ns: str, out: _Collector) -> None:
    """M-STATUS: a corrected or cancelled letter names the letter it changes."""
    if body is None:
        return
    letter = body.find(f"{{{ns}}}Letter")
    if letter is None:
        return
    status = (letter.findtext(f"{{{ns}}}StatusCode") or "").strip()
    if status in (LetterStatus.CORRECTED, LetterStatus.CANCELLED):
        changes = (letter.findtext(f"{{{ns}}}ChangesLetterIdentifier") or "").strip()
        if not changes:
            out.add("M-STATUS", Severity.ERROR,
                    f"a {status} letter must name the letter it changes (ChangesLetterIdentifier)", letter)


def _event_time(message: Message) -> tuple[str, datetime] | None:
    """The event a message reports, which it cannot be sent before (M-TIME)."""
    if isinstance(message, AdmissionAdvice):
        return "Admitted", message.admitted_at
    if isinstance(message, DischargeAdvice | DischargeReport):
        return "Discharged", message.discharged_at
    return None


def _check_sent_after_event(message: Message, root: etree._Element, out: _Collector) -> None:
    if not isinstance(message, ClinicalMessage):
        return
    event = _event_time(message)
    if event and message.envelope.sent < event[1]:
        name, at = event
        el = next(root.iter(f"{{{etree.QName(root).namespace}}}{name}"), None)
        out.add("M-TIME", Severity.ERROR,
                f"sent {message.envelope.sent:%Y-%m-%d %H:%M} before the {name.lower()} time it reports "
                f"({at:%Y-%m-%d %H:%M})", el)
