"""What a MedCom FHIR message says, as typed facts: HospitalNotification, CareCommunication, Acknowledgement.

`read_message(bundle)` reads a parsed Bundle (FHIR JSON's shape, from JSON or XML) that may or may not be valid:
what is missing is None or empty, never an exception. Validation is `validator`'s business; the facts here are
what the events mapping needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from medcom.formats.fhir.igpackages import context, newest
from medcom.formats.fhir.rules import F_EVENT, F_EVENT_CLASS, F_EVENT_STATUS
from medcom.identifiers import check_gln

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
ECPR_SYSTEMS = ("urn:oid:1.2.208.176.1.6.1.1", "urn:oid:1.2.208.176.1.6.1.2")
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
GLN_SYSTEM = "https://www.gs1.org/gln"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
LPR3_SYSTEM = "https://www.esundhed.dk/Registre/Landspatientregisteret"
LEAVE_EXTENSION = ("http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                   "medcom-hospitalnotifiation-leave-period-extension")
ACTIVITY_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"

# The base activity of a HospitalNotification -> MedCom's code (RE_/AN_ for its revise-/cancel- forms).
_NOTIFICATION_CODES = {
    "admit-inpatient": "STIN", "admit-emergency": "STAA", "start-leave-inpatient": "STOR",
    "end-leave-inpatient": "SLOR", "discharge-inpatient-home": "SLHJ", "discharge-emergency-home": "SLHJ",
}
_EXPECTED_CLASS = {"admit-inpatient": "IMP", "start-leave-inpatient": "IMP", "end-leave-inpatient": "IMP",
                   "discharge-inpatient-home": "IMP", "admit-emergency": "EMER", "discharge-emergency-home": "EMER"}
_EXPECTED_STATUS = {"STIN": "in-progress", "STAA": "in-progress", "STOR": "onleave", "SLOR": "in-progress",
                    "SLHJ": "finished", "MORS": "finished"}
_DIGITS13 = re.compile(r"[0-9]{13}")


@dataclass(frozen=True)
class Identifier:
    system: str | None
    value: str


@dataclass(frozen=True)
class Party:
    """A sender or receiver: the Organization's SOR and EAN/GLN identifiers, name, and kind where the data tells."""

    reference: str | None
    name: str | None = None
    sor: str | None = None
    gln: str | None = None
    municipality_code: str | None = None

    @property
    def kind(self) -> str | None:
        """'municipality' when the Organization carries a municipality code; None when the data does not say."""
        return "municipality" if self.municipality_code else None


@dataclass(frozen=True)
class EpisodeOfCareId:
    system: str | None
    value: str

    @property
    def kind(self) -> str:
        """'lpr3' for the Landspatientregisteret id, 'local' for the sender's own (under its SOR system)."""
        return "lpr3" if self.system == LPR3_SYSTEM else "local"


@dataclass(frozen=True)
class Period:
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Header:
    """What every MedCom message has: its MessageHeader id, Bundle id and timestamp, sender and receiver, and the
    Provenance of the current MessageHeader (activity and when)."""

    message_id: str | None
    bundle_id: str | None
    timestamp: datetime | None
    event: str | None
    sender: Party | None
    receiver: Party | None
    activity: str | None
    occurred: datetime | None
    recorded: datetime | None


@dataclass(frozen=True)
class Problem:
    """Where a HospitalNotification contradicts itself: its rule id, what, and the element (FHIRPath)."""

    rule: str
    text: str
    path: tuple[str | int, ...]  # in the Bundle: ('entry', 2, 'resource', 'status')


@dataclass(frozen=True)
class HospitalNotification:
    header: Header
    code: str | None  # STIN, STAA, STOR, SLOR, SLHJ, MORS, with RE_ / AN_ prefixes
    encounter_class: str | None  # IMP | EMER
    encounter_status: str | None
    period: Period
    leave: Period | None
    episode_of_care: tuple[EpisodeOfCareId, ...]
    cpr: str | None
    patient_identifiers: tuple[Identifier, ...]
    deceased: bool
    revises: tuple[str, ...]  # earlier MessageHeader references the current Provenance names (revision / removal)
    problems: tuple[Problem, ...]  # an event that cannot be told; class or status disagreeing with the activity

    @property
    def event_time(self) -> datetime | None:
        """When the notified event happened: admission -> period.start, discharge/death -> period.end,
        leave start/end -> the leave period's start/end."""
        base = (self.code or "").split("_")[-1]
        if base in ("STOR", "SLOR"):
            return None if self.leave is None else (self.leave.start if base == "STOR" else self.leave.end)
        return self.period.end if base in ("SLHJ", "MORS") else self.period.start


