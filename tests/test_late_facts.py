"""The same facts give the same report whenever the engine learns them: a ready time learnt late (from a later
message) is checked against the times recorded, and a revised ready time supersedes the deadlines computed
from the earlier one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from helpers.timelines import clean_episode, replace

from medcom.calendar import parse_instant
from medcom.engine.engine import Engine, Episode
from medcom.engine.rules import all_rules
from medcom.events import Event
from medcom.events.timeline import parse_line
from medcom.policy import load_policy

POLICY = load_policy()


def events(lines: list[dict]) -> list[Event]:
    out = []
    for n, line in enumerate(lines, start=1):
        event = parse_line(json.dumps(line), "test.jsonl", n, n).event
        assert event is not None
        event.at = event.at.astimezone(UTC)
        out.append(event)
    return out


def outcome(episode: Episode) -> list[tuple[str, datetime | None, datetime | None]]:
    return sorted((v.rule, v.due, v.actual) for v in episode.violations)


def in_time_order(lines: list[dict]) -> list[tuple[str, datetime | None, datetime | None]]:
    return outcome(Engine(POLICY, all_rules()).run(events(lines))["E"])


def learnt_late(lines: list[dict], late: dict[int, str]) -> list[tuple[str, datetime | None, datetime | None]]:
    """Deliver every event at its own time, except line i, which the engine learns only at `late[i]`."""
    known = [(parse_instant(late[i])[0].astimezone(UTC) if i in late else e.at, i, e)
             for i, e in enumerate(events(lines))]
    engine = Engine(POLICY, all_rules(), origin=min(at for at, _, _ in known))

    def feed():
        for at, _, event in sorted(known, key=lambda k: (k[0], k[1])):
            yield engine.env.timeout(max(0.0, engine.clock(at) - engine.env.now))
            engine.deliver(event)

    engine.env.process(feed())
    engine.env.run()
    return outcome(engine.close_episode("E"))


def index(lines: list[dict], event: str, at: str | None = None) -> int:
    return next(i for i, line in enumerate(lines) if line["event"] == event and (at is None or line["at"] == at))


LATE_PLAN = clean_episode(plan="2025-03-26T15:00", ready="2025-03-27T10:00", discharged="2025-03-28T11:00")
REVISED = clean_episode(plan="2025-03-25T11:00", ready="2025-03-27T10:00", discharged="2025-03-28T11:00") + [
    {"at": "2025-03-24T10:00", "episode": "E", "event": "ready_for_discharge"}]
AGREED_LATER = replace(REVISED, "care_plan_ack_sent", discharge_at="2025-03-28T11:00")


@pytest.mark.parametrize(("lines", "event", "at", "learnt"), [
    (LATE_PLAN, "ready_for_discharge", None, "2025-03-28T11:30"),  # from the discharge report, after the discharge
    (REVISED, "ready_for_discharge", "2025-03-27T10:00", "2025-03-28T11:30"),  # the revision, learnt late
    (AGREED_LATER, "ready_for_discharge", "2025-03-27T10:00", "2025-03-28T09:00"),  # FM-1 from the revised day
])
def test_a_ready_time_learnt_late_gives_the_same_report(lines: list[dict], event: str, at: str | None,
                                                        learnt: str) -> None:
    expected = in_time_order(lines)
    assert learnt_late(lines, {index(lines, event, at): learnt}) == expected


def test_the_revision_withdraws_what_the_earlier_ready_time_reported() -> None:
    # Ready Monday 24 (CP-1 due Friday 21 14:00, missed by the plan of Tuesday 25), revised to Thursday 27
    # (due Wednesday 26 14:00, met): no CP-1, and so no CP-2, whenever the revision is learnt.
    assert not any(rule in ("CP-1", "CP-2") for rule, _, _ in in_time_order(REVISED))
    assert [r for r, _, _ in in_time_order(AGREED_LATER)].count("FM-1") == 1  # no notice for Thursday's end
