"""Regenerate examples/: a small realistic message log and deliberately invalid messages.

    python examples/make_examples.py

`log/` holds three episodes with all eight families, their receipts and the events.jsonl side-car
(schema-valid; some break the agreement's deadlines on purpose, for replay). `invalid/` holds
one file per broken message rule, named `<RULE>-<what>.xml`. The output is deterministic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from medcom.calendar import TZ
from medcom.formats.dialect.codec import encode, to_xml
from medcom.formats.dialect.factory import MessageFactory, receipt_for
from medcom.formats.dialect.model import (
    ClinicalMessage,
    Destination,
    LetterStatus,
    Message,
    Patient,
    RejectReason,
    SpecialCoordination,
)

HERE = Path(__file__).parent


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def episode_e1(f: MessageFactory) -> list[Message]:
    """Clean: care plan in time, same-day acknowledgement, discharged with the 72-hour responsibility
    whose end crosses the change to summer time (72 h after Thu 27 March 13:00 is Sun 30 March 14:00)."""
    admitted = at("2025-03-24T08:40")
    plan = f.care_plan(at("2025-03-25T11:02"), admitted, at("2025-03-27T10:00"))
    return [
        f.admission_advice(at("2025-03-24T08:41"), admitted),
        f.admission_report(at("2025-03-24T09:12")),
        plan,
        f.care_plan_ack(at("2025-03-25T13:30"), plan.letter.identifier, accept=True,
                        discharge_at=at("2025-03-27T13:00")),
        f.discharge_advice(at("2025-03-27T13:03"), admitted, at("2025-03-27T13:00"), Destination.HOME_NURSING),
        f.discharge_report(at("2025-03-27T13:25"), admitted, at("2025-03-27T13:00"), at("2025-03-27T10:00"),
                           Destination.HOME_NURSING, extended_until=at("2025-03-30T14:00")),
    ]


def episode_e2(f: MessageFactory) -> list[Message]:
    """Easter 2025: ready Tuesday 22 April, so the care plan was due Wednesday 16 April 14:00 (Thursday
    to Monday are holidays and a weekend); it came at 15:30. Completion notice, a question and a reply."""
    admitted = at("2025-04-14T19:20")
    plan = f.care_plan(at("2025-04-16T15:30"), admitted, at("2025-04-22T09:00"),
                       special_coordination=(SpecialCoordination.CARE_BED_OR_LIFT,))
    question = f.correspondence(at("2025-04-17T10:05"), from_municipality=True,
                                subject="Plejeseng: hvilken type?", body="Skal der bruges lift ved forflytning?")
    return [
        f.admission_advice(at("2025-04-14T19:22"), admitted),
        f.admission_report(at("2025-04-14T19:40")),
        plan,
        f.care_plan_ack(at("2025-04-17T09:15"), plan.letter.identifier, accept=True,
                        discharge_at=at("2025-04-23T11:00")),
        question,
        f.correspondence(at("2025-04-22T08:30"), from_municipality=False, subject="Sv: Plejeseng",
                         body="Ja, loftlift eller mobil lift.", reply_to=question.letter.identifier),
        f.completion_notice(at("2025-04-22T09:10"), at("2025-04-22T09:00"), at("2025-04-23T11:00")),
        f.discharge_advice(at("2025-04-23T11:20"), admitted, at("2025-04-23T11:05"), Destination.HOME),
        f.discharge_report(at("2025-04-23T11:30"), admitted, at("2025-04-23T11:05"), at("2025-04-22T09:00"),
                           Destination.HOME),
    ]


def episode_e3(f: MessageFactory) -> list[Message]:
    """A care plan corrected (rettetbrev) after the municipality rejected the first discharge time."""
    admitted = at("2025-10-20T14:10")
    plan = f.care_plan(at("2025-10-22T10:00"), admitted, at("2025-10-24T12:00"))
    corrected = f.care_plan(at("2025-10-23T09:00"), admitted, at("2025-10-27T10:00"),
                            status=LetterStatus.CORRECTED, changes=plan.letter.identifier)
    return [
        f.admission_advice(at("2025-10-20T14:11"), admitted),
        f.admission_report(at("2025-10-20T14:30")),
        plan,
        f.care_plan_ack(at("2025-10-22T12:45"), plan.letter.identifier, accept=False,
                        reason=RejectReason.CANNOT_RECEIVE_ON_READY_DAY),
        corrected,
        f.discharge_advice(at("2025-10-27T10:40"), admitted, at("2025-10-27T10:30"), Destination.TEMPORARY_PLACE),
        f.discharge_report(at("2025-10-27T10:55"), admitted, at("2025-10-27T10:30"), at("2025-10-27T10:00"),
                           Destination.TEMPORARY_PLACE, extended_until=at("2025-10-30T10:30")),
    ]


# What no message carries: the admissions (which name the episodes), ready times and phone calls.
SIDECAR = [
    {"at": "2025-03-24T08:40", "episode": "E1", "event": "admitted", "cpr": "2509479989", "municipality": "851",
     "department": "Ortopædkirurgisk afsnit"},
    {"at": "2025-03-27T10:00", "episode": "E1", "event": "ready_for_discharge"},
    {"at": "2025-04-14T19:20", "episode": "E2", "event": "admitted", "cpr": "0703411234", "municipality": "851",
     "department": "Medicinsk afsnit"},
    {"at": "2025-04-16T15:35", "episode": "E2", "event": "phone_call", "caller": "hospital",
     "topic": "care plan sent late; ready Tuesday after Easter"},
    {"at": "2025-04-16T15:50", "episode": "E2", "event": "phone_call", "caller": "municipality",
     "topic": "verbal acknowledgement of the care plan"},
    {"at": "2025-04-22T09:00", "episode": "E2", "event": "ready_for_discharge"},
    {"at": "2025-10-20T14:10", "episode": "E3", "event": "admitted", "cpr": "1112304321", "municipality": "851",
     "department": "Geriatrisk afsnit"},
    {"at": "2025-10-27T10:00", "episode": "E3", "event": "ready_for_discharge"},
]


def write_log(directory: Path) -> list[ClinicalMessage]:
    directory.mkdir(parents=True, exist_ok=True)
    written: list[ClinicalMessage] = []
    episodes = [("E1", Patient(cpr="2509479989", surname="Hansen", given_name="Karen"), episode_e1),
                ("E2", Patient(cpr="0703411234", surname="Nielsen", given_name="Poul"), episode_e2),
                ("E3", Patient(cpr="1112304321", surname="Jensen", given_name="Inger"), episode_e3)]
    for name, patient, make in episodes:
        factory = MessageFactory(patient=patient, episode=name, id_prefix=name)
        for n, message in enumerate(make(factory), start=1):
            family = type(message).__name__
            (directory / f"{name}-{n:02d}-{family}.xml").write_bytes(to_xml(message))
            receipt = receipt_for(message, message.envelope.sent + timedelta(minutes=2), f"{name}R{n:04d}")
            (directory / f"{name}-{n:02d}-{family}-receipt.xml").write_bytes(to_xml(receipt))
            written.append(message)
    (directory / "events.jsonl").write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in SIDECAR),
                                            encoding="utf-8")
    return written


def write_invalid(directory: Path, template: ClinicalMessage) -> None:
    """One broken file per rule, each a mutated copy of a valid message."""
    directory.mkdir(parents=True, exist_ok=True)

    def mutate(name: str, *changes: tuple[str, str | None]) -> None:
        root = encode(template)
        for path, text in changes:
            el = root.xpath(path, namespaces={"m": etree.QName(root).namespace})[0]
            if text is None:
                el.getparent().remove(el)
            else:
                el.text = text
        (directory / name).write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                      pretty_print=True))

    mutate("M-SCHEMA-missing-surname.xml", ("//m:Patient/m:PersonSurnameName", None))
    mutate("M-CPR-no-such-date.xml", ("//m:Patient/m:CivilRegistrationNumber", "3102471234"))
    mutate("M-GLN-wrong-check-digit.xml", ("//m:Sender/m:EANIdentifier", "5790000182730"))
    mutate("M-MUNICIPALITY-unknown-code.xml", ("//m:Receiver/m:Identifier", "411"))
    mutate("M-TIME-spring-gap.xml", ("//m:Envelope/m:Sent/m:Date", "2025-03-30"),
           ("//m:Envelope/m:Sent/m:Time", "02:30:00"))
    mutate("M-STATUS-correction-names-no-letter.xml", ("//m:Letter/m:StatusCode", "rettetbrev"))
    good = to_xml(template)
    (directory / "M-XML-truncated.xml").write_bytes(good[: len(good) // 2])
    (directory / "M-XML-not-xml.xml").write_bytes(b"MSH|^~\\&|this is HL7 v2, not a MedCom XML message\r")
    (directory / "M-XML-external-entity.xml").write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE Emessage [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        b"<Emessage>&secret;</Emessage>\n")
    (directory / "M-XML-billion-laughs.xml").write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
                   for i in range(1, 10))
        + b"]>\n<lolz>&lol9;</lolz>\n")


if __name__ == "__main__":
    messages = write_log(HERE / "log")
    care_plan = next(m for m in messages if type(m).__name__ == "CarePlan")
    write_invalid(HERE / "invalid", care_plan)
    print(f"wrote {len(messages)} messages (+ receipts) to examples/log and the invalid set to examples/invalid")
