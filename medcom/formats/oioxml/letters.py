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
from medcom.formats.oioxml.walk import Part

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


WallTimes = dict[etree._Element, datetime | None]  # Date/Time holders already read (medcom.formats.oioxml.checks)


def children(parent: etree._Element) -> dict[str, etree._Element]:
    """An element's child elements by local name (the first of each name), as `find("{*}name")` finds them."""
    found: dict[str, etree._Element] = {}
    for child in parent.iterchildren(etree.Element):
        name = LOCAL_NAMES.get(child.tag) or local_name(child)
        if name not in found:
            found[name] = child
    return found


def text_of(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return (el.text or "").strip() or None


def clock_time(parts: dict[str, etree._Element]) -> datetime | None:
    """The naive local date and time of a holder's first Date and first Time (or TimeWithSec); None when
    malformed. A time with a UTC offset is malformed too: MedCom's times are local wall times (the schema
    reports it), and an offset would make the time aware where every reader takes a wall time."""
    day = text_of(parts.get("Date"))
    clock = text_of(parts.get("Time")) or text_of(parts.get("TimeWithSec"))
    if day is None or clock is None:
        return None
    try:
        read = time.fromisoformat(clock)
        return datetime.combine(date.fromisoformat(day), read) if read.tzinfo is None else None
    except ValueError:
        return None


def _instant(naive: datetime | None) -> datetime | None:
    """The instant a wall time names (Copenhagen local time)."""
    return localize(naive, strict=False) if naive is not None else None


def _original(body: Part) -> Original | None:
    original = body.index.get("OriginalEmessage")
    if original is None:
        return None
    letters = list(original.iterchildren("{*}OriginalLetter"))
    code = body.text("OriginalEmessage/RefuseCode")
    refuse = body.index.get("OriginalEmessage/RefuseText")
    text = " ".join(refuse.itertext()).strip() or None if refuse is not None else None
    found = [children(letter) for letter in letters]
    for parts in found:
        if code is None and text_of(parts.get("RefuseCode")):
            code = text_of(parts.get("RefuseCode"))
            refuse = parts.get("RefuseText")
            text = " ".join(refuse.itertext()).strip() or None if refuse is not None else None
    return Original(body.text("OriginalEmessage/OriginalEnvelopeIdentifier"),
                    tuple(t for t in (text_of(parts.get("OriginalLetterIdentifier")) for parts in found) if t),
                    code, text)


def _party(body: Part, party: str) -> Party:
    text = body.text
    return Party(text(f"{party}/EANIdentifier"), text(f"{party}/Identifier"), text(f"{party}/IdentifierCode"),
                 text(f"{party}/OrganisationName"), text(f"{party}/DepartmentName"))


def read_letter(body: Part, family: Family, head: Part | None, known: WallTimes) -> Letter:
    """The agreement's view of one body element (a letter or a receipt) of a known family: `body` and the
    envelope `head` as the walk indexed them (medcom.formats.oioxml.walk), `known` the wall times the message
    rules read (every Date/Time holder of the document)."""
    index, text = body.index, body.text
    times = {name: at for name in TIME_ELEMENTS if name in index and (at := _instant(known.get(index[name])))}
    coordination = index.get("FurtherCoordination")
    conference = index.get("FurtherCoordination/DischargeConference")
    if conference is None and coordination is not None:  # a later FurtherCoordination's, as a path finds it
        conference = body.element.find("{*}FurtherCoordination/{*}DischargeConference")
    sent = head.index.get("Sent") if head is not None else None
    return Letter(
        family=family,
        envelope_id=head.text("Identifier") if head is not None else None,
        sent=_instant(known.get(sent)) if sent is not None else None,
        receipt_requested=head is not None and head.text("AcknowledgementCode") == "pluspositivkvitt",
        letter_id=text("Letter/Identifier"),
        status=text("Letter/StatusCode"),
        episode_id=text("Letter/EpisodeOfCareIdentifier") or text("Letter/NotificationIdentifier"),
        sender=_party(body, "Sender"),
        receiver=_party(body, "Receiver"),
        cpr=text("Patient/CivilRegistrationNumber"),
        patient_status=text("Patient/EpisodeOfCareStatusCode"),
        times=times,
        conference=_instant(known.get(conference)) if conference is not None else None,
        coordination=tuple(local for c in coordination if isinstance(c.tag, str)
                           for local in (etree.QName(c).localname,)) if coordination is not None else (),
        answer_to=text("Sender/AnswerTo/EANIdentifier"),
        subject=text("AdditionalInformation/Subject"),
        original=_original(body) if family.is_receipt else None,
    )
