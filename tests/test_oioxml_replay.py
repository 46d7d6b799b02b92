"""OIOXML into the agreement's events (the README's mapping table, a test per row) and real logs through replay:
episodes, corrections and cancellations without pointers, receipts, wrappings."""

import dataclasses
import json
from pathlib import Path

import pytest
from helpers.samples import CPR, EPISODE, HOSPITAL, MUNICIPALITY, at, header, one_of_each

from medcom.events.from_oioxml import events_of_letter
from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml import write
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.formats.read import read_document
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.reports.replay import report_dict

REPLAY = ReadOptions(sent_before_event=False)


def events(data: bytes) -> list[tuple[str, str, dict]]:
    (message,) = read_document(data, "m.xml", REPLAY)
    assert message.accepted, message.findings
    return [(e.kind, e.at.isoformat(), e.data) for e in events_of_letter(message.content, "m.xml").events]


def test_xdis20_is_the_admission_and_its_advice() -> None:
    (admitted, advice) = events(one_of_each()["XDIS20"])
    assert admitted == ("admitted", "2025-03-24T08:40:00+01:00", {"cpr": CPR, "municipality": "851",
                                                                   "department": HOSPITAL.department})
    assert advice[:2] == ("admission_advice_sent", "2025-03-24T08:41:00+01:00")
    assert advice[2] == {"id": "ADV1", "answer_to": HOSPITAL.ean}  # AnswerTo: where the admission report goes


def test_xdis16_is_the_admission_report() -> None:
    assert events(one_of_each()["XDIS16"]) == [("admission_report_sent", "2025-03-24T09:10:00+01:00", {"id": "REP1"})]


def test_xdis21_is_the_care_plan_with_ready_time_agreed_discharge_and_conference() -> None:
    assert events(one_of_each()["XDIS21"]) == [
        ("ready_for_discharge", "2025-03-27T10:00:00+01:00", {}),
        ("conference_ready", "2025-03-26T10:00:00+01:00", {}),
        ("care_plan_sent", "2025-03-25T11:00:07+01:00",
         {"id": "CP1", "agreed_discharge_at": at("2025-03-27T13:00"), "special_coordination": "discharge_conference"}),
    ]


def test_xdis19_is_the_completion_notice_with_ready_time_and_planned_discharge() -> None:
    assert events(one_of_each()["XDIS19"]) == [
        ("ready_for_discharge", "2025-03-27T10:00:00+01:00", {}),
        ("completion_notice_sent", "2025-03-27T10:05:00+01:00", {"id": "FM1",
                                                                  "agreed_discharge_at": at("2025-03-27T13:00")})]


@pytest.mark.parametrize(("status", "facts"), [
    ("udskrevet_til_hjemmet", [("discharged", {"destination": "home"})]),
    ("udskrevet_til_andet", [("discharged", {"destination": "other"})]),
    ("uoplyst", [("discharged", {})]),
    ("doed", [("deceased", {})]),
])
def test_xdis17_is_the_discharge_or_death_and_its_advice(status: str, facts: list) -> None:
    data = write.discharge_advice(header("DA1", "2025-03-27T13:02"), at("2025-03-27T13:00"), status)
    out = events(data)
    assert [(kind, d) for kind, _, d in out[:-1]] == facts
    assert out[-1][:2] == ("discharge_advice_sent", "2025-03-27T13:02:00+01:00")


def test_xdis18_states_its_discharge_and_end_of_treatment_only_where_present() -> None:
    assert [e[0] for e in events(one_of_each()["XDIS18"])] == ["ready_for_discharge", "discharged",
                                                              "discharge_report_sent"]
    bare = write.discharge_report(header("DR2", "2025-03-27T13:20"), at("2025-03-24T08:40"), None, None)
    assert [e[0] for e in events(bare)] == ["discharge_report_sent"]  # nothing invented


def test_xdis91_is_correspondence_and_says_who_sent_it() -> None:
    (municipal,) = events(one_of_each()["XDIS91"])
    assert municipal[0] == "correspondence_sent" and municipal[2]["sender"] == "municipality"
    hospital = write.correspondence(header("Q1", "2025-03-25T12:00"), "Spørgsmål", "Hvilken seng?")
    assert events(hospital)[0][2]["sender"] == "hospital"


def test_xctl_are_receipts_of_the_letters_they_name() -> None:
    (positive,) = events(one_of_each()["XCTL03"])
    assert positive[0] == "receipt_sent" and positive[2]["ref"] == "CP1" and positive[2]["positive"] is True
    (negative,) = events(one_of_each()["XCTL02"])
    assert negative[2]["positive"] is False and negative[2]["refuse_code"] == "syntaksfejl"


