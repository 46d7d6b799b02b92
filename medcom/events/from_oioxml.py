"""OIOXML letters as agreement events (the README's mapping table; one test per row).

XDIS20 -> admitted + admission advice; XDIS16 -> admission report; XDIS21 -> care plan (ExpectedEndOfTreatment
a ready time, AgreedDischarge the agreed discharge, DischargeConference a conference and its reason);
XDIS19 -> completion notice (EndOfTreatment a ready time, PlannedDischarge the agreed discharge); XDIS17 ->
discharged (or deceased) + discharge advice; XDIS18 -> discharge report (its discharge and end of treatment
where present, never invented); XDIS91 -> correspondence (the municipality's answers a care plan: ACK-1);
XCTL01-03 -> receipts of the letters they name. What only free text says (an acceptance or rejection, the
agreed time in a correspondence) is not guessed: the rules treat it as an obligation.
"""

from __future__ import annotations

from datetime import datetime

from medcom.events import Event
from medcom.events.from_messages import CANCELLED, CORRECTED, NEW, MessageEvents, episode_key
from medcom.formats.oioxml.letters import Letter

# EpisodeOfCareStatusCode of a discharge advice -> the timeline's destination (None: not stated).
DESTINATIONS = {"udskrevet_til_hjemmet": "home", "udskrevet_til_andet": "other", "flyttet_til_sygehusafd": "other",
                "flyttet_til_sygehus": "other", "uoplyst": None}
STATUS = {"nytbrev": NEW, "rettetbrev": CORRECTED, "annulleretbrev": CANCELLED, None: NEW}
# FurtherCoordination blocks of a 34C care plan that name a special-coordination reason (CP-3).
COORDINATION_REASONS = (("DischargeConference", "discharge_conference"), ("HomeChanges", "major_home_changes"))
KIND = {"XDIS20": "admission_advice_sent", "XDIS16": "admission_report_sent", "XDIS21": "care_plan_sent",
        "XDIS19": "completion_notice_sent", "XDIS17": "discharge_advice_sent", "XDIS18": "discharge_report_sent",
        "XDIS91": "correspondence_sent"}


def events_of_letter(letter: Letter, source: str) -> MessageEvents:
    """The events one letter tells."""
    code = letter.family.code
    if letter.family.is_receipt:
        return _receipt(letter, source)
    episode = episode_key(letter.episode_id) or f"(no episode) {letter.letter_id or letter.envelope_id}"
    sent = letter.sent
    out = MessageEvents(status=STATUS.get(letter.status, NEW), kind=KIND[code], cpr=letter.cpr, episode=episode,
                        sender=tuple(i for i in (letter.sender.ean,) if i),
                        receiver=tuple(i for i in (letter.receiver.ean,) if i))
    if sent is None:
        return out

    def add(kind: str, at: datetime | None, **data: object) -> None:
        if at is not None:
            out.events.append(Event(at, episode, kind, {k: v for k, v in data.items() if v is not None}, 0, source,
                                    receipt_requested=letter.receipt_requested and kind.endswith("_sent"),
                                    envelope_id=letter.envelope_id, origin="oioxml"))

    t = letter.times
    ident = letter.letter_id
    if code == "XDIS20":
        municipality = letter.receiver.identifier if letter.receiver.is_municipality else None
        add("admitted", t.get("Admission"), cpr=letter.cpr, municipality=municipality,
            department=letter.sender.department or letter.sender.organisation)
        add("admission_advice_sent", sent, id=ident, answer_to=letter.answer_to)
    elif code == "XDIS16":
        add("admission_report_sent", sent, id=ident)
    elif code == "XDIS21":
        reasons = [reason for block, reason in COORDINATION_REASONS if block in letter.coordination]
        add("ready_for_discharge", t.get("ExpectedEndOfTreatment"))
        add("conference_ready", letter.conference)
        add("care_plan_sent", sent, id=ident, agreed_discharge_at=t.get("AgreedDischarge"),
            special_coordination=reasons[0] if reasons else None)
    elif code == "XDIS19":
        add("ready_for_discharge", t.get("EndOfTreatment"))
        add("conference_ready", t.get("PlanConference"))
        add("completion_notice_sent", sent, id=ident, agreed_discharge_at=t.get("PlannedDischarge"))
    elif code == "XDIS17":
        if letter.patient_status == "doed":
            add("deceased", t.get("Discharge"))
        else:
            add("discharged", t.get("Discharge"), destination=DESTINATIONS.get(letter.patient_status or "uoplyst"))
        add("discharge_advice_sent", sent, id=ident)
    elif code == "XDIS18":
        add("ready_for_discharge", t.get("EndOfTreatment"))
        add("discharged", t.get("Discharge"))
        add("discharge_report_sent", sent, id=ident)
    elif code == "XDIS91":
        from_municipality = letter.sender.is_municipality or (not letter.receiver.is_municipality
                                                              and letter.sender.kind is None)
        add("correspondence_sent", sent, id=ident, sender="municipality" if from_municipality else "hospital",
            subject=letter.subject)
    return out


def _receipt(letter: Letter, source: str) -> MessageEvents:
    """A receipt names the envelope and, usually, the letters it answers: one receipt event per letter (the
    input stage resolves an envelope to its letters when no letter is named)."""
    original = letter.original
    out = MessageEvents(kind="receipt_sent")
    if original is None or letter.sent is None:
        return out
    targets = original.letter_ids or ((original.envelope_id,) if original.envelope_id else ())
    positive = letter.family.code == "XCTL03"
    for target in targets:
        data: dict[str, object] = {"id": f"{letter.envelope_id or letter.letter_id}:{target}", "ref": target,
                                   "positive": positive, "envelope_ref": original.envelope_id}
        if not positive:
            data.update(refuse_code=original.refuse_code, vans=letter.family.code == "XCTL01")
        out.events.append(Event(letter.sent, "", "receipt_sent", data, 0, source, envelope_id=letter.envelope_id,
                                origin="oioxml"))
    return out
