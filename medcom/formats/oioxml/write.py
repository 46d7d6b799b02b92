"""Write OIOXML letters as hospitals and municipalities send them, each valid against its generation's schema.

The inverse of `letters.read_letter`, for `medcom build`, `simulate --emit-log` and receipts. Which version a
family is written in: XDIS20 XD2030C, XDIS17 XD1730C, XDIS19 XD1930C and the receipts XCTL02/03 (2005/08/07),
XDIS91 XD9134L (2006/07/01), XDIS16 XD1630C (2007/02/01), XDIS21 XD2134C and XDIS18 XD1834C (34C, what
hospitals send today). Older generations are written as MedCom's samples are (windows-1252, declared); 34C as
real 34C files arrive (ISO-8859-1, no declaration). Times are Copenhagen local wall time; a generation whose
times have minutes only is written to the minute (what cannot be carried goes to the build's side-car).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from medcom.calendar import to_local
from medcom.formats.oioxml.generations import (
    GEN_34C,
    NS_34C_102,
    NS_34C_COMMON,
    NS_34C_ROOT,
    Family,
    family_by_version,
)
from medcom.formats.oioxml.letters import Party

# Which version each family is written in.
WRITTEN = {"XDIS20": "XD2030C", "XDIS17": "XD1730C", "XDIS19": "XD1930C", "XDIS91": "XD9134L", "XDIS16": "XD1630C",
           "XDIS21": "XD2134C", "XDIS18": "XD1834C", "XCTL02": "XC0230Q", "XCTL03": "XC0330Q"}
UNKNOWN_NAME = "(ikke oplyst)"  # timelines carry no names


@dataclass(frozen=True, slots=True)
class Organisation:
    """A sender or receiver as a letter names it."""

    ean: str
    identifier: str
    kind: str  # IdentifierCode: sygehusafdelingsnummer, kommunenummer, sorkode, lokationsnummer, ydernummer
    name: str
    department: str | None = None
    unit: str | None = None
    phone: str | None = None

    def as_party(self) -> Party:
        return Party(self.ean, self.identifier, self.kind, self.name, self.department)


@dataclass(frozen=True, slots=True)
class Header:
    """What every letter of an admission/discharge family carries besides its content."""

    envelope_id: str  # 1-14 characters
    letter_id: str  # 1-14 characters
    sent: datetime
    sender: Organisation
    receiver: Organisation
    cpr: str
    episode_id: str | None = None
    status: str = "nytbrev"  # nytbrev / rettetbrev / annulleretbrev (not written in 34C: no StatusCode)
    receipt_requested: bool = True
    surname: str = UNKNOWN_NAME
    given_name: str = UNKNOWN_NAME
    signer: tuple[str, str, str] = ("Ukendt", "Ukendt", "Sygeplejerske")  # given name, surname, title


class _Writer:
    """Elements in one namespace (or, for 34C, the namespace each element lives in)."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.ns = family.generation.namespace
        self.is_34c = family.generation is GEN_34C
        self.seconds = self.is_34c

    def el(self, parent: etree._Element | None, name: str, text: str | None = None, ns: str | None = None,
           **attrs: str) -> etree._Element:
        tag = f"{{{ns or self.ns}}}{name}"
        node = etree.Element(tag, attrs, nsmap=_nsmap(self)) if parent is None else etree.SubElement(parent, tag, attrs)
        if text is not None:
            node.text = text
        return node

    def common(self) -> str:
        """The namespace of the shared blocks (Envelope, Sender, Date/Time ...)."""
        return NS_34C_COMMON if self.is_34c else self.ns

    def when(self, parent: etree._Element, name: str, at: datetime, *, seconds: bool | None = None,
             ns: str | None = None, inner: str | None = None) -> etree._Element:
        local = to_local(at)
        holder = self.el(parent, name, ns=ns or self.common())
        inner_ns = inner or self.common()
        self.el(holder, "Date", local.date().isoformat(), ns=inner_ns)
        with_seconds = self.seconds if seconds is None else seconds
        self.el(holder, "Time", local.strftime("%H:%M:%S" if with_seconds else "%H:%M"), ns=inner_ns)
        return holder

    def when_with_sec(self, parent: etree._Element, name: str, at: datetime) -> etree._Element:
        """DateTimeWithSecType: Date + TimeWithSec (2005 Letter/Authorisation)."""
        local = to_local(at)
        holder = self.el(parent, name)
        self.el(holder, "Date", local.date().isoformat())
        self.el(holder, "TimeWithSec", local.strftime("%H:%M:%S"))
        return holder


def _nsmap(writer: _Writer) -> dict[str | None, str]:
    if writer.is_34c:
        return {None: NS_34C_ROOT, "m100": NS_34C_COMMON, "m102": NS_34C_102}
    return {None: writer.ns}


