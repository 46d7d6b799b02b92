"""Worked examples, computed by hand (issue: replay engine)."""

from helpers.timelines import clean_episode, episode, obligations, replace, replay_lines, rules, without


def test_clean_episode() -> None:
    report = replay_lines(clean_episode())
    e = episode(report)
    assert e["violations"] == [] and e["obligations"] == []
    assert (e["completion_tax_days"], e["completion_tax_dkk"], e["disputable_days"]) == (0, 0, 0)
    # Discharged Thu 27 March 13:00 CET; 72 h later crosses the change to summer time: Sun 30 March 14:00 CEST.
    assert e["extended_responsibility"] == {"applies": True, "until": "2025-03-30T14:00:00+02:00", "reason": None}
    assert report["inputs"] == {"messages": 6, "accepted": 6, "rejected": 0, "duplicates": 0}
    assert report["events"] == {"lines": 3, "accepted": 3, "rejected": 0}


def test_late_care_plan_with_the_phone_call() -> None:
    lines = clean_episode(plan="2025-03-26T15:00") + [
        {"at": "2025-03-26T15:10", "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "CP-2"}]
    report = replay_lines(replace(lines, "care_plan_ack_sent", at="2025-03-26T16:00"))
    cp1 = [v for v in episode(report)["violations"] if v["rule"] == "CP-1"]
    assert len(cp1) == 1
    assert cp1[0]["due"] == "2025-03-26T14:00:00+01:00" and cp1[0]["actual"] == "2025-03-26T15:00:00+01:00"
    assert "CP-2" not in rules(report)


def test_late_care_plan_without_the_phone_call() -> None:
    lines = clean_episode(plan="2025-03-26T15:00") + [
        {"at": "2025-03-20T10:00", "episode": "X", "event": "phone_call", "caller": "hospital", "topic": "other"}]
    report = replay_lines(lines)
    assert "CP-2" in rules(report)
    # The same without any phone call in the log: an open obligation instead.
    assert "CP-2" in obligations(replay_lines(clean_episode(plan="2025-03-26T15:00")))


def test_monday_ready_day_deadline_is_the_friday() -> None:
    def cp1(plan: str) -> list[str]:
        lines = clean_episode(plan=plan, ready="2025-03-31T09:00", discharged="2025-03-31T12:00")
        return [r for r in rules(replay_lines(lines)) if r == "CP-1"]

    assert cp1("2025-03-28T13:59:59") == []
    assert cp1("2025-03-28T14:00:00") == []  # "at the latest 14:00" includes 14:00:00
    assert cp1("2025-03-28T14:00:01") == ["CP-1"]
    assert cp1("2025-03-29T09:00:00") == ["CP-1"]  # Saturday


def test_easter_2025() -> None:
    lines = clean_episode(admitted="2025-04-14T19:20", plan="2025-04-16T15:30", ready="2025-04-22T09:00",
                          discharged="2025-04-23T11:05")
    report = replay_lines(lines)
    (cp1,) = [v for v in episode(report)["violations"] if v["rule"] == "CP-1"]
    assert cp1["due"] == "2025-04-16T14:00:00+02:00"  # Wednesday: Thursday to Monday are closed
    e = episode(report)
    # Ready Tue 22 April 09:00, but the first hospital contact came before; discharged Wed 23 April: 1 day.
    assert e["completion_tax_days"] == 1 and e["completion_tax_dkk"] == 3952


def test_store_bededag_2023_vs_2024() -> None:
    def due(ready: str, discharged: str) -> str:
        lines = clean_episode(admitted=ready[:8] + "01T08:40", plan=ready[:8] + "02T09:00",
                              ready=ready, discharged=discharged)
        lines = replace(lines, "care_plan_sent", at=ready[:10] + "T08:00")  # late on purpose: we want the due time
        return next(v["due"] for v in episode(replay_lines(lines))["violations"] if v["rule"] == "CP-1")

    assert due("2023-05-08T10:00", "2023-05-08T15:00") == "2023-05-04T14:00:00+02:00"  # Friday 5 May was a holiday
    assert due("2024-04-29T10:00", "2024-04-29T15:00") == "2024-04-26T14:00:00+02:00"  # abolished from 2024


def test_72_hour_window_across_dst() -> None:
    lines = clean_episode(admitted="2025-03-26T08:00", plan="2025-03-27T09:00", ready="2025-03-29T08:00",
                          discharged="2025-03-29T10:00")
    lines = replace(lines, "discharge_report_sent", extended_responsibility_until="2025-04-01T11:00:00+02:00")
    e = episode(replay_lines(lines))
    assert e["extended_responsibility"] == {"applies": True, "until": "2025-04-01T11:00:00+02:00", "reason": None}
    assert "DIS-3" not in [v["rule"] for v in e["violations"]]
    # Stating the wall-clock answer (10:00) is a DIS-3 violation.
    wrong = replace(lines, "discharge_report_sent", extended_responsibility_until="2025-04-01T10:00:00+02:00")
    assert "DIS-3" in rules(replay_lines(wrong))


def test_ready_at_22_moves_to_the_next_morning() -> None:
    lines = clean_episode(ready="2025-03-24T22:00", discharged="2025-03-26T10:00", plan="2025-03-24T11:00")
    e = episode(replay_lines(lines))
    assert e["completion_tax"]["start"] == "2025-03-25T08:00:00+01:00"
    assert e["completion_tax_days"] == 1  # Wed 00:00 only; from 22:00 Monday it would have been 2


def test_discharge_conference_moves_the_tax_start() -> None:
    lines = clean_episode(ready="2025-03-24T10:00", discharged="2025-03-28T11:00", plan="2025-03-21T11:00")
    assert episode(replay_lines(lines))["completion_tax_days"] == 4
    lines.append({"at": "2025-03-26T09:00", "episode": "E", "event": "conference_ready"})
    e = episode(replay_lines(lines))
    assert e["completion_tax_days"] == 2  # Thu 00:00 and Fri 00:00
    assert e["completion_tax_dkk"] == 2 * 3952


def test_terminal_patient() -> None:
    lines = clean_episode(ready="2025-03-24T10:00", discharged="2025-03-27T11:00", plan="2025-03-21T11:00",
                          destination="home")
    lines.append({"at": "2025-03-25T12:00", "episode": "E", "event": "terminal", "wishes_to_stay": True})
    report = replay_lines(lines)
    assert episode(report)["completion_tax_days"] == 1  # Tue 00:00; from Tuesday noon the days are not counted
    assert "TERM-1" not in rules(report)
    late = replace(lines, "terminal", at="2025-03-27T12:00")
    assert "TERM-1" in rules(replay_lines(late))


def test_correspondence_reply_one_weekday_late() -> None:
    base = clean_episode()

    def cor1(sent: str, reply: str) -> list[str]:
        lines = base + [
            {"at": sent, "episode": "E", "event": "correspondence_sent", "id": "Q", "sender": "hospital",
             "subject": "Hjælpemidler"},
            {"at": reply, "episode": "E", "event": "correspondence_sent", "id": "A", "sender": "municipality",
             "reply_to": "Q", "subject": "Sv: Hjælpemidler"}]
        return [r for r in rules(replay_lines(lines)) if r == "COR-1"]

    assert cor1("2025-03-26T10:00", "2025-03-26T23:59:59") == []
    assert cor1("2025-03-26T10:00", "2025-03-27T10:00") == ["COR-1"]  # one weekday late
    assert cor1("2025-03-26T14:00", "2025-03-27T10:00") == []  # at 14:00: by the end of the next weekday


def test_tiered_rates_and_disputable_days() -> None:
    # Ready Mon 24 March 10:00, no care plan before it, discharged Fri 28 March 11:00: 4 days, 2 x 3952 + 2 x 5928.
    lines = without(clean_episode(ready="2025-03-24T10:00", discharged="2025-03-28T11:00"), "care_plan_sent",
                    "care_plan_ack_sent")
    lines.append({"at": "2025-03-24T10:30", "episode": "E", "event": "phone_call", "caller": "hospital",
                  "topic": "ready"})
    e = episode(replay_lines(lines))
    assert e["completion_tax_days"] == 4
    assert e["completion_tax_dkk"] == 2 * 3952 + 2 * 5928
    assert e["disputable_days"] == 4 and "care plan" in e["completion_tax"]["disputable_reason"]
