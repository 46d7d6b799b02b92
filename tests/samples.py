"""One valid, coherent message of every family, built with the factory."""

from datetime import datetime

from medcom.calendar import TZ
from medcom.formats.dialect.factory import MessageFactory, receipt_for
from medcom.formats.dialect.model import Destination, Message, Patient, RefuseCode


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def one_of_each() -> dict[str, Message]:
    f = MessageFactory(patient=Patient(cpr="2509479989", surname="Hansen", given_name="Karen"), episode="T1")
    admitted, ready, out = at("2025-03-24T08:40"), at("2025-03-27T10:00"), at("2025-03-27T13:00")
    plan = f.care_plan(at("2025-03-25T11:00"), admitted, ready)
    messages = [
        f.admission_advice(at("2025-03-24T08:41"), admitted),
        f.admission_report(at("2025-03-24T09:10")),
        plan,
        f.completion_notice(at("2025-03-27T10:05"), ready, out),
        f.discharge_advice(at("2025-03-27T13:02"), admitted, out, Destination.HOME_NURSING),
        f.discharge_report(at("2025-03-27T13:20"), admitted, out, ready, Destination.HOME_NURSING,
                           extended_until=at("2025-03-30T14:00")),
        f.care_plan_ack(at("2025-03-25T12:00"), plan.letter.identifier, accept=True, discharge_at=out),
        receipt_for(plan, at("2025-03-25T11:01"), "R1"),
        receipt_for(plan, at("2025-03-25T11:01"), "R2", refuse=(RefuseCode.SYNTAX, "Schema error at line 3")),
    ]
    assert len({type(m) for m in messages}) == len(messages)
    return {m.FAMILY: m for m in messages}


