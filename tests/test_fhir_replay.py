"""MedCom FHIR messages through replay: each HospitalNotification event with its corrections and cancellations,
duplicates and resends, CareCommunication replies, Acknowledgements, one episode across id forms."""

import json
from pathlib import Path

from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.reports.replay import report_dict

HN = Path(__file__).parent / "data" / "fhir" / "hospitalnotification-3.0.2"
CC = Path(__file__).parent / "data" / "fhir" / "carecommunication-5.0.2"
ACK = Path(__file__).parent / "data" / "fhir" / "acknowledgement-2.0.3"
EPISODE = "bd481c38a92111edafa10242ac120002"
EXAMPLE = {"STIN": "a5e5b880", "RE_STIN": "bfab3e80", "AN_STIN": "c83671a4", "STOR": "d3128d9b", "SLOR": "e94de8ee",
           "SLHJ": "f4aa42a4", "MORS": "g099bbf3", "STAA": "h1c8e4a8", "SLHJ-EMER": "kcab461b",
           "MORS-EMER": "ld31e08a", "STIN-LPR3": "m908i967", "STIN-BOTH": "n73ccf30"}


def _file(code: str) -> Path:
    return next(HN.glob(f"Bundle-{EXAMPLE[code]}*.json"))


def replay_files(tmp_path: Path, *paths: Path, edits: dict[int, dict] | None = None) -> dict:
    log = tmp_path / "log"
    log.mkdir(parents=True)
    for n, path in enumerate(paths):
        data = json.loads(path.read_bytes())
        for key, value in (edits or {}).get(n, {}).items():
            data[key] = value
        (log / f"{n:02d}-{path.name}").write_text(json.dumps(data), encoding="utf-8")
    inputs = load_log([log], ReadOptions(sent_before_event=False))
    assert inputs.rejected == 0, [f.text for f in inputs.findings]
    return report_dict(replay(inputs, load_policy()))


def one(report: dict) -> dict:
    (episode,) = report["episodes"]
    return episode


def rules(episode: dict) -> list[str]:
    return sorted({v["rule"] for v in episode["violations"]})


def test_admission_opens_the_episode(tmp_path: Path) -> None:
    episode = one(replay_files(tmp_path, _file("STIN")))
    assert (episode["episode"], episode["state"], episode["admitted"], episode["discharged"]) == (
        EPISODE, "open", "2022-12-07T11:00:00+01:00", None)
    assert episode["sources"] == ["fhir"] and episode["patient"] == "250947-****"


def test_a_correction_replaces_the_admission_time(tmp_path: Path) -> None:
    episode = one(replay_files(tmp_path, _file("STIN"), _file("RE_STIN")))
    assert episode["admitted"] == "2022-12-07T12:00:00+01:00" and episode["state"] == "open"
    assert "ADM-1" not in rules(episode)  # the correction is not a second first message


def test_a_cancelled_admission_leaves_a_cancelled_episode_without_violations(tmp_path: Path) -> None:
    episode = one(replay_files(tmp_path, _file("STIN"), _file("AN_STIN")))
    assert episode["state"] == "cancelled" and episode["violations"] == [] and episode["obligations"] == []


def test_leave_and_discharge(tmp_path: Path) -> None:
    report = replay_files(tmp_path, _file("STIN"), _file("STOR"), _file("SLOR"), _file("SLHJ"))
    episode = one(report)
    assert (episode["state"], episode["discharged"]) == ("discharged", "2022-12-18T08:45:30+01:00")
    assert "LEAVE-1" not in rules(episode)  # one day on leave
    assert report["inputs"]["accepted"] == 4


def test_death_ends_the_episode_without_a_discharge(tmp_path: Path) -> None:
    episode = one(replay_files(tmp_path, _file("STIN"), _file("MORS")))
    assert (episode["state"], episode["discharged"]) == ("deceased", None)
    assert "DIS-1" not in rules(episode) and "DIS-2" not in rules(episode)


def test_acute_ambulant_stay(tmp_path: Path) -> None:
    episode = one(replay_files(tmp_path, _file("STAA"), _file("SLHJ-EMER")))
    assert (episode["admitted"], episode["discharged"]) == ("2022-12-01T09:00:04+01:00", "2022-12-02T21:00:09+01:00")


def test_lpr3_and_local_ids_name_one_episode(tmp_path: Path) -> None:
    report = replay_files(tmp_path, _file("STIN-LPR3"), _file("SLHJ"))
    assert [e["episode"] for e in report["episodes"]] == [EPISODE]


def test_a_notification_received_after_a_later_one_does_not_reopen_the_stay(tmp_path: Path) -> None:
    late = {0: {"timestamp": "2022-12-18T10:00:00+02:00"}}  # the admission arrives after the discharge
    episode = one(replay_files(tmp_path, _file("STIN"), _file("SLHJ"), edits=late))
    assert (episode["state"], episode["admitted"]) == ("discharged", "2022-12-07T11:00:00+01:00")
    assert "ADM-1" in rules(episode)  # the advice was not the episode's first message