def _envelope(w: _Writer, root: etree._Element, h: Header) -> None:
    envelope = w.el(root, "Envelope", ns=w.common())
    w.when(envelope, "Sent", h.sent)
    w.el(envelope, "Identifier", h.envelope_id, ns=w.common())
    w.el(envelope, "AcknowledgementCode", "pluspositivkvitt" if h.receipt_requested else "minuspositivkvitt",
         ns=w.common())


def _letter(w: _Writer, body: etree._Element, h: Header, *, authorisation_with_sec: bool = False,
            episode_element: str = "EpisodeOfCareIdentifier") -> None:
    letter = w.el(body, "Letter")
    w.el(letter, "Identifier", h.letter_id)
    w.el(letter, "VersionCode", w.family.version)
    w.el(letter, "StatisticalCode", w.family.code)
    if authorisation_with_sec:
        w.when_with_sec(letter, "Authorisation", h.sent)
    else:
        w.when(letter, "Authorisation", h.sent, ns=w.ns)
    w.el(letter, "TypeCode", w.family.code)
    if not w.is_34c:
        w.el(letter, "StatusCode", h.status)
    if h.episode_id:
        w.el(letter, episode_element, h.episode_id)


def _party(w: _Writer, body: etree._Element, role: str, org: Organisation, *, full: bool = True,
           extra: Sequence[tuple[str, str | None]] = ()) -> etree._Element:
    ns = w.common()
    party = w.el(body, role, ns=ns)
    w.el(party, "EANIdentifier", org.ean, ns=ns)
    w.el(party, "Identifier", org.identifier, ns=ns)
    w.el(party, "IdentifierCode", org.kind, ns=ns)
    w.el(party, "OrganisationName", org.name[:35], ns=ns)
    if full:
        for name, value in (("DepartmentName", org.department), ("UnitName", org.unit)):
            if value:
                w.el(party, name, value[:35], ns=ns)
    for name, value in extra:
        if value:
            w.el(party, name, value, ns=ns)
    return party


def _signed(w: _Writer, sender: etree._Element, h: Header, element: str = "SignedBy") -> None:
    given, surname, title = h.signer
    signed = w.el(sender, element, ns=w.common())
    if element == "Signatur":  # 2005 WarningOfDischarge: surname first
        w.el(signed, "PersonSurnameName", surname)
        w.el(signed, "PersonGivenName", given)
    else:
        w.el(signed, "PersonGivenName", given, ns=w.common())
        w.el(signed, "PersonSurnameName", surname, ns=w.common())
    w.el(signed, "PersonTitle", title, ns=w.common())


def _patient(w: _Writer, body: etree._Element, h: Header, *, names: bool = True,
             status: str | None = None) -> None:
    ns = w.common()
    patient = w.el(body, "Patient", ns=ns)
    w.el(patient, "CivilRegistrationNumber", h.cpr, ns=ns)
    if names:
        w.el(patient, "PersonSurnameName", h.surname, ns=ns)
        w.el(patient, "PersonGivenName", h.given_name, ns=ns)
    if status:
        w.el(patient, "EpisodeOfCareStatusCode", status, ns=ns)


def _start(code: str) -> tuple[_Writer, etree._Element]:
    w = _Writer(family_by_version(code, WRITTEN[code]))
    return w, w.el(None, "Emessage")


def emessage_bytes(root: etree._Element) -> bytes:
    """Serialise an Emessage the way its generation travels."""
    if etree.QName(root).namespace == NS_34C_ROOT:
        return etree.tostring(root, encoding="iso-8859-1", xml_declaration=False, pretty_print=True)
    return etree.tostring(root, encoding="windows-1252", xml_declaration=True, pretty_print=True)


# ---- the families ---------------------------------------------------------------------------------------------


def admission_advice(h: Header, admitted_at: datetime, answer_to: str) -> bytes:
    """XDIS20 XD2030C: the hospital tells the municipality of an admission; AnswerTo takes the admission report."""
    w, root = _start("XDIS20")
    _envelope(w, root, h)
    body = w.el(root, "NotificationOfAdmission")
    _letter(w, body, h, authorisation_with_sec=True, episode_element="NotificationIdentifier")
    sender = _party(w, body, "Sender", h.sender, extra=(("TelephoneSubscriberIdentifier", h.sender.phone),))
    w.el(w.el(sender, "AnswerTo"), "EANIdentifier", answer_to)
    _party(w, body, "Receiver", h.receiver, full=False)
    _patient(w, body, h, names=False, status="indlagt")
    w.when(body, "Admission", admitted_at)
    return emessage_bytes(root)


