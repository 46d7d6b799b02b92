"""What RULES.md says since the README and it were made to agree (docs/RULES.md), checked against replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.cli import invoke, no_traceback
from helpers.timelines import clean_episode, episode, replace, replay_lines, without

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _died(lines: list[dict], at: str) -> list[dict]:
    """The episode ends in a death at `at` instead of a discharge (HospitalNotification MORS, XDIS17 `doed`)."""
    kept = without(lines, "discharged", "discharge_report_sent")
    return [*replace(kept, "discharge_advice_sent", at=at[:-2] + "05"),
            {"at": at, "episode": "E", "event": "deceased"}]


def test_a_death_ends_the_completion_tax_count() -> None:
    # Ready Thursday 10:00, died Saturday 09:00: the midnights before Friday and Saturday are counted (TAX-1).
    report = replay_lines(_died(clean_episode(ready="2025-03-27T10:00"), "2025-03-29T09:00"))
    ep = episode(report)
    assert ep["state"] == "deceased"
    assert ep["completion_tax_days"] == 2
    assert ep["completion_tax"]["counted_dates"] == ["2025-03-28", "2025-03-29"]
    assert ep["extended_responsibility"]["applies"] is False  # no 72-hour window follows a death


def test_a_death_after_the_discharge_does_not_lengthen_the_count() -> None:
    lines = [*clean_episode(ready="2025-03-27T10:00", discharged="2025-03-28T13:00"),
             {"at": "2025-03-31T09:00", "episode": "E", "event": "deceased"}]
    assert episode(replay_lines(lines))["completion_tax_days"] == 1


def test_the_report_says_when_m_receipt_was_not_checked() -> None:
    without_receipts = replay_lines(clean_episode())
    assert without_receipts["summary"]["not_checked"] == {"M-RECEIPT": "not checked: the log holds no receipts"}
    with_receipts = replay_lines([*clean_episode(), {"at": "2025-03-24T08:45", "episode": "E", "event": "receipt_sent",
                                                     "ref": "E-ADV", "positive": True}])
    assert with_receipts["summary"]["not_checked"] == {}
    assert "M-RECEIPT" in [v["rule"] for v in episode(with_receipts)["violations"]]  # the others have none


def test_a_duplicate_gets_the_same_receipt_as_the_first(tmp_path: Path) -> None:
    """M-DUP: the same message received twice (here in two folders) is answered twice with one receipt: the same
    XCTL receipt, the same Acknowledgement (its Bundle and MessageHeader ids), so the sender sees one answer."""
    for copy in ("first", "again"):
        (tmp_path / "in" / copy).mkdir(parents=True)
        for name in ("E1-0004-admission_report_sent.xml", "E1-0002-admission_advice_sent.json"):
            shutil.copy(EXAMPLES / "log" / name, tmp_path / "in" / copy / name)
    run = no_traceback(invoke("validate", tmp_path / "in", "--receipts", tmp_path / "out"))
    assert run.exit_code == 0, run.stderr
    xml = sorted((tmp_path / "out").glob("*.xml"))
    assert len(xml) == 2 and xml[0].read_bytes() == xml[1].read_bytes()
    acks = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((tmp_path / "out").glob("*.ack*.json"))]
    assert len(acks) == 2
    headers = [next(e["resource"] for e in a["entry"] if e["resource"]["resourceType"] == "MessageHeader")
               for a in acks]
    assert acks[0]["id"] == acks[1]["id"] and headers[0]["id"] == headers[1]["id"]
    assert headers[0]["response"] == headers[1]["response"]