def test_the_same_message_twice_is_a_duplicate_replayed_once(tmp_path: Path) -> None:
    report = replay_files(tmp_path, _file("STIN"), _file("STIN"))
    assert report["inputs"]["duplicates"] == 1 and report["inputs"]["accepted"] == 1
    assert "M-DUP" in rules(one(report))


def test_a_resend_in_a_new_envelope_after_30_minutes_is_fine_but_not_before(tmp_path: Path) -> None:
    resend = {1: {"id": "11111111-2222-3333-4444-555555555555", "timestamp": "2022-12-07T12:40:01+02:00"}}
    fine = replay_files(tmp_path / "a", _file("STIN"), _file("STIN"), edits=resend)
    assert fine["inputs"]["duplicates"] == 1 and "M-RESEND" not in rules(one(fine))
    early = {1: {"id": "11111111-2222-3333-4444-555555555555", "timestamp": "2022-12-07T12:10:01+02:00"}}
    assert "M-RESEND" in rules(one(replay_files(tmp_path / "b", _file("STIN"), _file("STIN"), edits=early)))


def test_an_envelope_id_reused_for_another_message_is_an_error(tmp_path: Path) -> None:
    reuse = {1: {"id": json.loads(_file("STIN").read_bytes())["id"]}}
    episode = one(replay_files(tmp_path, _file("STIN"), _file("SLHJ"), edits=reuse))
    assert "M-ENVELOPE" in rules(episode)


def test_an_id_reused_with_other_content_is_a_finding_not_a_silent_drop(tmp_path: Path) -> None:
    stin = json.loads(_file("STIN").read_bytes())
    other = json.loads(_file("STIN").read_bytes())
    other["id"] = "99999999-2222-3333-4444-555555555555"
    encounter = next(e["resource"] for e in other["entry"] if e["resource"]["resourceType"] == "Encounter")
    encounter["period"]["start"] = "2022-12-07T11:00:00+02:00"
    (tmp_path / "b.json").write_text(json.dumps(other))
    (tmp_path / "a.json").write_text(json.dumps(stin))
    report = replay_files(tmp_path / "x", tmp_path / "a.json", tmp_path / "b.json")
    assert report["inputs"]["duplicates"] == 0 and report["inputs"]["accepted"] == 2
    assert any(v["rule"] == "M-DUP" and v["severity"] == "warning" for v in one(report)["violations"])


def test_acknowledgements_are_receipts_of_the_messages_they_answer(tmp_path: Path) -> None:
    """The example acknowledges CareCommunication 42cb9200 with ok: its receipt came, within 30 minutes."""
    message = next(CC.glob("Bundle-add5e7e2*.json"))  # CareCommunication 42cb9200, 2024-05-01 12:00
    ack = next(ACK.glob("Bundle-a8c041b8*.json"))
    report = replay_files(tmp_path / "ok", message, ack, edits={1: {"timestamp": "2024-05-01T12:10:00+02:00"}})
    assert report["inputs"]["accepted"] == 2
    assert all(v["rule"] not in ("M-RECEIPT", "M-REF") for e in report["episodes"] for v in e["violations"])
    late = replay_files(tmp_path / "late", message, ack, edits={1: {"timestamp": "2024-05-01T13:10:00+02:00"}})
    assert [v["rule"] for e in late["episodes"] for v in e["violations"]] == ["M-RECEIPT"]


def test_an_acknowledgement_of_a_message_not_in_the_log_is_m_ref(tmp_path: Path) -> None:
    """An input finding (issue 20: it made a pseudo-episode "(no episode)" that the summary counted)."""
    report = replay_files(tmp_path, _file("STIN"), next(ACK.glob("Bundle-bc9535ef*.json")))
    assert "M-REF" in [f["rule"] for f in report["input_findings"]]
    assert [e["episode"] for e in report["episodes"]] == [EPISODE] and report["summary"]["episodes"] == 1


def test_a_notification_sent_long_after_the_event_is_m_notify(tmp_path: Path) -> None:
    late = {0: {"timestamp": "2022-12-07T13:00:01+02:00"}}  # the admission at 12:00 notified an hour later
    episode = one(replay_files(tmp_path, _file("STIN"), edits=late))
    (notify,) = [v for v in episode["violations"] if v["rule"] == "M-NOTIFY"]
    assert (notify["due"], notify["actual"]) == ("2022-12-07T11:15:00+01:00", "2022-12-07T12:00:01+01:00")
    assert "M-NOTIFY" not in rules(one(replay_files(tmp_path / "ok", _file("STIN"))))
