"""Timeline events as OIOXML letters (`medcom build`), beside `from_oioxml.py` that reads them.

One writer per event kind a letter carries: XDIS20 admission advice, XDIS16 admission report, XDIS21 care plan,
XDIS91 correspondence (and the municipality's acknowledgement of a care plan, which OIOXML says in words),
XDIS19 completion notice, XDIS17 discharge advice, XDIS18 discharge report. A leave notice has no OIOXML letter
(`NOT_WRITTEN`: build states it in the side-car). Each writer states only the facts the timeline has; receipts
(XCTL) are the episode's `receipt`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from medcom.events import Event
from medcom.formats.oioxml import write

if TYPE_CHECKING:
    from medcom.events.build import EpisodeWriter

DISCHARGE_STATUS = {"home": "udskrevet_til_hjemmet", "home_nursing": "udskrevet_til_hjemmet"}
ACK_SUBJECT = {"accept": "Kvittering for plejeforløbsplan", "reject": "Plejeforløbsplan: udskrivning afvist"}
ACK_TEXT = {"accept": "Plejeforløbsplanen er modtaget og accepteret.",
            "reject": "Plejeforløbsplanen er modtaget; udskrivningen kan ikke accepteres."}
COORDINATION_BLOCKS = {"discharge_conference": "DischargeConference", "major_home_changes": "HomeChanges"}


def correspondence_text(e: Event) -> tuple[str, str]:
    """Subject and text of a correspondence or an acknowledgement (whose decision real messages say in words)."""
    if e.kind == "care_plan_ack_sent":
        decision = str(e.data.get("decision") or "")
        return ACK_SUBJECT.get(decision, "Kvittering for plejeforløbsplan"), \
            ACK_TEXT.get(decision, "Plejeforløbsplanen er modtaget.")
    subject = str(e.data.get("subject") or "Korrespondance")
    return subject, subject


def sent_by_municipality(e: Event) -> bool:
    """An acknowledgement always; correspondence when the timeline says so."""
    return e.kind == "care_plan_ack_sent" or e.data.get("sender") == "municipality"


def admission_advice(ep: EpisodeWriter, e: Event) -> bytes:
    """XDIS20; a correction or cancellation is a rettetbrev or annulleretbrev."""
    header = ep.header(e, from_municipality=False)
    _, form = ep.changes(e)
    status = {"revise-": "rettetbrev", "cancel-": "annulleretbrev"}.get(form, header.status)
    return write.admission_advice(replace(header, status=status), ep.admitted_at(e), ep.hospital.ean)


def admission_report(ep: EpisodeWriter, e: Event) -> bytes:
    return write.admission_report(ep.header(e, from_municipality=True))


def care_plan(ep: EpisodeWriter, e: Event) -> bytes:
    """XDIS21 with the ready time, the agreed discharge and a special coordination's block (a conference's time)."""
    ready = ep.last("ready_for_discharge")
    block = COORDINATION_BLOCKS.get(str(e.data.get("special_coordination") or ""))
    conference = ep.first("conference_ready") if block == "DischargeConference" else None
    return write.care_plan(ep.header(e, from_municipality=False), ep.admitted_at(e),
                           ready_at=ready.at if ready else None,
                           agreed_discharge_at=e.data.get("agreed_discharge_at"),
                           conference_at=conference.at if conference else None,
                           coordination=(block,) if block else ())


def correspondence(ep: EpisodeWriter, e: Event) -> bytes:
    subject, text = correspondence_text(e)
    return write.correspondence(ep.header(e, from_municipality=sent_by_municipality(e)), subject, text)


def completion_notice(ep: EpisodeWriter, e: Event) -> bytes:
    """XDIS19: the ready time and the planned discharge, the notice's own time where the timeline has neither."""
    ready, planned = ep.last("ready_for_discharge"), e.data.get("agreed_discharge_at")
    return write.completion_notice(ep.header(e, from_municipality=False), ep.admitted_at(e),
                                   ready.at if ready else e.at, planned if planned else e.at)


def discharge_advice(ep: EpisodeWriter, e: Event) -> bytes:
    """XDIS17: dead (doed) when the patient died at or after the discharge, else the destination's status."""
    discharged, deceased = ep.last("discharged"), ep.last("deceased")
    if deceased is not None and (discharged is None or deceased.at >= discharged.at):
        return write.discharge_advice(ep.header(e, from_municipality=False), deceased.at, "doed")
    status = DISCHARGE_STATUS.get(str(discharged.data.get("destination")), "udskrevet_til_andet") \
        if discharged and discharged.data.get("destination") else "uoplyst"
    return write.discharge_advice(ep.header(e, from_municipality=False), discharged.at if discharged else e.at,
                                  status)


def discharge_report(ep: EpisodeWriter, e: Event) -> bytes:
    ready, discharged = ep.last("ready_for_discharge"), ep.last("discharged")
    return write.discharge_report(ep.header(e, from_municipality=False), ep.admitted_at(e),
                                  discharged.at if discharged else None, ready.at if ready else None)


# event kind -> its writer
WRITERS: dict[str, Callable[[EpisodeWriter, Event], bytes]] = {
    "admission_advice_sent": admission_advice,
    "admission_report_sent": admission_report,
    "care_plan_sent": care_plan,
    "care_plan_ack_sent": correspondence,
    "correspondence_sent": correspondence,
    "completion_notice_sent": completion_notice,
    "discharge_advice_sent": discharge_advice,
    "discharge_report_sent": discharge_report,
}
# message kinds no OIOXML letter carries, and why
NOT_WRITTEN = {"leave_notice_sent": "OIOXML has no leave notice (MedCom's FHIR HospitalNotification STOR/SLOR has)"}
