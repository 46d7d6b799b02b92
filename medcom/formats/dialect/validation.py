"""Validate one message document: hardened parse, schema, identifiers and message-level rules.

Every problem becomes a `Finding` with its rule id (RULES.md M-*), severity, file, line and a readable
XPath. A schema error does not stop the identifier and time checks: they run on whatever was parsed,
so one run reports every problem of a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache

from lxml import etree

from medcom.calendar import LocalTimeKind, classify_local, localize
from medcom.findings import DEFAULT_MAX_FINDINGS, Finding, FindingLimit, Severity
from medcom.formats.dialect.codec import DecodeError, decode, decode_block, identify
from medcom.formats.dialect.families import FamilySpec, schema_for
from medcom.formats.dialect.model import (
    AcknowledgementCode,
    AdmissionAdvice,
    DischargeAdvice,
    DischargeReport,
    IdentifierKind,
    LetterStatus,
    Message,
    Party,
)
from medcom.formats.xml_paths import document_prefixes, element_at
from medcom.formats.xmlsafe import DEFAULT_MAX_BYTES, UnsafeXMLError, parse_bytes
from medcom.identifiers import check_cpr, check_gln, check_municipality


@dataclass
class CheckedDocument:
    """The outcome for one input document."""

    source: str
    family: FamilySpec | None = None
    message: Message | None = None
    envelope_id: str | None = None
    receipt_requested: bool = False
    sender_ean: str | None = None
    letter_id: str | None = None
    root: etree._Element | None = field(default=None, repr=False)  # the parsed document, when it parsed
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def party(self, role: str) -> Party | None:
        """The sender or receiver, read leniently (any version); None when the block is incomplete."""
        block = self.root.find(f"{{*}}*/{{*}}{role.capitalize()}") if self.root is not None else None
        if block is None:
            return None
        try:
            return decode_block(block, Party)
        except DecodeError:
            return None


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
    def __init__(self, doc: CheckedDocument, max_findings: int = DEFAULT_MAX_FINDINGS) -> None:
        self.doc = doc
        self.limit = FindingLimit(doc.findings, max_findings)

    def add(self, rule: str, severity: Severity, text: str, el: etree._Element | None = None,
            line: int | None = None) -> None:
        if self.limit.full:  # over the limit: counted, not built (no path walked, no text kept)
            self.limit.skip(rule, severity, self.doc.source)
            return
        self.doc.findings.append(Finding(
            rule, severity, text, self.doc.source,
            line if line is not None else (el.sourceline if el is not None else None),
            readable_path(el) if el is not None else None,
        ))


def check_bytes(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                decode_message: bool = False, max_findings: int = DEFAULT_MAX_FINDINGS) -> CheckedDocument:
    """Check one document's bytes; never raises for bad input, every problem is a finding (at most
    `max_findings` listed, the rest counted).

    The rules run on the parsed tree, so validation needs no model; `decode_message` also reads the
    message into the model (replay wants it) and reports a document the model cannot hold.
    """
    doc = CheckedDocument(source)
    out = _Collector(doc, max_findings)
    _check(data, doc, out, max_bytes, decode_message)
    out.limit.close()
    return doc


def _check(data: bytes, doc: CheckedDocument, out: _Collector, max_bytes: int, decode_message: bool) -> None:
    try:
        tree = parse_bytes(data, max_bytes=max_bytes)
    except UnsafeXMLError as exc:
        out.add("M-XML", Severity.ERROR, str(exc), line=exc.line)
        return
    root = doc.root = tree.getroot()
    _read_envelope(root, doc)
    spec, body = identify(root)
    doc.family = spec
    if spec is None or body is None:
        out.add("M-SCHEMA", Severity.ERROR,
                f"not a known MedCom-style message (root {_NS_IN_TEXT.sub('', root.tag)} in namespace "
                f"{etree.QName(root).namespace or 'none'}); no schema to validate it against", root)
        return
    schema = schema_for(spec.schema_file)
    schema_ok = schema.validate(tree)
    prefixes = document_prefixes(root) if not schema_ok else {}
    for error in schema.error_log:
        if out.limit.full:
            out.add("M-SCHEMA", Severity.ERROR, "")  # counted only
            continue
        el = element_at(root, error.path, prefixes)
        out.add("M-SCHEMA", Severity.ERROR, _NS_IN_TEXT.sub("", error.message), el, line=error.line)
    _scan(root, body, spec, out)
    _check_status(body, spec.namespace, out)
    if decode_message:
        try:
            doc.message = decode(root)
        except DecodeError as exc:
            if schema_ok:  # otherwise the schema errors already say it
                out.add("M-SCHEMA", Severity.ERROR, str(exc), exc.element)


def _child(parent: etree._Element, position: int, tag: str) -> etree._Element | None:
    """The child at its schema position if it is there (cheap), else found by tag (invalid documents)."""
    if len(parent) > position and parent[position].tag == tag:
        return parent[position]
    return parent.find(tag)


def _text(parent: etree._Element | None, position: int, tag: str) -> str | None:
    el = _child(parent, position, tag) if parent is not None else None
    return ((el.text or "").strip() or None) if el is not None else None


def _read_envelope(root: etree._Element, doc: CheckedDocument) -> None:
    """Envelope id, receipt request, sender and letter id, read leniently (any namespace, any version)
    so that invalid messages and unknown versions can still be answered with a negative receipt."""
    tag = _tags(root.tag[1:root.tag.index("}")] if root.tag.startswith("{") else "")
    envelope = _child(root, 0, tag["Envelope"])
    if envelope is None:
        return
    doc.envelope_id = _text(envelope, 1, tag["Identifier"])
    doc.receipt_requested = _text(envelope, 2, tag["AcknowledgementCode"]) == AcknowledgementCode.POSITIVE_RECEIPT
    body = envelope.getnext()
    if body is None:
        return
    letter = _child(body, 0, tag["Letter"])
    doc.sender_ean = _text(_child(body, 1 if letter is not None else 0, tag["Sender"]), 0, tag["EANIdentifier"])
    doc.letter_id = _text(letter, 0, tag["Identifier"])


@cache
def _tags(ns: str) -> dict[str, str]:
    names = ("CivilRegistrationNumber", "EANIdentifier", "AnswerToEANIdentifier", "IdentifierCode", "Identifier",
             "Date", "Time", "Sent", "Envelope", "Admitted", "Discharged", "Letter", "StatusCode",
             "ChangesLetterIdentifier", "AcknowledgementCode", "Sender")
    return {n: f"{{{ns}}}{n}" if ns else n for n in names}


# The event each family reports, which it cannot be sent before (M-TIME).
_EVENT_ELEMENT = {AdmissionAdvice.FAMILY: "Admitted", DischargeAdvice.FAMILY: "Discharged",
                  DischargeReport.FAMILY: "Discharged"}


def _scan(root: etree._Element, body: etree._Element, spec: FamilySpec, out: _Collector) -> None:
    """One pass over the tree for the identifier rules and the time rules (M-CPR, M-GLN,
    M-MUNICIPALITY, M-TIME), so that large batches pay for one walk, not five."""
    tag = _tags(spec.namespace)
    cpr, code, date_tag = tag["CivilRegistrationNumber"], tag["IdentifierCode"], tag["Date"]
    event_tag = tag.get(_EVENT_ELEMENT.get(spec.code, ""))
    sent = event = None
    for el in root.iter(cpr, tag["EANIdentifier"], tag["AnswerToEANIdentifier"], code, date_tag):
        name = el.tag
        if name == date_tag:
            holder = el.getparent()
            is_sent = holder.tag == tag["Sent"] and holder.getparent().tag == tag["Envelope"]
            is_event = holder.tag == event_tag and holder.getparent() is body
            if not (is_sent or is_event or _may_be_dst_change(el)):
                continue  # a normal local time nobody compares: no need to build it
            naive = _wall_time(el, tag)
            if naive is None:
                continue  # the schema reports malformed dates and times
            _check_local_time(holder, naive, out)
            if is_sent:
                sent = naive
            elif is_event:
                event = (holder, naive)
            continue
        text = (el.text or "").strip()
        if name == cpr:
            if problem := check_cpr(text):
                out.add("M-CPR", Severity.ERROR, problem, el)
        elif name != code:
            if problem := check_gln(text):
                out.add("M-GLN", Severity.ERROR, problem, el)
        elif text == IdentifierKind.MUNICIPALITY:
            ident = el.getprevious()
            problem = check_municipality((ident.text or "").strip()) \
                if ident is not None and ident.tag == tag["Identifier"] else None
            if problem:
                out.add("M-MUNICIPALITY", Severity.ERROR, problem, ident)
    if sent is not None and event is not None:
        _check_sent_after_event(sent, *event, out)


def _may_be_dst_change(date_el: etree._Element) -> bool:
    """Cheap text test: since 1980 only local hour 02 can fall in a DST gap or fold (see classify_local)."""
    time_el = date_el.getnext()
    clock, day = (time_el.text or "").strip() if time_el is not None else "", (date_el.text or "").strip()
    return clock.startswith("02") or day < "1980"


def _wall_time(date_el: etree._Element, tag: dict[str, str]) -> datetime | None:
    time_el = date_el.getnext()
    if time_el is None or time_el.tag != tag["Time"]:
        return None
    try:
        return datetime.combine(date.fromisoformat((date_el.text or "").strip()),
                                time.fromisoformat((time_el.text or "").strip()))
    except ValueError:
        return None


def _check_local_time(holder: etree._Element, naive: datetime, out: _Collector) -> None:
    """T-2: a local time in the spring gap is an error; one in the autumn fold a warning."""
    kind = classify_local(naive)
    if kind is LocalTimeKind.NORMAL:
        return
    what = etree.QName(holder).localname
    if kind is LocalTimeKind.NONEXISTENT:
        out.add("M-TIME", Severity.ERROR,
                f"{what} {naive:%Y-%m-%d %H:%M:%S} does not exist in Danish time (the clocks skip it "
                "when summer time starts)", holder)
    else:
        out.add("M-TIME", Severity.WARNING,
                f"{what} {naive:%Y-%m-%d %H:%M:%S} occurs twice when summer time ends; read as the "
                "first occurrence (summer time)", holder)


def _check_sent_after_event(sent: datetime, event_el: etree._Element, event: datetime, out: _Collector) -> None:
    """M-TIME: an advice or report is not sent before the admission or discharge it reports.

    Local wall time maps onto instants monotonically (fold read as first occurrence, gap moved forward),
    so only a wall-clock 'before' needs the exact comparison."""
    if sent < event and localize(sent, strict=False) < localize(event, strict=False):
        what = etree.QName(event_el).localname.lower()
        out.add("M-TIME", Severity.ERROR,
                f"sent {sent:%Y-%m-%d %H:%M} before the {what} time it reports ({event:%Y-%m-%d %H:%M})", event_el)


def _check_status(body: etree._Element, ns: str, out: _Collector) -> None:
    """M-STATUS: a corrected or cancelled letter names the letter it changes."""
    tag = _tags(ns)
    letter = body.find(tag["Letter"])
    if letter is None:
        return
    status = (letter.findtext(tag["StatusCode"]) or "").strip()
    if status in (LetterStatus.CORRECTED, LetterStatus.CANCELLED) and \
            not (letter.findtext(tag["ChangesLetterIdentifier"]) or "").strip():
        out.add("M-STATUS", Severity.ERROR,
                f"a {status} letter must name the letter it changes (ChangesLetterIdentifier)", letter)