# ---- real logs through replay ----------------------------------------------------------------------------------


def _log(tmp_path: Path, messages: dict[str, bytes], wrap: str = "none") -> Path:
    log = tmp_path / "log"
    log.mkdir(exist_ok=True)
    for name, data in messages.items():
        if wrap != "none":
            data = vans_envelope(data, envelope_id=name[:14], sent="2025-01-01T00:00:00", sender_ean="1",
                                 receiver_ean="2", name="", version="")
            if wrap == "sbdh":
                data = sbdh(data, instance_id=name, created="2025-01-01T00:00:00", sender_gln="1", receiver_gln="2",
                            standard="urn:oio:medcom:vans-envelope:1.0.4", type_version="1.0.4",
                            doc_type="VANSEnvelope")
        (log / f"{name}.xml").write_bytes(data)
    return log


def _report(log: Path) -> dict:
    inputs = load_log([log], REPLAY)
    assert inputs.rejected == 0, [f.text for f in inputs.findings]
    return report_dict(replay(inputs, load_policy()))


def _stay() -> dict[str, bytes]:
    messages = one_of_each()
    return {k: messages[k] for k in ("XDIS20", "XDIS16", "XDIS21", "XDIS91", "XDIS19", "XDIS17", "XDIS18", "XCTL03")}


@pytest.mark.parametrize("wrap", ["none", "vans", "sbdh"])
def test_a_real_log_replays_into_its_episode_with_admission_and_discharge(tmp_path: Path, wrap: str) -> None:
    report = _report(_log(tmp_path, _stay(), wrap))
    (episode,) = report["episodes"]
    assert episode["episode"] == EPISODE and episode["sources"] == ["oioxml"]
    assert (episode["admitted"], episode["discharged"], episode["state"]) == (
        "2025-03-24T08:40:00+01:00", "2025-03-27T13:00:00+01:00", "discharged")
    assert episode["patient"] == "250947-****"
    assert report["inputs"] == {"messages": 8, "accepted": 8, "rejected": 0, "duplicates": 0}
    # every letter asked for a receipt and only the care plan's came (M-RECEIPT, checked where the log has receipts)
    assert [v["rule"] for v in episode["violations"]] == ["M-RECEIPT"] * 6
    assert [o["rule"] for o in episode["obligations"]] == ["ACK-2"]  # the decision is free text: not guessed


def test_a_corrected_2005_letter_replaces_the_previous_one_of_its_family(tmp_path: Path) -> None:
    messages = _stay()
    fixed = dataclasses.replace(header("DA2", "2025-03-27T14:00"), status="rettetbrev")
    messages["XDIS17-fix"] = write.discharge_advice(fixed, at("2025-03-27T13:30"), "udskrevet_til_hjemmet")
    messages.pop("XDIS18")  # the report states the first discharge time too
    (episode,) = _report(_log(tmp_path, messages))["episodes"]
    assert episode["discharged"] == "2025-03-27T13:30:00+01:00"  # the corrected time, not the original's
    assert "M-REF" not in [v["rule"] for v in episode["violations"]]


def test_a_cancelled_admission_leaves_a_cancelled_episode_without_violations(tmp_path: Path) -> None:
    cancel = dataclasses.replace(header("ADV2", "2025-03-24T09:00"), status="annulleretbrev")
    messages = {"a": one_of_each()["XDIS20"], "b": write.admission_advice(cancel, at("2025-03-24T08:40"),
                                                                          HOSPITAL.ean)}
    (episode,) = _report(_log(tmp_path, messages))["episodes"]
    assert episode["state"] == "cancelled" and episode["violations"] == [] and episode["obligations"] == []


def test_a_correction_of_nothing_is_m_ref(tmp_path: Path) -> None:
    fixed = dataclasses.replace(header("DA2", "2025-03-27T14:00"), status="rettetbrev")
    messages = {"a": one_of_each()["XDIS20"],
                "b": write.discharge_advice(fixed, at("2025-03-27T13:30"), "udskrevet_til_hjemmet")}
    (episode,) = _report(_log(tmp_path, messages))["episodes"]
    assert "M-REF" in [v["rule"] for v in episode["violations"]]


def test_the_same_episode_id_for_two_patients_is_two_episodes(tmp_path: Path) -> None:
    other = dataclasses.replace(header("ADV9", "2025-03-24T10:01"), cpr="0101501234", envelope_id="ENV9")
    messages = {"a": one_of_each()["XDIS20"], "b": write.admission_advice(other, at("2025-03-24T10:00"), HOSPITAL.ean)}
    report = _report(_log(tmp_path, messages))
    assert sorted(e["episode"] for e in report["episodes"]) == [EPISODE, f"{EPISODE}~2"]
    assert sorted(e["patient"] for e in report["episodes"]) == ["010150-****", "250947-****"]