def discharge_advice(h: Header, discharged_at: datetime, status: str) -> bytes:
    """XDIS17 XD1730C: the hospital tells the municipality of a discharge (status: udskrevet_til_hjemmet, doed ...)."""
    w, root = _start("XDIS17")
    _envelope(w, root, h)
    body = w.el(root, "NotificationOfDischarge")
    _letter(w, body, h, authorisation_with_sec=True, episode_element="NotificationIdentifier")
    _party(w, body, "Sender", h.sender, extra=(("TelephoneSubscriberIdentifier", h.sender.phone),))
    _party(w, body, "Receiver", h.receiver, full=False)
    _patient(w, body, h, names=False, status=status)
    w.when(body, "Discharge", discharged_at)
    return emessage_bytes(root)


def completion_notice(h: Header, admitted_at: datetime, ready_at: datetime, planned_discharge_at: datetime,
                      conference_at: datetime | None = None) -> bytes:
    """XDIS19 XD1930C (WarningOfDischarge, melding om færdigbehandling): end of treatment and planned discharge."""
    w, root = _start("XDIS19")
    _envelope(w, root, h)
    body = w.el(root, "WarningOfDischarge")
    _letter(w, body, h)
    sender = _party(w, body, "Sender", h.sender, extra=(("TelephoneSubscriberIdentifier", h.sender.phone),))
    _signed(w, sender, h, "Signatur")
    _party(w, body, "Receiver", h.receiver)
    _patient(w, body, h, status="indlagt")
    w.when(body, "Admission", admitted_at)
    if conference_at is not None:
        w.when(body, "PlanConference", conference_at)
    w.when(body, "EndOfTreatment", ready_at)
    w.when(body, "PlannedDischarge", planned_discharge_at)
    return emessage_bytes(root)


def admission_report(h: Header, text: str = "Automatisk indlæggelsesrapport.") -> bytes:
    """XDIS16 XD1630C: the municipality's (automatic) answer to the admission advice."""
    w, root = _start("XDIS16")
    _envelope(w, root, h)
    body = w.el(root, "ReportOfAdmission")
    _letter(w, body, h)
    sender = _party(w, body, "Sender", h.sender, extra=(("TelephoneSubscriberIdentifier", h.sender.phone),))
    _signed(w, sender, h)
    _party(w, body, "Receiver", h.receiver)
    _patient(w, body, h)
    _formatted(w, body, "PatientHealthSummary", text)
    return emessage_bytes(root)


def correspondence(h: Header, subject: str, text: str, *, high_priority: bool = False) -> bytes:
    """XDIS91 XD9134L (ClinicalEmail): correspondence either way; also the municipality's acknowledgement."""
    w, root = _start("XDIS91")
    _envelope(w, root, h)
    body = w.el(root, "ClinicalEmail")
    _letter(w, body, h)
    _party(w, body, "Sender", h.sender)
    _party(w, body, "Receiver", h.receiver)
    _patient(w, body, h, status="indlagt")
    info = w.el(body, "AdditionalInformation")
    w.el(info, "Priority", "høj_prioritet" if high_priority else "rutine")
    w.el(info, "Subject", subject[:70])
    _formatted(w, w.el(body, "ClinicalInformation"), "Text01", text)
    return emessage_bytes(root)


def _formatted(w: _Writer, parent: etree._Element, name: str, text: str) -> None:
    """A FormattedText element: lines separated by Break."""
    holder = w.el(parent, name)
    lines = text.split("\n")
    holder.text = lines[0]
    for line in lines[1:]:
        w.el(holder, "Break").tail = line


def care_plan(h: Header, admitted_at: datetime, *, ready_at: datetime | None, agreed_discharge_at: datetime | None,
              conference_at: datetime | None, coordination: Sequence[str] = (),
              cause: str = "Indlagt efter fald i hjemmet.") -> bytes:
    """XDIS21 XD2134C (34C plejeforløbsplan): ready time (ExpectedEndOfTreatment), agreed discharge, conference and
    the further-coordination blocks named in `coordination` (local names, e.g. HomeChanges)."""
    w, root, body = _letter_34c("XDIS21", "ProgressOfCarePlan", h, admitted_at)
    if ready_at is not None:
        w.when(body, "ExpectedEndOfTreatment", ready_at, ns=NS_34C_102, inner=NS_34C_102)
    if agreed_discharge_at is not None:
        w.when(body, "AgreedDischarge", agreed_discharge_at)
    w.el(body, "CauseOfAdmission", cause, ns=NS_34C_COMMON)
    blocks = [b for b in coordination if b != "DischargeConference"]
    if blocks or conference_at is not None:
        further = w.el(body, "FurtherCoordination")
        for block in ("HomeChanges", "ScheduleAuxilaries", "RehabilitationNeeds", "HomeCareNeeds"):
            if block in blocks:
                w.el(w.el(further, block), "Comment", "Se plejeforløbsplanen.")
        if conference_at is not None:
            conference = w.el(further, "DischargeConference")
            local = to_local(conference_at)
            w.el(conference, "Date", local.date().isoformat())
            w.el(conference, "Time", local.strftime("%H:%M:%S"))
    return emessage_bytes(root)