@dataclass(frozen=True)
class MessageReference:
    """An earlier message a Provenance entity names: a FHIR MessageHeader reference, or an OIOXML letter given as
    'lokationsnummer#brevid' (MedCom's own example writes 'brevid#lokationsnummer': both are read)."""

    role: str | None
    reference: str | None = None  # 'MessageHeader/<id>'
    identifier: str | None = None
    location_number: str | None = None  # OIOXML: the sender's EAN/GLN
    letter_id: str | None = None  # OIOXML: the letter's identifier

    @property
    def message_id(self) -> str | None:
        if self.reference and "/" in self.reference:
            return self.reference.rstrip("/").rsplit("/", 1)[1]
        return None


@dataclass(frozen=True)
class ProvenanceStep:
    target: str | None  # the MessageHeader this Provenance is about
    activity: str | None  # new-message, reply-message, forward-message, modified-message, retract-message...
    occurred: datetime | None
    references: tuple[MessageReference, ...]


@dataclass(frozen=True)
class CareCommunication:
    header: Header
    category: str | None
    topic: str | None
    priority: str | None
    cpr: str | None
    episode_of_care: tuple[EpisodeOfCareId, ...]
    provenance: tuple[ProvenanceStep, ...]  # the whole chain, the current message's step first

    @property
    def replies_to(self) -> tuple[MessageReference, ...]:
        """The earlier messages the current message revises (a reply, forward, modification or retraction)."""
        return self.provenance[0].references if self.provenance else ()


@dataclass(frozen=True)
class Acknowledgement:
    header: Header
    acknowledged_id: str | None  # MessageHeader.response.identifier: the acknowledged message's MessageHeader id
    response_code: str | None  # ok | transient-error | fatal-error
    issues: tuple[str, ...]


# --- reading helpers ------------------------------------------------------------------------------------------------


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def instant(value: object) -> datetime | None:
    """A FHIR instant/dateTime with a time as an aware datetime; None for a partial date or anything else."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class _Bundle:
    """A Bundle's entries, and resolution of references to them."""

    def __init__(self, bundle: dict) -> None:
        self.bundle = bundle
        self.resources = [_dict(e.get("resource")) for e in _list(bundle.get("entry")) if isinstance(e, dict)]
        self.by_url = {e["fullUrl"]: _dict(e.get("resource")) for e in _list(bundle.get("entry"))
                       if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)}

    def of_type(self, kind: str) -> list[dict]:
        return [r for r in self.resources if r.get("resourceType") == kind]

    def resolve(self, reference: object) -> dict | None:
        target = _str(_dict(reference).get("reference")) if isinstance(reference, dict) else _str(reference)
        if target is None:
            return None
        if target in self.by_url:
            return self.by_url[target]
        kind, _, ident = target.rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        return next((r for r in self.resources if r.get("resourceType") == kind and r.get("id") == ident), None)

    def points_at(self, reference: object, resource: dict) -> bool:
        return resource is not None and self.resolve(reference) is resource


def _party(bundle: _Bundle, reference: object) -> Party | None:
    if not isinstance(reference, dict):
        return None
    organization = bundle.resolve(reference) or {}
    found: dict[str, str] = {}
    for identifier in _list(organization.get("identifier")):
        system, value = _str(_dict(identifier).get("system")), _str(_dict(identifier).get("value"))
        if system and value:
            found.setdefault(system, value)
    return Party(_str(reference.get("reference")), _str(organization.get("name")), found.get(SOR_SYSTEM),
                 found.get(GLN_SYSTEM), found.get(MUNICIPALITY_SYSTEM))


def _primary_receiver(header: dict) -> dict | None:
    destinations = [_dict(d) for d in _list(header.get("destination"))]
    for destination in destinations:
        uses = [_dict(_dict(e).get("valueCoding")).get("code") for e in _list(destination.get("extension"))]
        if "primary" in uses:
            return _dict(destination.get("receiver"))
    return _dict(destinations[0].get("receiver")) if destinations else None


def _activity(provenance: dict) -> str | None:
    for coding in _list(_dict(provenance.get("activity")).get("coding")):
        code = _str(_dict(coding).get("code"))
        if code:
            return code
    return None


def _current_provenance(bundle: _Bundle, header: dict) -> dict:
    for provenance in bundle.of_type("Provenance"):
        if any(bundle.points_at(t, header) for t in _list(provenance.get("target"))):
            return provenance
    return {}


