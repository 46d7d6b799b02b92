"""Issue 20's replay defects, each on a log in the real formats (FHIR and OIOXML as hospitals and municipalities
send them): the municipality's CareCommunication that names no care plan, receipts reusing an envelope, one
episode-of-care id naming two patients, and receipts of messages that are not in the log."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.samples import CPR, at
from test_mixed_log import FHIR_HOSPITAL, FHIR_MUNICIPALITY, mixed_log

from medcom.formats.fhir import compose
from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.reports.replay import report_dict

EPISODE = "4f0a9c2e7d1b4e6a9c3f5b8d2e1a7c60"


def _replay(log: Path) -> dict:
    inputs = load_log([log], ReadOptions(sent_before_event=False))
    return report_dict(replay(inputs, load_policy()))


def test_a_municipality_care_communication_naming_no_care_plan_is_its_acknowledgement(tmp_path: Path) -> None:
    """The reply names no care plan and MedCom's Organizations carry no municipality code: the log says who the
    municipality is (the receiver of the episode's notifications), so the reply is the municipality's answer."""
    mixed_log(tmp_path / "named")
    mixed_log(tmp_path / "unnamed")
    reply = compose.care_communication(message_id="reply", sent=at("2025-03-06T08:30"), cpr=CPR,
                                       sender=FHIR_MUNICIPALITY, receiver=FHIR_HOSPITAL, topic="Plejeforløbsplan",
                                       text="Modtaget. Vi kan modtage borgeren mandag formiddag.", episode_id=EPISODE)
    (tmp_path / "unnamed" / "07-reply.json").write_bytes(compose.to_json(reply))
    named, unnamed = (_replay(tmp_path / name)["episodes"] for name in ("named", "unnamed"))
    (episode,) = unnamed
    assert [v["rule"] for v in episode["violations"]] == [v["rule"] for v in named[0]["violations"]] == ["CP-1"]
    assert sorted(o["rule"] for o in episode["obligations"]) == ["ACK-1", "ACK-2", "CP-2"]


def _all_rules(report: dict) -> list[str]:
    return [v["rule"] for e in report["episodes"] for v in e["violations"]] + [
        f["rule"] for f in report["input_findings"]]


def test_an_acknowledgement_reusing_another_messages_bundle_id_is_m_envelope(tmp_path: Path) -> None:
    mixed_log(tmp_path / "log")
    stin = json.loads((tmp_path / "log" / "01-stin.json").read_bytes())
    ack = json.loads((tmp_path / "log" / "08-ack.json").read_bytes())
    ack["id"] = stin["id"]  # the Acknowledgement of the reply in the notification's Bundle id
    (tmp_path / "log" / "08-ack.json").write_text(json.dumps(ack), encoding="utf-8")
    assert _all_rules(_replay(tmp_path / "log")).count("M-ENVELOPE") == 1


def test_an_xctl_receipt_reusing_another_letters_envelope_is_m_envelope(tmp_path: Path) -> None:
    from test_mixed_log import _xctl

    mixed_log(tmp_path / "log")
    receipt = _xctl("CP1", "XD2134C", "2025-03-05T15:02", to_hospital=True).replace(b"KCP1", b"ENVREP1")
    (tmp_path / "log" / "06-xctl.xml").write_bytes(receipt)  # in the envelope id of the municipality's XDIS16
    assert _all_rules(_replay(tmp_path / "log")).count("M-ENVELOPE") == 1


def test_one_episode_id_naming_two_patients_is_m_patient_not_m_ref(tmp_path: Path) -> None:
    """M-REF means "refers to a message not in the log"; a second patient under one episode-of-care id is a rule
    of its own (rule ids are never reused for another meaning)."""
    log = tmp_path / "log"
    log.mkdir()
    for n, cpr in enumerate(("0101011234", "0202021234")):
        admitted = at(f"2025-03-0{n + 3}T09:00")
        stin = compose.hospital_notification(
            "STIN", message_id=f"stin{n}", sent=at(f"2025-03-0{n + 3}T09:02"), admitted_at=admitted,
            event_at=admitted, episode_id=EPISODE, cpr=cpr, sender=FHIR_HOSPITAL, receiver=FHIR_MUNICIPALITY)
        (log / f"{n}-stin.json").write_bytes(compose.to_json(stin))
    report = _replay(log)
    assert len(report["episodes"]) == 2
    assert "M-PATIENT" in _all_rules(report) and "M-REF" not in _all_rules(report)


def test_a_reply_to_a_message_not_in_the_log_makes_no_pseudo_episode(tmp_path: Path) -> None:
    """A reply (of no episode) and a receipt to messages that are not in the log: input findings, no episode."""
    log = tmp_path / "log"
    log.mkdir()
    reply = compose.care_communication(message_id="reply", sent=at("2025-03-06T08:30"), cpr=CPR,
                                       sender=FHIR_MUNICIPALITY, receiver=FHIR_HOSPITAL, topic="Svar",
                                       text="Modtaget.", reply_to_message="not-in-the-log")
    (log / "reply.json").write_bytes(compose.to_json(reply))
    report = _replay(log)
    assert report["episodes"] == [] and report["summary"]["episodes"] == 0
    assert [(f["rule"], f["file"].rsplit("/", 1)[-1]) for f in report["input_findings"]] == [("M-REF", "reply.json")]
