"""Read what the agreement needs from an OIOXML letter, in any generation: a typed, picklable record.

Reading goes by local element names (34C spreads one letter over three namespaces; the older generations use
one), positionally where the schema fixes the order. Nothing is invented: a time the letter does not carry is
absent from `times`. Local times without offset are Europe/Copenhagen (T-1); a time in the spring gap is moved
past it here (the validator reports it, T-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from lxml import etree

from medcom.calendar import localize
from medcom.formats.oioxml.generations import Family
from medcom.formats.oioxml.names import LOCAL_NAMES, local_name

# Body elements whose Date/Time the agreement reads (local names; the same in every generation).
TIME_ELEMENTS = ("Admission", "Discharge", "ExpectedEndOfTreatment", "AgreedDischarge", "EndOfTreatment",
                 "PlannedDischarge", "PlanConference")


@dataclass(frozen=True, slots=True)
class Party:
    """A sender or receiver: location number (EAN/GLN, or a VANS id), its own identifier and kind, names."""

    ean: str | None = None
    identifier: str | None = None
    kind: str | None = None  # IdentifierCode: sygehusafdelingsnummer, kommunenummer, sorkode, ...
    organisation: str | None = None
    department: str | None = None

    @property
    def is_municipality(self) -> bool:
        return self.kind == "kommunenummer"


@dataclass(frozen=True, slots=True)
class Original:
    """What a receipt answers: the original envelope, its letters, and refusals."""

    envelope_id: str | None
    letter_ids: tuple[str, ...] = ()
    refuse_code: str | None = None  # for the whole envelope, or the first refused letter's
    refuse_text: str | None = None


@dataclass(frozen=True, slots=True)
class Letter:
    """One letter of an Emessage, as the agreement reads it."""

    family: Family
    envelope_id: str | None
    sent: datetime | None  # the envelope's Sent (the event time of the message)
    receipt_requested: bool
    letter_id: str | None
    status: str | None  # nytbrev / rettetbrev / annulleretbrev; None in 34C (no StatusCode)
    episode_id: str | None  # EpisodeOfCareIdentifier, or XDIS17/20's NotificationIdentifier
    sender: Party
    receiver: Party
    cpr: str | None = None
    patient_status: str | None = None  # EpisodeOfCareStatusCode
    times: dict[str, datetime] = field(default_factory=dict)
    conference: datetime | None = None  # 34C care plan: FurtherCoordination/DischargeConference Date+Time
    coordination: tuple[str, ...] = ()  # 34C care plan: the FurtherCoordination blocks present (local names)
    answer_to: str | None = None  # XDIS20: where the admission report goes (Sender/AnswerTo)
    subject: str | None = None  # XDIS91
    original: Original | None = None  # receipts


Children = dict[str, etree._Element]
WallTimes = dict[etree._Element, datetime | None]  # Date/Time holders already read (medcom.formats.oioxml.checks)


def children(parent: etree._Element | None, wanted: frozenset[str] | None = None) -> Children:
    """An element's child elements by local name (the first of each name), as `find("{*}name")` finds them;
    with `wanted`, only those names, and the walk stops once each is found."""
    found: Children = {}
    if parent is None:
        return found
    known = LOCAL_NAMES.get  # the cached local name (local_name, inlined); None for a comment's tag, a function
    for child in parent:
        name = known(child.tag)
        if name is None:
            if not isinstance(child.tag, str):
                continue
            name = local_name(child)
        if name not in found and (wanted is None or name in wanted):
            found[name] = child
            if wanted is not None and len(found) == len(wanted):
                break
    return found


class Kids(dict[etree._Element | None, Children]):
    """Each element's `children`, read once: a letter's Sender, Receiver and Letter are asked for by several
    readers (the message's description, the letter's content, the party names)."""

    def __missing__(self, parent: etree._Element | None) -> Children:
        found = self[parent] = children(parent)
        return found


def text_of(el: etree._Element | None) -> str | None:
    """An element's value, stripped (None: empty): its character data, as XML Schema judges it, also where comments
    or processing instructions split it (`<Time>02:3<!---->0</Time>` is 02:30; a child element's own text is
    not part of it)."""
    if el is None:
        return None
    text = el.text
    if len(el):  # child nodes: the text after each belongs to the value too
        text = "".join([text or "", *(child.tail or "" for child in el)])
    return (text or "").strip() or None


def wall_time(holder: etree._Element) -> datetime | None:
    """The naive local date and time of a Date + Time/TimeWithSec holder; None when malformed."""
    return wall_time_of(children(holder))


def wall_time_of(parts: Children) -> datetime | None:
    """The wall time of a holder's children: its first Date and its first Time, or its first TimeWithSec where the
    Time is missing or empty."""
    return wall_time_from(text_of(parts.get("Date")), text_of(parts.get("Time")) or text_of(parts.get("TimeWithSec")))


def wall_time_from(day: str | None, clock: str | None) -> datetime | None:
    """A naive wall time from a Date's and a Time's texts. A time with a UTC offset is malformed too ('110200-0130'
    reads as 11:02:00 at -01:30): MedCom's times are local wall times (the schema reports it), and an aware time
    would break every reader that takes a wall time."""
    if day is None or clock is None:
        return None
    try:
        read = time.fromisoformat(clock)
        return datetime.combine(date.fromisoformat(day), read) if read.tzinfo is None else None
    except ValueError:
        return None


def read_time(holder: etree._Element | None, known: WallTimes | None = None) -> datetime | None:
    """The instant a Date/Time holder names (Copenhagen local time), or None."""
    if holder is None:
        return None
    naive = known[holder] if known is not None and holder in known else wall_time(holder)
    return localize(naive, strict=False) if naive is not None else None


def read_party(el: etree._Element | None, kids: Kids | None = None) -> Party:
    if el is None:
        return Party()
    parts = kids[el] if kids is not None else children(el)
    return Party(text_of(parts.get("EANIdentifier")), text_of(parts.get("Identifier")),
                 text_of(parts.get("IdentifierCode")), text_of(parts.get("OrganisationName")),
                 text_of(parts.get("DepartmentName")))


def _original(parts: Children, kids: Kids) -> Original | None:
    original = parts.get("OriginalEmessage")
    if original is None:
        return None
    head = kids[original]
    letters = list(original.iterchildren("{*}OriginalLetter"))  # as findall finds them, without ElementPath
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
        coordination=tuple(local_name(c) for c in coordination if isinstance(c.tag, str))
        if coordination is not None else (),
        answer_to=text_of(kids[kids[sender].get("AnswerTo")].get("EANIdentifier")),
        subject=text_of(kids[parts.get("AdditionalInformation")].get("Subject")),
        original=_original(parts, kids) if family.is_receipt else None,
    )
