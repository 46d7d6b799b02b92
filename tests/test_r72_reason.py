"""R72-1: why the 72-hour responsibility does not apply, one reason per failed condition, in the replay results
(JSON and HTML read the same field)."""

from __future__ import annotations

from helpers.timelines import clean_episode, episode, replace, replay_lines, without


def reason(lines: list[dict]) -> str | None:
    return episode(replay_lines(lines))["extended_responsibility"]["reason"]


def test_each_condition_gives_its_reason() -> None:
    base = clean_episode()
    assert reason(base) is None
    assert reason(clean_episode(destination="home")) == "destination not covered: home"
    assert reason(replace(base, "admitted", somatic=False)) == "not somatic"
    assert reason(without(base, "ready_for_discharge")) == "not ready for discharge (an unplanned discharge)"
    short = replace(clean_episode(admitted="2025-03-26T13:00", plan="2025-03-26T13:30"), "admitted",
                    at="2025-03-26T13:00:01")
    assert reason(short) == "stay under 24 h"
    assert reason(without(base, "discharged", "discharge_advice_sent", "discharge_report_sent")) == "not discharged"
