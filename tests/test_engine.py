"""The engine's clock: one delivery path for a log and for the simulation, deadlines after every arrival at
their instant, and the SimPy events it processed counted (the simulation benchmark's denominator)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.engine.engine import Context, Engine, Episode, Obligation, Rule
from medcom.engine.rules.facts import latest_ready
from medcom.events import Event
from medcom.policy import load_policy

POLICY = load_policy()
T0 = datetime(2025, 9, 1, 8, tzinfo=UTC)


class ExpectReport(Rule):
    """A report at the latest ten minutes after an advice; what the check saw, in order."""

    id = "TEST"
    kinds = frozenset({"admission_advice_sent"})

    def __init__(self) -> None:
        self.log: list[str] = []

    def on_event(self, ctx: Context, event: Event) -> None:
        self.log.append(f"{event.episode} advice")
        ctx.expect(self.id, "info", event.at + timedelta(minutes=10), "no report",
                   kinds=("admission_report_sent",))
        ctx.at(event.at + timedelta(minutes=10), lambda: self.log.append(f"{event.episode} check"))


def run(events: list[tuple[str, str, int]]) -> tuple[dict[str, list[str]], list[str], Engine]:
    """Replay (episode, kind, minutes after T0) through the rule: the violations by episode, the rule's log and
    the engine."""
    rule = ExpectReport()
    engine = Engine(POLICY, [rule], log_has_phone_calls=False, log_has_receipts=False)
    seq = iter(range(1, 1000))
    episodes = engine.run([Event(T0 + timedelta(minutes=m), name, kind, {}, next(seq)) for name, kind, m in events])
    return {name: [v.rule for v in ep.violations] for name, ep in episodes.items()}, rule.log, engine


def test_a_message_at_the_deadline_is_in_time_whoever_else_arrives_then() -> None:
    violations, log, _ = run([("A", "admission_advice_sent", 0), ("B", "admission_advice_sent", 10),
                              ("A", "admission_report_sent", 10), ("C", "admission_advice_sent", 10)])
    assert violations == {"A": [], "B": ["TEST"], "C": ["TEST"]}
    # A's check at minute 10 runs after all three arrivals of minute 10, however they are spread over episodes
    assert log == ["A advice", "B advice", "C advice", "A check", "B check", "C check"]


def test_a_message_a_second_late_is_late() -> None:
    violations, _, _ = run([("A", "admission_advice_sent", 0), ("A", "admission_report_sent", 11)])
    assert violations == {"A": ["TEST"]}


def test_processed_events_counts_what_the_clock_ran() -> None:
    """One delivery path: the feeding process (its start, a wait for each later instant, its end) and the
    deadlines, one event for the checks due at one instant; no process or store per episode."""
    _, _, engine = run([("A", "admission_advice_sent", 0), ("A", "admission_report_sent", 5),
                        ("B", "admission_advice_sent", 10)])
    feeding = 1 + 2 + 1  # start, waits until minutes 5 and 10, end
    deadlines = 1 + 1  # A's expectation and check at minute 10 (one instant, one event), B's at minute 20
    assert engine.processed_events == feeding + deadlines


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=8), st.randoms(use_true_random=False))
def test_the_episode_keeps_its_latest_ready_time_as_events_join(readies, random) -> None:
    """`Episode.ready` is the latest ready time by (at, seq), the first of equals, in whatever order the
    ready times join (a late fact may reveal an earlier one): what `max` over them all gives."""
    events = [Event(T0 + timedelta(hours=h), "E", "ready_for_discharge", {}, seq) for h, seq in readies]
    random.shuffle(events)
    episode = Episode("E")
    for event in events:
        episode.add(event)
        episode.add(Event(T0, "E", "admitted", {}, 0))
        assert episode.ready is max(episode.of("ready_for_discharge"), key=lambda e: (e.at, e.seq))
    assert latest_ready(episode) is (episode.ready if events else None)


def test_an_obligation_written_when_read_is_the_obligation_with_that_text() -> None:
    """A rule may give an obligation's text as a function (the simulation never reads it): read, compared,
    shown and pickled, it is the obligation with the text written."""
    calls: list[int] = []

    def write() -> str:
        calls.append(1)
        return "phone the municipality"

    lazy = Obligation("DIS-2", write)
    assert calls == []
    assert lazy == Obligation("DIS-2", "phone the municipality")
    assert lazy.as_dict() == {"rule": "DIS-2", "text": "phone the municipality"}
    assert pickle.loads(pickle.dumps(Obligation("DIS-2", lambda: "by lambda"))).text == "by lambda"
    assert "phone the municipality" in repr(lazy) and calls == [1]


def test_advance_runs_the_queue_as_simpy_does_and_stops_on_a_failure_nobody_defused() -> None:
    """`advance` steps a plain Environment's queue itself: the same order and clock as SimPy's own run, every
    event counted, and a failed event that nobody defused ends the run with its exception, as `step` does."""
    def plan(env: simpy.Environment, seen: list[tuple[float, int]]) -> None:
        for i, delay in enumerate([3, 1, 2, 1, 0]):
            env.timeout(delay, value=i).callbacks.append(lambda e: seen.append((e.env.now, e.value)))

    engine, theirs = Engine(POLICY, []), simpy.Environment()
    ours_seen: list[tuple[float, int]] = []
    their_seen: list[tuple[float, int]] = []
    plan(engine.env, ours_seen)
    plan(theirs, their_seen)
    engine.advance()
    theirs.run()
    assert ours_seen == their_seen and engine.env.now == theirs.now == 3 and engine.processed_events == 5

    defused = engine.env.event()
    defused.fail(KeyError("handled"))
    defused.defused = True
    engine.env.event().fail(ValueError("nobody handled it"))
    with pytest.raises(ValueError, match="nobody handled it"):
        engine.advance()
    assert engine.processed_events == 7


def test_an_episode_not_judged_keeps_its_events_but_no_rule_runs_on_it() -> None:
    """`open_episode(judged=False)` (the simulation's warm-up and cool-down, whose findings nobody reads): its
    events join it and its patient is known to other episodes' rules, but no hook, expectation or check runs."""
    rule = ExpectReport()
    engine = Engine(POLICY, [rule], origin=T0)
    engine.open_episode("quiet", judged=False)
    for name in ("quiet", "judged"):
        engine.deliver(Event(T0, name, "admitted", {"cpr": "010150-1234"}, 1))
        engine.deliver(Event(T0, name, "admission_advice_sent", {"id": f"{name}-ADV"}, 2))
    engine.advance()
    assert rule.log == ["judged advice", "judged check"]
    quiet, judged = engine.close_episode("quiet"), engine.close_episode("judged")
    assert [e.kind for e in quiet.events] == ["admitted", "admission_advice_sent"] and quiet.by_id["quiet-ADV"]
    assert not quiet.violations and [v.rule for v in judged.violations] == ["TEST"]
    assert engine.patients["0101501234"] == ["quiet", "judged"]
    engine.forget("quiet")
    assert engine.patients["0101501234"] == ["judged"] and "quiet" not in engine.episodes