def test_episode_ids_match_whatever_their_case(tmp_path: Path) -> None:
    report_header = dataclasses.replace(header("REP1", "2025-03-24T09:10", from_municipality=True),
                                        episode_id=EPISODE.upper())
    messages = {"a": one_of_each()["XDIS20"], "b": write.admission_report(report_header)}
    (episode,) = _report(_log(tmp_path, messages))["episodes"]
    assert episode["episode"] == EPISODE and not episode["obligations"]


def test_a_receipt_naming_only_the_envelope_answers_its_letters(tmp_path: Path) -> None:
    messages = _stay()
    messages["XCTL03"] = write.receipt(
        positive=True, envelope_id="R9", letter_id="R9", sent=at("2025-03-25T11:01"), sender_ean=MUNICIPALITY.ean,
        receiver_ean=HOSPITAL.ean, original_envelope_id="ENVCP1", original_sender_ean=HOSPITAL.ean,
        original_receiver_ean=MUNICIPALITY.ean, letters=[])
    report = _report(_log(tmp_path, messages))
    (episode,) = report["episodes"]
    assert "M-REF" not in [v["rule"] for v in episode["violations"]]
    assert json.dumps(report).count("(no episode)") == 0


def _wrapped_log(tmp_path: Path, ids: dict[str, str], resend: str | None = None, wrap: str = "vans") -> Path:
    """The stay's letters each in a VANS envelope (or an SBDH) with the given EnvelopeIdentifier (InstanceIdentifier)
    by family, others their own, and `resend`'s letter once more, unchanged, in the wrapper of the same id."""
    log = tmp_path / "log"
    log.mkdir(parents=True)
    letters = _stay()
    for name, data in [*letters.items(), *([(f"{resend}-again", letters[resend])] if resend else [])]:
        family = name.split("-")[0]
        ident = ids.get(family, f"V{family}")
        (log / f"{name}.xml").write_bytes(vans_envelope(
            data, envelope_id=ident, sent="2025-01-01T00:00:00", sender_ean="1", receiver_ean="2", name="",
            version="") if wrap == "vans" else sbdh(
            data, instance_id=ident, created="2025-01-01T00:00:00", sender_gln="1", receiver_gln="2", standard="",
            type_version="", doc_type=""))
    return log


def _envelope_findings(log: Path) -> list[str]:
    report = report_dict(replay(load_log([log], REPLAY), load_policy()))
    texts = [v["text"] for e in report["episodes"] for v in e["violations"] if v["rule"] == "M-ENVELOPE"]
    return texts + [f["text"] for f in report["input_findings"] if f["rule"] == "M-ENVELOPE"]


@pytest.mark.parametrize(("wrap", "label"), [("vans", "VANS envelope"), ("sbdh", "SBDH InstanceIdentifier")])
def test_a_wrapper_id_reused_for_another_message_is_m_envelope(tmp_path: Path, wrap: str, label: str) -> None:
    """docs/RULES.md M-ENVELOPE: a VANS envelope's id and an SBDH's InstanceIdentifier too are never reused for
    another message (before: only the Emessage's envelope and the Bundle's id were compared; then the VANS id, and
    two SBDHs of one InstanceIdentifier carrying different letters replayed with no finding)."""
    texts = _envelope_findings(_wrapped_log(tmp_path, {"XDIS16": "VSAME", "XDIS21": "VSAME"}, wrap=wrap))
    assert len(texts) == 1 and texts[0].startswith(f"{label} VSAME was used before for "), texts
    long = "V" * 100_000  # quoted shortened (found by a review: each finding repeated the whole id)
    texts = _envelope_findings(_wrapped_log(tmp_path / "long", {"XDIS16": long, "XDIS21": long}, wrap=wrap))
    assert len(texts) == 1 and texts[0].startswith(f"{label} VVV") and len(texts[0]) < 1000, texts


@pytest.mark.parametrize("wrap", ["vans", "sbdh"])
def test_a_letter_sent_again_in_a_wrapper_of_the_same_id_is_no_m_envelope(tmp_path: Path, wrap: str) -> None:
    assert _envelope_findings(_wrapped_log(tmp_path, {}, resend="XDIS21", wrap=wrap)) == []
    assert _envelope_findings(_wrapped_log(tmp_path / "distinct", {}, wrap=wrap)) == []