def _header(bundle: _Bundle) -> tuple[Header, dict, dict]:
    first = bundle.resources[0] if bundle.resources else {}
    header = first if first.get("resourceType") == "MessageHeader" else next(iter(bundle.of_type("MessageHeader")), {})
    provenance = _current_provenance(bundle, header) if header else {}
    return Header(
        message_id=_str(header.get("id")), bundle_id=_str(bundle.bundle.get("id")),
        timestamp=instant(bundle.bundle.get("timestamp")), event=_str(_dict(header.get("eventCoding")).get("code")),
        sender=_party(bundle, header.get("sender")), receiver=_party(bundle, _primary_receiver(header)),
        activity=_activity(provenance), occurred=instant(provenance.get("occurredDateTime")),
        recorded=instant(provenance.get("recorded")),
    ), header, provenance


def _patient(bundle: _Bundle) -> tuple[str | None, tuple[Identifier, ...], dict]:
    patient = next(iter(bundle.of_type("Patient")), {})
    identifiers = tuple(Identifier(_str(_dict(i).get("system")), str(_dict(i).get("value")))
                        for i in _list(patient.get("identifier")) if _str(_dict(i).get("value")))
    cpr = next((i.value for i in identifiers if i.system == CPR_SYSTEM), None)
    return cpr, identifiers, patient


def _episodes(encounter: dict) -> tuple[EpisodeOfCareId, ...]:
    found = []
    for reference in _list(encounter.get("episodeOfCare")):
        identifier = _dict(_dict(reference).get("identifier"))
        if _str(identifier.get("value")):
            found.append(EpisodeOfCareId(_str(identifier.get("system")), identifier["value"]))
    return tuple(found)


def _period(value: object) -> Period:
    return Period(instant(_dict(value).get("start")), instant(_dict(value).get("end")))


def notification_code(activity: str | None, deceased: bool) -> str | None:
    """MedCom's code for a HospitalNotification: the activity's base code (MORS when the patient died), with RE_
    for a revise- and AN_ for a cancel- activity; None for an activity that is not a hospital notification's."""
    if activity is None:
        return None
    prefix, base = "", activity
    for form, mark in (("revise-", "RE_"), ("cancel-", "AN_")):
        if activity.startswith(form):
            prefix, base = mark, activity[len(form):]
    code = _NOTIFICATION_CODES.get(base)
    if code is None:
        return None
    return prefix + ("MORS" if deceased else code)


def _base_activity(activity: str | None) -> str | None:
    return activity.removeprefix("revise-").removeprefix("cancel-") if activity else None


def _references(bundle: _Bundle, provenance: dict) -> tuple[MessageReference, ...]:
    found = []
    for entity in _list(provenance.get("entity")):
        entity = _dict(entity)
        role = _str(entity.get("role"))
        if role == "source":
            continue  # the payload's own identifiers, not an earlier message
        what = _dict(entity.get("what"))
        identifier = _str(_dict(what.get("identifier")).get("value"))
        location, letter = split_oioxml_reference(identifier) if identifier else (None, None)
        found.append(MessageReference(role, _str(what.get("reference")), identifier, location, letter))
    return tuple(found)


def split_oioxml_reference(value: str) -> tuple[str | None, str | None]:
    """(location number, letter id) of an OIOXML message reference: 'lokationsnummer#brevid' as documented, or
    'brevid#lokationsnummer' as MedCom's own example writes it; the part that is a valid GLN is the location number.
    (None, None) when the value is not of that form."""
    first, sep, second = value.partition("#")
    if not sep or not first or not second:
        return None, None
    first_gln = bool(_DIGITS13.fullmatch(first)) and check_gln(first) is None
    second_gln = bool(_DIGITS13.fullmatch(second)) and check_gln(second) is None
    if second_gln and not first_gln:
        return second, first
    return first, second


# --- the three messages -------------------------------------------------------------------------------------------


