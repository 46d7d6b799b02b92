"""What RULES.md says since the README and it were made to agree (docs/RULES.md), checked against replay."""

from __future__ import annotations

from replay_helpers import clean_episode, episode, replace, replay_lines, without


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