def discharge_report(h: Header, admitted_at: datetime, discharged_at: datetime | None,
                     ready_at: datetime | None, cause: str = "Indlagt efter fald i hjemmet.") -> bytes:
    """XDIS18 XD1834C (34C udskrivningsrapport): admission, end of treatment (where known), discharge."""
    w, root, body = _letter_34c("XDIS18", "ReportOfDischarge", h, admitted_at)
    if ready_at is not None:
        w.when(body, "EndOfTreatment", ready_at)
    if discharged_at is not None:
        w.when(body, "Discharge", discharged_at)
    w.el(body, "CauseOfAdmission", cause, ns=NS_34C_COMMON)
    return emessage_bytes(root)


def _letter_34c(code: str, body_name: str, h: Header,
                admitted_at: datetime) -> tuple[_Writer, etree._Element, etree._Element]:
    """The start every 34C letter has: envelope, letter, signed sender, receiver, patient, admission."""
    w, root = _start(code)
    _envelope(w, root, h)
    body = w.el(root, body_name)
    _letter(w, body, h)
    _sender_34c(w, body, h)
    _party(w, body, "Receiver", h.receiver)
    _patient(w, body, h)
    w.when(body, "Admission", admitted_at)
    return w, root, body


def _sender_34c(w: _Writer, body: etree._Element, h: Header) -> None:
    sender = _party(w, body, "Sender", h.sender, extra=(("TelephoneSubscriberIdentifier", h.sender.phone),))
    given, surname, title = h.signer
    signed = w.el(sender, "SignedBy", ns=NS_34C_COMMON)
    for name, value in (("PersonGivenName", given), ("PersonSurnameName", surname), ("PersonTitle", title)):
        w.el(signed, name, value, ns=NS_34C_COMMON)


def receipt(*, positive: bool, envelope_id: str, letter_id: str, sent: datetime, sender_ean: str,
            receiver_ean: str, original_envelope_id: str, original_sender_ean: str, original_receiver_ean: str,
            letters: Sequence[tuple[str, str, str | None, str | None]],
            refuse: tuple[str, str] | None = None) -> bytes:
    """XCTL03 PositiveReceipt / XCTL02 NegativeReceipt (2005/08/07) for one received envelope.

    `letters`: (letter id, version code, refuse code or None, refuse text or None) for each original letter;
    `refuse`: a refusal of the whole envelope (code, text), for a negative receipt."""
    w, root = _start("XCTL03" if positive else "XCTL02")
    env = w.el(root, "Envelope")
    w.when(env, "Sent", sent)
    w.el(env, "Identifier", envelope_id[:14])
    w.el(env, "AcknowledgementCode", "minuspositivkvitt")  # a receipt is never itself receipted
    body = w.el(root, "PositiveReceipt" if positive else "NegativeReceipt")
    letter = w.el(body, "Letter")
    w.el(letter, "Identifier", letter_id[:14])
    w.el(letter, "VersionCode", w.family.version)
    w.el(letter, "StatisticalCode", w.family.code)
    w.el(w.el(body, "Sender"), "EANIdentifier", sender_ean)
    w.el(w.el(body, "Receiver"), "EANIdentifier", receiver_ean)
    original = w.el(body, "OriginalEmessage")
    w.el(original, "OriginalEnvelopeIdentifier", original_envelope_id[:14])
    w.el(w.el(original, "OriginalSender"), "EANIdentifier", original_sender_ean)
    w.el(w.el(original, "OriginalReceiver"), "EANIdentifier", original_receiver_ean)
    if refuse is not None and not positive:
        w.el(original, "RefuseCode", refuse[0])
        _breakable(w, original, "RefuseText", refuse[1])
    for ident, version, code, text in letters[:99]:
        item = w.el(original, "OriginalLetter")
        w.el(item, "OriginalLetterIdentifier", ident[:14])
        w.el(item, "OriginalVersionCode", version[:7])
        if code and not positive:
            w.el(item, "RefuseCode", code)
            if text:
                _breakable(w, item, "RefuseText", text)
    return emessage_bytes(root)


def _breakable(w: _Writer, parent: etree._Element, name: str, text: str) -> None:
    holder = w.el(parent, name)
    lines = [line for line in text.split("\n") if line] or [""]
    holder.text = lines[0]
    for line in lines[1:]:
        w.el(holder, "Break").tail = line
