"""Regenerate examples/: a timeline, the real MedCom message log it builds into, and broken messages.

    python examples/make_examples.py

`timeline.jsonl` holds three episodes (CONTRACT.md's timeline format); `log/` is what `medcom build` makes of
it, as national practice is: MedCom FHIR HospitalNotification and CareCommunication with their Acknowledgements,
OIOXML XDIS16, XDIS21 (34C), XDIS19 and XDIS18 (34C) with XCTL03 receipts, plus the events.jsonl side-car;
replaying either gives the same report (some episodes break the agreement's deadlines on purpose). `invalid/`
holds one file per broken message rule, named `<RULE>-<what>.xml`, each a mutated copy of a built message. The
output is deterministic.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from medcom.events.build import build
from medcom.events.timeline import read_file
from medcom.formats.xmlsafe import parse_bytes

HERE = Path(__file__).parent


def _plus(at: str, minutes: int) -> str:
    return (datetime.fromisoformat(at) + timedelta(minutes=minutes)).isoformat(timespec="minutes")


def _episode(name: str, lines: list[dict]) -> list[dict]:
    """The lines of one episode, each message answered by a positive receipt two minutes later."""
    out = []
    for line in lines:
        out.append({"episode": name, **line})
        if line["event"].endswith("_sent") and line.get("id"):
            out.append({"at": _plus(line["at"], 2), "episode": name, "event": "receipt_sent", "ref": line["id"],
                        "positive": True})
    return out


# E1: clean; care plan in time, same-day acknowledgement, discharged with the 72-hour responsibility whose end
# crosses the change to summer time (72 h after Thu 27 March 13:00 is Sun 30 March 14:00).
E1 = _episode("E1", [
    {"at": "2025-03-24T08:40", "event": "admitted", "cpr": "2509479989", "municipality": "851",
     "department": "Ortopædkirurgisk afsnit", "hospital": "Aalborg Universitetshospital"},
    {"at": "2025-03-24T08:41", "event": "admission_advice_sent", "id": "E1-ADV"},
    {"at": "2025-03-24T09:12", "event": "admission_report_sent", "id": "E1-REP"},
    {"at": "2025-03-25T11:02", "event": "care_plan_sent", "id": "E1-CP"},
    {"at": "2025-03-25T13:30", "event": "care_plan_ack_sent", "id": "E1-ACK", "ref": "E1-CP", "decision": "accept",
     "discharge_at": "2025-03-27T13:00"},
    {"at": "2025-03-27T10:00", "event": "ready_for_discharge"},
    {"at": "2025-03-27T13:00", "event": "discharged", "destination": "home_nursing"},
    {"at": "2025-03-27T13:03", "event": "discharge_advice_sent", "id": "E1-DA"},
    {"at": "2025-03-27T13:25", "event": "discharge_report_sent", "id": "E1-DR",
     "extended_responsibility_until": "2025-03-30T14:00"},
])

# E2: Easter 2025. Ready Tuesday 22 April, so the care plan was due Wednesday 16 April 14:00 (Thursday to Monday
# are holidays and a weekend); it came at 15:30, followed by the hospital's phone call. A question and a reply,
# a completion notice, and the municipality receives the patient the day after the ready day.
E2 = _episode("E2", [
    {"at": "2025-04-14T19:20", "event": "admitted", "cpr": "0703411234", "municipality": "851",
     "department": "Medicinsk afsnit", "hospital": "Aalborg Universitetshospital"},
    {"at": "2025-04-14T19:22", "event": "admission_advice_sent", "id": "E2-ADV"},
    {"at": "2025-04-14T19:40", "event": "admission_report_sent", "id": "E2-REP"},
    {"at": "2025-04-16T15:30", "event": "care_plan_sent", "id": "E2-CP", "special_coordination": "care_bed_or_lift"},
    {"at": "2025-04-16T15:35", "event": "phone_call", "caller": "hospital",
     "topic": "care plan sent late; ready Tuesday after Easter"},
    {"at": "2025-04-16T15:50", "event": "phone_call", "caller": "municipality",
     "topic": "verbal acknowledgement of the care plan"},
    {"at": "2025-04-17T09:15", "event": "care_plan_ack_sent", "id": "E2-ACK", "ref": "E2-CP", "decision": "accept",
     "discharge_at": "2025-04-23T11:00"},
    {"at": "2025-04-17T10:05", "event": "correspondence_sent", "id": "E2-Q", "sender": "municipality",
     "reply_to": "E2-CP", "subject": "Plejeseng: hvilken type?"},
    {"at": "2025-04-22T08:30", "event": "correspondence_sent", "id": "E2-A", "sender": "hospital",
     "reply_to": "E2-Q", "subject": "Sv: Plejeseng"},
    {"at": "2025-04-22T09:00", "event": "ready_for_discharge"},
    {"at": "2025-04-22T09:10", "event": "completion_notice_sent", "id": "E2-FM",
     "agreed_discharge_at": "2025-04-23T11:00"},
    {"at": "2025-04-23T11:05", "event": "discharged", "destination": "home"},
    {"at": "2025-04-23T11:20", "event": "discharge_advice_sent", "id": "E2-DA"},
    {"at": "2025-04-23T11:30", "event": "discharge_report_sent", "id": "E2-DR"},
])

# E3: the municipality rejects the first discharge time; the hospital corrects the care plan (rettetbrev), and the
# patient goes to a temporary place the day after summer time ends.
E3 = _episode("E3", [
    {"at": "2025-10-20T14:10", "event": "admitted", "cpr": "1112304321", "municipality": "813",
     "department": "Geriatrisk afsnit", "hospital": "Regionshospital Nordjylland"},
    {"at": "2025-10-20T14:11", "event": "admission_advice_sent", "id": "E3-ADV"},
    {"at": "2025-10-20T14:30", "event": "admission_report_sent", "id": "E3-REP"},
    {"at": "2025-10-22T10:00", "event": "care_plan_sent", "id": "E3-CP"},
    {"at": "2025-10-22T12:45", "event": "care_plan_ack_sent", "id": "E3-ACK", "ref": "E3-CP", "decision": "reject",
     "reason": "cannot_receive_on_ready_day"},
    {"at": "2025-10-23T09:00", "event": "care_plan_sent", "id": "E3-CP2", "correction_of": "E3-CP"},
    {"at": "2025-10-27T10:00", "event": "ready_for_discharge"},
    {"at": "2025-10-27T10:30", "event": "discharged", "destination": "temporary_place"},
    {"at": "2025-10-27T10:40", "event": "discharge_advice_sent", "id": "E3-DA"},
    {"at": "2025-10-27T10:55", "event": "discharge_report_sent", "id": "E3-DR",
     "extended_responsibility_until": "2025-10-30T10:30"},
])


def write_timeline(path: Path) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in (*E1, *E2, *E3)),
                    encoding="utf-8")
    return path


def write_invalid(directory: Path, log: Path, oioxml: Path) -> None:
    """One broken file per rule, each a mutated copy of a built message (`oioxml`: the log built in OIOXML only)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    care_plan = next(oioxml.glob("E1-*-care_plan_sent.xml")).read_bytes()
    advice = next(oioxml.glob("E1-*-admission_advice_sent.xml")).read_bytes()
    notification = json.loads(next(log.glob("E1-*-admission_advice_sent.json")).read_bytes())
    encounter = next(e["resource"] for e in notification["entry"] if e["resource"]["resourceType"] == "Encounter")
    del encounter["class"]
    (directory / "F-PROFILE-notification-without-encounter-class.json").write_text(
        json.dumps(notification, indent=2, ensure_ascii=False), encoding="utf-8")

    def mutate(name: str, template: bytes, *changes: tuple[str, str | None]) -> None:
        root = parse_bytes(template).getroot()
        for path, text in changes:
            el = root.xpath(path)[0]
            if text is None:
                el.getparent().remove(el)
            else:
                el.text = text
        encoding = "iso-8859-1" if b"urn:oio:medcom" in template else "windows-1252"
        (directory / name).write_bytes(etree.tostring(root, encoding=encoding,
                                                      xml_declaration=encoding != "iso-8859-1"))

    patient = "//*[local-name()='Patient']"
    mutate("M-SCHEMA-missing-admission-time.xml", advice, ("//*[local-name()='Admission']", None))
    mutate("M-CPR-no-such-date.xml", care_plan, (f"{patient}/*[local-name()='CivilRegistrationNumber']", "3102471234"))
    mutate("M-GLN-wrong-check-digit.xml", advice,
           ("//*[local-name()='Sender']/*[local-name()='EANIdentifier']", "5790000182730"))
    mutate("M-MUNICIPALITY-unknown-code.xml", advice, ("//*[local-name()='Receiver']/*[local-name()='Identifier']",
                                                       "411"))
    mutate("M-TIME-spring-gap.xml", advice, ("//*[local-name()='Sent']/*[local-name()='Date']", "2025-03-30"),
           ("//*[local-name()='Sent']/*[local-name()='Time']", "02:30"))
    mutate("M-VERSION-unknown-version-code.xml", advice, ("//*[local-name()='VersionCode']", "XD2031C"))
    (directory / "M-XML-truncated.xml").write_bytes(care_plan[: len(care_plan) // 2])
    (directory / "M-XML-not-xml.xml").write_bytes(b"MSH|^~\\&|this is HL7 v2, not a MedCom XML message\r")
    (directory / "M-XML-external-entity.xml").write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE Emessage [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        b"<Emessage>&secret;</Emessage>\n")
    (directory / "M-XML-billion-laughs.xml").write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
                   for i in range(1, 10))
        + b"]>\n<lolz>&lol9;</lolz>\n")


def main() -> None:
    timeline = write_timeline(HERE / "timeline.jsonl")
    read = read_file(timeline)
    assert read.rejected == 0, read.findings
    log = HERE / "log"
    if log.exists():
        shutil.rmtree(log)
    built = build(read.events, log)
    with tempfile.TemporaryDirectory() as tmp:
        build(read.events, Path(tmp), formats="oioxml")
        write_invalid(HERE / "invalid", log, Path(tmp))
    print(f"wrote examples/timeline.jsonl, {built.messages} messages and {built.sidecar_events} side-car lines to "
          "examples/log, and the invalid set to examples/invalid")


if __name__ == "__main__":
    main()