def read_hospital_notification(bundle: dict) -> HospitalNotification:
    view = _Bundle(bundle)
    header, header_resource, provenance = _header(view)
    encounter = view.resolve(next(iter(_list(header_resource.get("focus"))), None)) or next(
        iter(view.of_type("Encounter")), {})
    cpr, identifiers, patient = _patient(view)
    deceased = patient.get("deceasedBoolean") is True or isinstance(patient.get("deceasedDateTime"), str)
    leave = next((_period(e.get("valuePeriod")) for e in map(_dict, _list(encounter.get("extension")))
                  if e.get("url") == LEAVE_EXTENSION), None)
    encounter_class = _str(_dict(encounter.get("class")).get("code"))
    status = _str(encounter.get("status"))
    code = notification_code(header.activity, deceased)
    at = _where(view, encounter)
    problems = []
    expected_class = _EXPECTED_CLASS.get(_base_activity(header.activity) or "")
    if expected_class and encounter_class and encounter_class != expected_class:
        problems.append(Problem(F_EVENT_CLASS, f"activity {header.activity} with Encounter.class {encounter_class} "
                                f"(expected {expected_class})", at + ("class",)))
    if code:
        wanted = "entered-in-error" if code.startswith("AN_") else _EXPECTED_STATUS[code.split("_")[-1]]
        if status and status != wanted:
            problems.append(Problem(F_EVENT_STATUS, f"{code} (activity {header.activity}) with Encounter.status "
                                    f"{status} (expected {wanted})", at + ("status",)))
    elif header.activity:
        problems.append(Problem(F_EVENT, f"activity {header.activity} is not a HospitalNotification's: the "
                                "notified event cannot be told", _where(view, provenance) + ("activity",)))
    else:
        problems.append(Problem(F_EVENT, "no Provenance with an activity has this message's MessageHeader as its "
                                "target: the notified event cannot be told", _where(view, header_resource)))
    return HospitalNotification(
        header=header, code=code, encounter_class=encounter_class, encounter_status=status,
        period=_period(encounter.get("period")), leave=leave, episode_of_care=_episodes(encounter), cpr=cpr,
        patient_identifiers=identifiers, deceased=deceased,
        revises=tuple(r.reference for r in _references(view, provenance) if r.reference),
        problems=tuple(problems))


def _where(view: _Bundle, resource: dict) -> tuple[str | int, ...]:
    """The path of an entry's resource in the Bundle: ('entry', 2, 'resource'); () when it is not one."""
    entries = _list(view.bundle.get("entry"))
    index = next((i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("resource") is resource
                  and resource), None)
    return () if index is None else ("entry", index, "resource")


def read_care_communication(bundle: dict) -> CareCommunication:
    view = _Bundle(bundle)
    header, header_resource, current = _header(view)
    communication = view.resolve(next(iter(_list(header_resource.get("focus"))), None)) or next(
        iter(view.of_type("Communication")), {})
    category = next((_str(_dict(c).get("code")) for concept in _list(communication.get("category"))
                     for c in _list(_dict(concept).get("coding"))), None)
    encounter = view.resolve(communication.get("encounter")) or next(iter(view.of_type("Encounter")), {})
    cpr, _, _ = _patient(view)
    chain = [current] + [p for p in view.of_type("Provenance") if p is not current]
    steps = tuple(ProvenanceStep(
        target=_str(_dict(next(iter(_list(p.get("target"))), None)).get("reference")), activity=_activity(p),
        occurred=instant(p.get("occurredDateTime")), references=_references(view, p)) for p in chain if p)
    return CareCommunication(
        header=header, category=category, topic=_str(_dict(communication.get("topic")).get("text")),
        priority=_str(communication.get("priority")), cpr=cpr, episode_of_care=_episodes(encounter),
        provenance=steps)


def read_acknowledgement(bundle: dict) -> Acknowledgement:
    view = _Bundle(bundle)
    header, header_resource, _ = _header(view)
    response = _dict(header_resource.get("response"))
    outcome = view.resolve(response.get("details")) or next(iter(view.of_type("OperationOutcome")), {})
    issues = []
    for issue in map(_dict, _list(outcome.get("issue"))):
        details = _dict(issue.get("details"))
        text = _str(details.get("text")) or _str(issue.get("diagnostics")) or next(
            (_coding_text(_dict(c)) for c in _list(details.get("coding"))), None) or _str(issue.get("code"))
        if text:
            issues.append(text)
    return Acknowledgement(header=header, acknowledged_id=_str(response.get("identifier")),
                           response_code=_str(response.get("code")), issues=tuple(issues))


def _coding_text(coding: dict) -> str | None:
    """A coding's display, else its code's display in the newest Acknowledgement IG's CodeSystem, else the code."""
    code = _str(coding.get("code"))
    display = _str(coding.get("display"))
    if display or code is None:
        return display
    judge = context(newest("medcom.fhir.dk.acknowledgement") or "")
    system = judge.code_system(str(coding.get("system"))) if judge else None
    found = next((_str(c.get("display")) for c in _list((system or {}).get("concept")) if c.get("code") == code), None)
    return f"{code}: {found}" if found else code


_READERS = {"hospital-notification-message": read_hospital_notification,
            "care-communication-message": read_care_communication,
            "acknowledgement-message": read_acknowledgement}


def read_message(bundle: object) -> HospitalNotification | CareCommunication | Acknowledgement | None:
    """The typed facts of a MedCom message Bundle, by its MessageHeader's event; None for another kind."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    view = _Bundle(bundle)
    header = next(iter(view.of_type("MessageHeader")), {})
    reader = _READERS.get(str(_dict(header.get("eventCoding")).get("code")))
    return reader(bundle) if reader else None
