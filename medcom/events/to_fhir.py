"""Timeline events as MedCom FHIR messages (`medcom build`, national formats), beside `from_fhir.py` that reads them.

One writer per event kind a FHIR message carries: HospitalNotification STIN (admission advice), STOR/SLOR (leave
notice), SLHJ/MORS (discharge advice), and CareCommunication (the municipality's acknowledgement of a care plan,
correspondence). A writer returns the Bundle, or None when the timeline lacks what the message must state. The
Acknowledgement that answers a message is the episode's `receipt` (it answers either format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medcom.events import Event
from medcom.events.to_oioxml import correspondence_text, sent_by_municipality
from medcom.formats.fhir import compose

if TYPE_CHECKING:
    from medcom.events.build import EpisodeWriter

Bundle = dict[str, Any]


def admission_advice(ep: EpisodeWriter, e: Event) -> Bundle:
    """STIN; a correction (RE_) or cancellation (AN_) names the notification it changes."""
    seed, sender, receiver = ep.fhir(e, from_municipality=False)
    changes, form = ep.changes(e)
    admitted_at = ep.admitted_at(e)
    return compose.hospital_notification("STIN", message_id=seed, sent=e.at, admitted_at=admitted_at,
                                         event_at=admitted_at, episode_id=ep.episode_id, cpr=ep.cpr,
                                         sender=sender, receiver=receiver, form=form,
                                         revises=ep.carried_id(changes) if changes else None)


def leave_notice(ep: EpisodeWriter, e: Event) -> Bundle | None:
    """STOR when the last leave fact before it started a leave, SLOR when it ended one; None without either."""
    seed, sender, receiver = ep.fhir(e, from_municipality=False)
    leave = next((x for x in reversed(ep.events) if x.kind in ("leave_started", "leave_ended") and x.at <= e.at),
                 None)
    if leave is None:
        return None
    started = ep.last("leave_started", before=leave.at)
    return compose.hospital_notification("STOR" if leave.kind == "leave_started" else "SLOR",
                                         message_id=seed, sent=e.at, admitted_at=ep.admitted_at(e),
                                         event_at=leave.at, episode_id=ep.episode_id, cpr=ep.cpr,
                                         sender=sender, receiver=receiver,
                                         leave_start=started.at if started else None)


def discharge_advice(ep: EpisodeWriter, e: Event) -> Bundle:
    """SLHJ, or MORS when the patient died (at or after the discharge); it revises the admission advice."""
    seed, sender, receiver = ep.fhir(e, from_municipality=False)
    discharged, deceased = ep.last("discharged"), ep.last("deceased")
    dead = deceased is not None and (discharged is None or deceased.at >= discharged.at)
    ended = deceased if dead else discharged
    advice = ep.first("admission_advice_sent")
    revises = ep.carried_id(advice.data.get("id")) if advice is not None else None
    return compose.hospital_notification("MORS" if dead else "SLHJ", message_id=seed, sent=e.at,
                                         admitted_at=ep.admitted_at(e), event_at=ended.at if ended else e.at,
                                         episode_id=ep.episode_id, cpr=ep.cpr, sender=sender,
                                         receiver=receiver, revises=revises)


def care_communication(ep: EpisodeWriter, e: Event) -> Bundle:
    """A CareCommunication (an acknowledgement of a care plan, or correspondence), replying to the message the
    event refers to in whichever format that was written."""
    seed, sender, receiver = ep.fhir(e, from_municipality=sent_by_municipality(e))
    subject, text = correspondence_text(e)
    target = ep.written.get(ep.carried_id(e.data.get("ref") or e.data.get("reply_to")) or "")
    return compose.care_communication(
        message_id=seed, sent=e.at, cpr=ep.cpr, sender=sender, receiver=receiver, topic=subject, text=text,
        episode_id=ep.episode_id,
        reply_to_message=target.message_id if target is not None and target.format == "fhir" else None,
        reply_to_letter=(target.sender_gln, target.message_id)
        if target is not None and target.format == "oioxml" else None)


# event kind -> its writer: the kinds MedCom's FHIR messages carry (the national formats write the rest as OIOXML)
WRITERS: dict[str, Callable[[EpisodeWriter, Event], Bundle | None]] = {
    "admission_advice_sent": admission_advice,
    "leave_notice_sent": leave_notice,
    "discharge_advice_sent": discharge_advice,
    "care_plan_ack_sent": care_communication,
    "correspondence_sent": care_communication,
}
