"""One stay told by FHIR and OIOXML at once, replayed to a report computed by hand.

Mon 3 March 2025 09:00 admitted (HospitalNotification STIN, sent 09:02; the municipality's XDIS16 at 09:20).
Wed 5 March 15:00 the OIOXML care plan (34C) for a patient ready Thu 6 March 10:00: CP-1's deadline was the last
weekday before the ready day at 14:00, Wed 14:00, so CP-1 is broken by an hour; the log holds no phone calls, so
CP-2's call and ACK-1's verbal acknowledgement (the plan came after 14:00) are obligations. Thu 08:30 the
municipality answers the care plan with a CareCommunication reply naming the OIOXML letter: its decision is free
text (ACK-2 obligation). Discharged Mon 10 March 10:00 (SLHJ sent 10:05, the XDIS18 at 10:20). Every message is
receipted (Acknowledgement or XCTL03) within minutes.
Completion tax: from the ready time Thu 10:00 (the care plan came before it), the midnights up to Mon 10:00 are
Fri, Sat, Sun and Mon: 4 days, 2 x 3,952 + 2 x 5,928 = 19,760 DKK; none disputable. 72 hours: SLHJ says the
patient went home, which is not a destination of R72-1, so it does not apply.
"""

from pathlib import Path

from helpers.samples import CPR, HOSPITAL, MUNICIPALITY, at, header

from medcom.formats.fhir import build_acknowledgement, compose
from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml import write
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.reports.replay import report_dict

EPISODE = "4f0a9c2e7d1b4e6a9c3f5b8d2e1a7c60"
FHIR_HOSPITAL = compose.Organisation("265161000016000", HOSPITAL.ean, "Ortopædkirurgisk afdeling")
FHIR_MUNICIPALITY = compose.Organisation("953741000016009", MUNICIPALITY.ean, "Aalborg Kommune")


def _ack(bundle: dict, sent: str) -> bytes:
    return compose.to_json(build_acknowledgement(bundle, "ok", now=at(sent)))


def _xctl(letter: str, version: str, sent: str, *, to_hospital: bool) -> bytes:
    sender, receiver = (MUNICIPALITY, HOSPITAL) if to_hospital else (HOSPITAL, MUNICIPALITY)
    return write.receipt(positive=True, envelope_id=f"K{letter}", letter_id=f"K{letter}", sent=at(sent),
                         sender_ean=sender.ean, receiver_ean=receiver.ean, original_envelope_id=f"ENV{letter}",
                         original_sender_ean=receiver.ean, original_receiver_ean=sender.ean,
                         letters=[(letter, version, None, None)])


def mixed_log(directory: Path) -> None:
    directory.mkdir()
    admitted, ready, out = at("2025-03-03T09:00"), at("2025-03-06T10:00"), at("2025-03-10T10:00")
    stin = compose.hospital_notification("STIN", message_id="stin", sent=at("2025-03-03T09:02"), admitted_at=admitted,
                                         event_at=admitted, episode_id=EPISODE, cpr=CPR, sender=FHIR_HOSPITAL,
                                         receiver=FHIR_MUNICIPALITY)
    reply = compose.care_communication(message_id="reply", sent=at("2025-03-06T08:30"), cpr=CPR,
                                       sender=FHIR_MUNICIPALITY, receiver=FHIR_HOSPITAL, topic="Plejeforløbsplan",
                                       text="Modtaget. Vi kan modtage borgeren mandag formiddag.", episode_id=EPISODE,
                                       reply_to_letter=(HOSPITAL.ean, "CP1"))
    slhj = compose.hospital_notification("SLHJ", message_id="slhj", sent=at("2025-03-10T10:05"), admitted_at=admitted,
                                         event_at=out, episode_id=EPISODE, cpr=CPR, sender=FHIR_HOSPITAL,
                                         receiver=FHIR_MUNICIPALITY, revises=compose.header_id(stin))
    files = {
        "01-stin.json": compose.to_json(stin), "02-ack.json": _ack(stin, "2025-03-03T09:03"),
        "03-xdis16.xml": write.admission_report(header("REP1", "2025-03-03T09:20", from_municipality=True)),
        "04-xctl.xml": _xctl("REP1", "XD1630C", "2025-03-03T09:21", to_hospital=False),
        "05-careplan.xml": write.care_plan(header("CP1", "2025-03-05T15:00"), admitted, ready_at=ready,
                                           agreed_discharge_at=None, conference_at=None),
        "06-xctl.xml": _xctl("CP1", "XD2134C", "2025-03-05T15:02", to_hospital=True),
        "07-reply.json": compose.to_json(reply), "08-ack.json": _ack(reply, "2025-03-06T08:31"),
        "09-slhj.json": compose.to_json(slhj), "10-ack.json": _ack(slhj, "2025-03-10T10:06"),
        "11-xdis18.xml": write.discharge_report(header("DR1", "2025-03-10T10:20"), admitted, out, ready),
        "12-xctl.xml": _xctl("DR1", "XD1834C", "2025-03-10T10:22", to_hospital=True),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)


def test_a_mixed_log_replays_to_the_hand_computed_report(tmp_path: Path) -> None:
    mixed_log(tmp_path / "log")
    inputs = load_log([tmp_path / "log"], ReadOptions(sent_before_event=False))
    assert inputs.rejected == 0, [f.text for f in inputs.findings]
    report = report_dict(replay(inputs, load_policy()))
    assert report["inputs"] == {"messages": 12, "accepted": 12, "rejected": 0, "duplicates": 0}
    (episode,) = report["episodes"]
    assert episode["episode"] == EPISODE and episode["sources"] == ["fhir", "oioxml"]
    assert (episode["admitted"], episode["discharged"], episode["state"]) == (
        "2025-03-03T09:00:00+01:00", "2025-03-10T10:00:00+01:00", "discharged")
    assert [(v["rule"], v["due"], v["actual"]) for v in episode["violations"]] == [
        ("CP-1", "2025-03-05T14:00:00+01:00", "2025-03-05T15:00:00+01:00")]
    assert sorted(o["rule"] for o in episode["obligations"]) == ["ACK-1", "ACK-2", "CP-2"]
    assert (episode["completion_tax_days"], episode["completion_tax_dkk"], episode["disputable_days"]) == (4, 19760, 0)
    assert episode["completion_tax"]["counted_dates"] == ["2025-03-07", "2025-03-08", "2025-03-09", "2025-03-10"]
    assert episode["extended_responsibility"] == {"applies": False, "until": None,
                                                  "reason": "destination not covered: not stated"}
