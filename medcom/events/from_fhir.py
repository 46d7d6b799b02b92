"""MedCom FHIR messages as agreement events, beside the OIOXML mapping (the README's table).

HospitalNotification (replaces XDIS20/XDIS17): STIN/STAA -> admitted + admission advice; STOR/SLOR -> leave
started/ended + a leave notice; SLHJ -> discharged + discharge advice; MORS -> deceased + discharge advice.
RE_ corrects (the time, the department), AN_ cancels, each the earlier notification its Provenance names, else
the previous one of its kind in the episode. CareCommunication (replaces XDIS91) -> correspondence, with the
earlier message it replies to (FHIR or OIOXML); its modify and retract activities correct and withdraw.
Acknowledgement (replaces XCTL) -> a receipt of the MessageHeader it answers (ok is positive). The episode is
the Encounter's episode-of-care id (case, hyphens and urn:uuid: ignored): the local id where there is one, the
LPR3 id naming the same episode.
"""

from __future__ import annotations

from datetime import datetime

from medcom.events import Event
from medcom.events.from_messages import CANCELLED, CORRECTED, NEW, MessageEvents, episode_key
from medcom.formats.fhir.messages import (
    Acknowledgement,
    CareCommunication,
    EpisodeOfCareId,
    HospitalNotification,
    Party,
)

KIND = {"STIN": "admission_advice_sent", "STAA": "admission_advice_sent", "STOR": "leave_notice_sent",
        "SLOR": "leave_notice_sent", "SLHJ": "discharge_advice_sent", "MORS": "discharge_advice_sent"}
FACT = {"STIN": "admitted", "STAA": "admitted", "STOR": "leave_started", "SLOR": "leave_ended",
        "SLHJ": "discharged", "MORS": "deceased"}
CARE_STATUS = {"modified-message": CORRECTED, "retract-message": CANCELLED}


def _episode(ids: tuple[EpisodeOfCareId, ...]) -> tuple[str | None, tuple[str, ...]]:
    """The episode key (the local id before the LPR3 one) and the other keys naming the same episode."""
    keys = [k for i in sorted(ids, key=lambda i: i.kind == "lpr3") if (k := episode_key(i.value))]
    return (keys[0] if keys else None), tuple(keys[1:])


def _ids(party: Party | None) -> tuple[str, ...]:
    """A party's identifiers (GLN, SOR): what tells it apart in a log."""
    return tuple(i for i in (party.gln, party.sor) if i) if party is not None else ()


def _revised(references: tuple[str, ...]) -> str | None:
    return next((r.rstrip("/").rsplit("/", 1)[-1] for r in references if r), None)


def events_of_notification(n: HospitalNotification, source: str) -> MessageEvents:
    code = n.code or ""
    prefix, _, base = code.rpartition("_")
    status = {"RE": CORRECTED, "AN": CANCELLED}.get(prefix, NEW)
    episode, aliases = _episode(n.episode_of_care)
    header = n.header
    out = MessageEvents(status=status, kind=KIND.get(base), cpr=n.cpr, episode=episode, aliases=aliases,
                        replaces=_revised(n.revises) if status != NEW else None, sender=_ids(header.sender),
                        receiver=_ids(header.receiver))
    sent = header.timestamp
    if base not in KIND or sent is None:
        return out
    name = episode or f"(no episode) {header.message_id}"

    def add(kind: str, at: datetime | None, **data: object) -> None:
        if at is not None:
            out.events.append(Event(at, name, kind, {k: v for k, v in data.items() if v is not None}, 0, source,
                                    receipt_requested=kind.endswith("_sent"), envelope_id=header.bundle_id,
                                    origin="fhir"))

    fact = FACT[base]
    if fact == "admitted":
        add(fact, n.event_time, cpr=n.cpr, department=header.sender.name if header.sender else None,
            municipality=header.receiver.municipality_code if header.receiver else None)
    else:
        add(fact, n.event_time)
    add(KIND[base], sent, id=header.message_id, notification=base)
    return out


def events_of_care_communication(c: CareCommunication, source: str) -> MessageEvents:
    header = c.header
    activity = c.provenance[0].activity if c.provenance else None
    status = CARE_STATUS.get(activity or "", NEW)
    episode, aliases = _episode(c.episode_of_care)
    replied = next(iter(c.replies_to), None)
    reply_to = (replied.message_id or replied.letter_id) if replied is not None else None
    out = MessageEvents(status=status, kind="correspondence_sent", cpr=c.cpr, episode=episode, aliases=aliases,
                        replaces=reply_to if status != NEW else None, sender=_ids(header.sender),
                        receiver=_ids(header.receiver))
    if header.timestamp is None:
        return out
    sender = "municipality" if header.sender and header.sender.kind == "municipality" else \
        "hospital" if header.receiver and header.receiver.kind == "municipality" else None
    data = {"id": header.message_id, "sender": sender, "subject": c.topic or c.category,
            "reply_to": reply_to if status == NEW else None, "category": c.category}
    out.events.append(Event(header.timestamp, episode or "", "correspondence_sent",
                            {k: v for k, v in data.items() if v is not None}, 0, source, receipt_requested=True,
                            envelope_id=header.bundle_id, origin="fhir"))
    return out


def events_of_acknowledgement(a: Acknowledgement, source: str) -> MessageEvents:
    header = a.header
    out = MessageEvents(kind="receipt_sent")
    if header.timestamp is None or not a.acknowledged_id:
        return out
    data = {"id": header.message_id, "ref": a.acknowledged_id, "positive": a.response_code == "ok",
            "response_code": a.response_code}
    out.events.append(Event(header.timestamp, "", "receipt_sent", data, 0, source, envelope_id=header.bundle_id,
                            origin="fhir"))
    return out


def events_of_fhir(message: HospitalNotification | CareCommunication | Acknowledgement, source: str) -> MessageEvents:
    """The events one FHIR message tells."""
    if isinstance(message, HospitalNotification):
        return events_of_notification(message, source)
    if isinstance(message, CareCommunication):
        return events_of_care_communication(message, source)
    return events_of_acknowledgement(message, source)
