"""OIOXML reading as it was before it was made cheaper (issue 23): the identifier and time checks, the letter's
description and content, the findings' placing, exactly as main had them then. Kept as the oracle that
tests/test_oioxml_oracle.py compares medcom's reading with, on the examples and on mutants of them: the same
messages, findings (texts, lines, paths, codes, order) and content. Three false accepts found since are fixed
here as in medcom (marked 'oioxml-hostile'): values split by comments, a comment before a municipality's
IdentifierCode, a root child out of place (tests/test_oioxml_hostile.py); and (marked 'oioxml-gaps') a
StatisticalCode that is not the letter's family's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from medcom.calendar import localize
from medcom.findings import RECEIVER_GLN, RECEIVER_MUNICIPALITY, Finding, FindingLimit, Severity
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.formats.oioxml import (
    _BODY_PARTS,
    _EAN,
    _HEAD_PARTS,
    _LETTER_PARTS,
    _NS_IN_TEXT,
    ENVELOPE,
    NOT_LETTERS,
    _body_of_element,
    _locate,
    _misplaced_in_root,
    _top_child,
)
from medcom.formats.oioxml.checks import EVENT_OF_BODY, Add, PathNamer, _check_local_time, _looks_like_gln, _of_receiver
from medcom.formats.oioxml.generations import FAMILIES, Family, generation_of, known_versions
from medcom.formats.oioxml.letters import (
    TIME_ELEMENTS,
    Children,
    Kids,
    Letter,
    Original,
    WallTimes,
    children,
    read_party,
    read_time,
    text_of,
    wall_time,
)
from medcom.formats.oioxml.names import local_name
from medcom.formats.oioxml.plain import plain
from medcom.formats.oioxml.schemas import judge_for
from medcom.formats.xmlsafe import read_encoding
from medcom.identifiers import check_cpr, check_gln, check_municipality
from medcom.quoting import cut_quotes, quoted, shortened

_BY_BODY = {(f.generation.namespace, f.body): f for f in FAMILIES}


def family_of(namespace: str | None, body: str) -> Family | None:
    return _BY_BODY.get((namespace or "", body))


def check_identifiers_and_times(root: etree._Element, add: Add, *,
                                sent_before_event: bool) -> dict[etree._Element, datetime | None]:
    """M-CPR, M-GLN (a warning: real senders use numbers that fail the check digit), M-MUNICIPALITY and the
    local-time rules (T-2) over the whole tree; with `sent_before_event`, also a message sent before the
    admission or discharge it reports (validate; replay leaves that to ADM-1 and DIS-1). Returns the wall times
    read, by their Date/Time holder element (for reading the letters without reading them again)."""
    sent: datetime | None = None
    events: list[tuple[etree._Element, datetime]] = []
    wall_times: dict[etree._Element, datetime | None] = {}
    for el in root.iter("{*}CivilRegistrationNumber", "{*}EANIdentifier", "{*}IdentifierCode", "{*}Date"):
        name = local_name(el)
        text = text_of(el) or ""  # oioxml-hostile: a value split by comments is read whole
        if name == "CivilRegistrationNumber":
            if problem := check_cpr(text):
                add("M-CPR", Severity.ERROR, problem, el)
        elif name == "EANIdentifier":
            if _looks_like_gln(text) and (problem := check_gln(text)):
                add("M-GLN", Severity.WARNING, problem, el,
                    code=RECEIVER_GLN if _of_receiver(el, root) else "gln")
        elif name == "IdentifierCode":
            ident = next(el.itersiblings(etree.Element, preceding=True), None)  # oioxml-hostile: past comments
            if text == "kommunenummer" and ident is not None and local_name(ident) == "Identifier" \
                    and (problem := check_municipality(text_of(ident) or "")):
                add("M-MUNICIPALITY", Severity.ERROR, problem, ident,
                    code=RECEIVER_MUNICIPALITY if _of_receiver(ident, root) else "municipality")
        else:
            holder = el.getparent()
            if holder is None:
                continue
            naive = wall_times[holder] = wall_time(holder)
            if naive is None:
                continue  # the schema reports malformed dates and times
            _check_local_time(holder, naive, add)
            above = holder.getparent()  # None when the root holds a Date (a malformed Emessage)
            holder_name, parent_name = local_name(holder), local_name(above) if above is not None else ""
            if holder_name == "Sent" and parent_name == "Envelope":
                sent = naive
            elif EVENT_OF_BODY.get(parent_name) == holder_name:
                events.append((holder, naive))
    if sent_before_event and sent is not None:
        for holder, event in events:
            if sent < event and localize(sent, strict=False) < localize(event, strict=False):
                add("M-TIME", Severity.ERROR, f"sent {sent:%Y-%m-%d %H:%M} before the {local_name(holder).lower()} "
                    f"it reports ({event:%Y-%m-%d %H:%M})", holder)
    return wall_times


class _Placed:
    """The findings of one Emessage, each kept once where it belongs: on its letter, or on the document (the
    envelope, the root) once for all letters. At most `limit` findings are built per place (FindingLimit: the
    rest are counted), so a document of many errors and many letters costs memory in proportion to itself."""

    def __init__(self, bodies: list[etree._Element], limit: int) -> None:
        self.shared = FindingLimit([], limit)
        self.per_body = {id(b): FindingLimit([], limit) for b in bodies}

    def at(self, body: etree._Element | None) -> FindingLimit:
        return self.per_body[id(body)] if body is not None and id(body) in self.per_body else self.shared

    def finish(self) -> None:
        """Count the document's errors by rule (for the letters after the first), then close its listing."""
        self.shared_errors: dict[str, int] = {}
        for finding in self.shared.findings:
            if finding.severity is Severity.ERROR:
                self.shared_errors[finding.rule] = self.shared_errors.get(finding.rule, 0) + 1
        for rule, (count, worst, _) in self.shared.more.items():
            if worst is Severity.ERROR:
                self.shared_errors[rule] = self.shared_errors.get(rule, 0) + count
        self.shared.close()

    def findings(self, body: etree._Element, position: int, source: str) -> list[Finding]:
        """A letter's findings: its own, after the document's (letter 1) or, for the other letters, one finding
        per rule that says how many errors the document has and where they are listed (the letter is rejected,
        as the document is, and a suppression of the rule still applies)."""
        own = self.at(body)
        own.close()
        if position == 1:
            return [*self.shared.findings, *own.findings]
        errors = self.shared_errors
        return [*(Finding(rule, Severity.ERROR, f"this letter's Emessage has {count:,} {rule} error"
                          f"{'s' if count != 1 else ''} outside its letters (listed once, with letter 1)", source)
                  for rule, count in errors.items()), *own.findings]


