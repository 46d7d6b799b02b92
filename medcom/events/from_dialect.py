"""What each MedCom message tells the engine: the message event and the facts it carries.

The inverse of `medcom.events.build`; the build -> replay round trip tests keep the two in step.
"""

from __future__ import annotations

from medcom.events import Event
from medcom.formats.dialect.model import (
    AckDecision,
    AdmissionAdvice,
    AdmissionReport,
    CarePlan,
    CompletionNotice,
    Correspondence,
    DepartmentKind,
    DischargeAdvice,
    DischargeReport,
    IdentifierKind,
    LetterStatus,
    Message,
    Receipt,
)


def events_from_message(message: Message, source: str, seq: int) -> tuple[list[Event], str | None]:
    """(events, id of the letter this message cancels, if it is an annulleretbrev)."""
    sent = message.envelope.sent
    requested = message.envelope.receipt_requested
    if isinstance(message, Receipt):
        return [Event(sent, "", "receipt_sent", {"id": message.envelope.identifier,
                                                  "ref": message.original_envelope_id,
                                                  "positive": message.positive}, seq, source)], None
    episode = message.letter.episode_of_care_id
    letter = message.letter

    def event(kind: str, at=sent, **data: object) -> Event:
        return Event(at, episode, kind, {k: v for k, v in data.items() if v is not None}, seq, source,
                     receipt_requested=requested and kind.endswith("_sent"),
                     envelope_id=message.envelope.identifier)

    if letter.status is LetterStatus.CANCELLED:
        return [], letter.changes_letter
    correction_of = letter.changes_letter if letter.status is LetterStatus.CORRECTED else None
    ident = letter.identifier
    if isinstance(message, AdmissionAdvice):
        municipality = message.receiver.identifier if message.receiver.identifier_kind is IdentifierKind.MUNICIPALITY \
            else None
        return [event("admitted", message.admitted_at, cpr=message.patient.cpr, municipality=municipality,
                      department=message.sender.department or message.sender.organisation,
                      somatic=message.department_kind is DepartmentKind.SOMATIC),
                event("admission_advice_sent", id=ident)], None
    if isinstance(message, AdmissionReport):
        return [event("admission_report_sent", id=ident)], None
    if isinstance(message, CarePlan):
        reason = message.special_coordination[0].name.lower() if message.special_coordination else None
        return [event("care_plan_sent", id=ident, special_coordination=reason, correction_of=correction_of,
                      revised_after_conference=message.revised_after_conference or None)], None
    if isinstance(message, CompletionNotice):
        return [event("ready_for_discharge", message.ready_at),
                event("completion_notice_sent", id=ident, agreed_discharge_at=message.agreed_discharge_at)], None
    if isinstance(message, DischargeAdvice | DischargeReport):
        discharged = event("discharged", message.discharged_at, destination=message.destination.name.lower(),
                           unplanned=message.unplanned)
        if isinstance(message, DischargeAdvice):
            return [discharged, event("discharge_advice_sent", id=ident)], None
        agreements = message.future_agreements
        return [event("ready_for_discharge", message.treatment_ended_at), discharged,
                event("discharge_report_sent", id=ident,
                      extended_responsibility_until=agreements.extended_responsibility_until)], None
    if isinstance(message, Correspondence):
        ack = message.care_plan_ack
        if ack is not None:
            return [event("care_plan_ack_sent", id=ident, ref=ack.care_plan_identifier,
                          decision="accept" if ack.decision is AckDecision.ACCEPT else "reject",
                          discharge_at=ack.discharge_at, reason=ack.reason.name.lower() if ack.reason else None)], None
        sender = "municipality" if message.sender.identifier_kind is IdentifierKind.MUNICIPALITY else "hospital"
        return [event("correspondence_sent", id=ident, sender=sender, reply_to=message.reply_to,
                      subject=message.subject)], None
    raise TypeError(f"no events for {type(message).__name__}")  # every family is handled above