def read_emessage(tree: etree._ElementTree, source: str, options: ReadOptions) -> list[ReadMessage]:
    """The messages of one Emessage document: one per letter, each with the findings that concern it (findings
    on the envelope or the document are listed once, with the first letter, and reject every letter)."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    generation = generation_of(namespace)
    encoding = read_encoding(tree)
    if generation is None:
        return [ReadMessage(source, "oioxml", [Finding(
            "M-VERSION", Severity.ERROR, f"an Emessage in namespace {namespace or '(none)'}, which is not an OIOXML "
            f"generation medcom knows ({known_versions()})", source, root.sourceline)], encoding=encoding)]
    envelope = None
    bodies = []
    kids = []
    for child in root:
        if isinstance(child.tag, str):
            kids.append(child)
            name = local_name(child)
            if name not in NOT_LETTERS:
                bodies.append(child)
            elif name == ENVELOPE and envelope is None:
                envelope = child
    placed = _Placed(bodies, options.max_findings)
    readable_path = PathNamer()

    judge = judge_for(generation, options.schemas_dir)
    judge.schema.validate(tree)
    for error in judge.schema.error_log:
        top = _top_child(kids, error.path)
        cap = placed.at(top if top is not None and local_name(top) not in NOT_LETTERS
                        and not _misplaced_in_root(error) else None)  # oioxml-hostile: rejects every letter
        if cap.full:  # counted, not built: no XPath, no path text
            cap.skip("M-SCHEMA", Severity.ERROR, source)
            continue
        el = _locate(root, error.path, top)
        text = cut_quotes(plain(_NS_IN_TEXT.sub("", error.message)))
        cap.add(Finding("M-SCHEMA", Severity.ERROR, f"{text} [{judge.label}]", source, error.line or None,
                        readable_path(el) if el is not None else error.path, code="schema", judged_by=judge.label))

    def add(rule: str, severity: Severity, text: str, el: etree._Element, *, code: str | None = None) -> None:
        cap = placed.at(_body_of_element(el, root))
        if cap.full:
            cap.skip(rule, severity, source)
        else:
            cap.add(Finding(rule, severity, text, source, el.sourceline, readable_path(el), code=code))

    wall_times = check_identifiers_and_times(root, add, sent_before_event=options.sent_before_event)
    placed.finish()
    if not bodies:
        shared = placed.shared.findings
        shared.append(Finding("M-SCHEMA", Severity.ERROR, f"the Emessage holds no letter [{judge.label}]", source,
                              root.sourceline, code="schema", judged_by=judge.label))
        return [ReadMessage(source, "oioxml", shared, generation=generation.name, schema=judge.label,
                            encoding=encoding)]
    messages = []
    head = children(envelope, None if options.letter_content else _HEAD_PARTS)
    for position, body in enumerate(bodies, start=1):
        name = f"{source} letter {position}" if len(bodies) > 1 else source
        findings = placed.findings(body, position, source)
        family = family_of(etree.QName(body).namespace, local_name(body))
        message = ReadMessage(name, "oioxml", findings, generation=generation.name, schema=judge.label,
                              encoding=encoding, position=position, line=body.sourceline, document=source)
        _describe(message, body, envelope, family, head, wall_times if options.letter_content else None,
                  readable_path)
        messages.append(message)
    return messages


def _describe(message: ReadMessage, body: etree._Element, envelope: etree._Element | None,
              family: Family | None, head: Children, wall_times: WallTimes | None,
              readable_path: PathNamer) -> None:
    """Fill in what the message is and its content (without `wall_times`, no content); an unknown body or version
    is a finding."""
    # Reading the content (replay), each element's children are read whole once and shared (Kids); describing
    # alone (validate), only the few names it needs, and each walk stops once they are found.
    kids = Kids() if wall_times is not None else None

    def of(el: etree._Element | None, wanted: frozenset[str]) -> Children:
        return kids[el] if kids is not None else children(el, wanted)

    parts = of(body, _BODY_PARTS)
    letter_el = parts.get("Letter")
    letter = of(letter_el, _LETTER_PARTS)
    version = text_of(letter.get("VersionCode")) or ""
    message.version = version or None
    message.letter_id = text_of(letter.get("Identifier"))
    message.envelope_id = text_of(head.get("Identifier"))
    message.receipt_requested = envelope is not None and text_of(head.get("AcknowledgementCode")) == "pluspositivkvitt"
    message.sender = _party_ean(body, parts, "Sender", of)
    message.sender_name = _party_name(of(parts.get("Sender"), _NAMES))
    message.receiver = _party_ean(body, parts, "Receiver", of)
    if family is None:
        message.family = text_of(letter.get("StatisticalCode")) or local_name(body) \
            if letter_el is not None else local_name(body)
        message.findings.append(Finding(
            "M-VERSION", Severity.INFO, f"{local_name(body)} is a MedCom letter outside the admission and discharge "
            f"families ({known_versions()}): validated, not replayed", message.source, body.sourceline,
            readable_path(body)))
        return
    message.family = family.code
    if version and version != family.version:
        message.findings.append(Finding(
            "M-VERSION", Severity.ERROR, f"{family.body} of generation {family.generation.name} is version "
            f"{family.version}, not {shortened(version)}", message.source,  # oioxml-gaps: a long one cut
            letter_el.sourceline if letter_el is not None else body.sourceline,
            readable_path(letter_el) if letter_el is not None else readable_path(body)))
    code_el = letter.get("StatisticalCode")  # oioxml-gaps: the StatisticalCode is the family's code
    if text_of(code_el) is not None and code_el is not None and text_of(code_el) != family.code:
        message.findings.append(Finding(
            "M-VERSION", Severity.ERROR, f"{family.body} is a letter of family {family.code}, its StatisticalCode "
            f"says {quoted(text_of(code_el))}", message.source, code_el.sourceline, readable_path(code_el)))
    if wall_times is not None:
        message.content = read_letter(body, family, envelope, parts=parts, head=head, known=wall_times, kids=kids)


_NAMES = frozenset({"OrganisationName", "DepartmentName"})


def _party_name(names: Children) -> str | None:
    """'Organisation, department' of a Sender or Receiver (its children `names`), as the letter names them (None:
    it names neither)."""
    organisation, department = text_of(names.get("OrganisationName")), text_of(names.get("DepartmentName"))
    if organisation and department:
        return f"{organisation}, {department}"
    return organisation or department


def _party_ean(body: etree._Element, parts: Children, party: str,
               of: Callable[[etree._Element | None, frozenset[str]], Children]) -> str | None:
    """The text of <party>/EANIdentifier, as the path finds it (the first party element that has one)."""
    ean = of(parts.get(party), _EAN).get("EANIdentifier")
    if ean is None and party in parts:
        ean = body.find(f"{{*}}{party}/{{*}}EANIdentifier")
    return text_of(ean)
def _original(parts: Children, kids: Kids) -> Original | None:
    original = parts.get("OriginalEmessage")
    if original is None:
        return None
    head = kids[original]
    letters = original.findall("{*}OriginalLetter")
    code = text_of(head.get("RefuseCode"))
    refuse = head.get("RefuseText")
    text = " ".join(refuse.itertext()).strip() or None if refuse is not None else None
    for letter in letters:
        found = kids[letter]
        if code is None and text_of(found.get("RefuseCode")):
            code = text_of(found.get("RefuseCode"))
            refuse = found.get("RefuseText")
            text = " ".join(refuse.itertext()).strip() or None if refuse is not None else None
    return Original(text_of(head.get("OriginalEnvelopeIdentifier")),
                    tuple(t for t in (text_of(kids[x].get("OriginalLetterIdentifier")) for x in letters) if t),
                    code, text)


def read_letter(body: etree._Element, family: Family, envelope: etree._Element | None, *,
                parts: Children | None = None, head: Children | None = None,
                known: WallTimes | None = None, kids: Kids | None = None) -> Letter:
    """The agreement's view of one body element (a letter or a receipt) of a known family. `parts` and `head`
    are the body's and the envelope's children, `known` the wall times and `kids` the children read, where the
    caller has them already."""
    kids = Kids() if kids is None else kids
    parts = kids[body] if parts is None else parts
    letter = kids[parts.get("Letter")]
    patient = kids[parts.get("Patient")]
    sender = parts.get("Sender")
    head = kids[envelope] if head is None else head
    times = {name: at for name in TIME_ELEMENTS if name in parts and (at := read_time(parts[name], known)) is not None}
    coordination = parts.get("FurtherCoordination")
    conference = kids[coordination].get("DischargeConference")
    if conference is None and coordination is not None:  # a later FurtherCoordination's, as a path finds it
        conference = body.find("{*}FurtherCoordination/{*}DischargeConference")
    return Letter(
        family=family,
        envelope_id=text_of(head.get("Identifier")),
        sent=read_time(head.get("Sent"), known),
        receipt_requested=text_of(head.get("AcknowledgementCode")) == "pluspositivkvitt",
        letter_id=text_of(letter.get("Identifier")),
        status=text_of(letter.get("StatusCode")),
        episode_id=text_of(letter.get("EpisodeOfCareIdentifier")) or text_of(letter.get("NotificationIdentifier")),
        sender=read_party(sender, kids),
        receiver=read_party(parts.get("Receiver"), kids),
        cpr=text_of(patient.get("CivilRegistrationNumber")),
        patient_status=text_of(patient.get("EpisodeOfCareStatusCode")),
        times=times,
        conference=read_time(conference, known),
        coordination=tuple(local for c in coordination if isinstance(c.tag, str)
                           for local in (etree.QName(c).localname,)) if coordination is not None else (),
        answer_to=text_of(kids[kids[sender].get("AnswerTo")].get("EANIdentifier")),
        subject=text_of(kids[parts.get("AdditionalInformation")].get("Subject")),
        original=_original(parts, kids) if family.is_receipt else None,
    )
