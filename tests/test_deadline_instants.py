"""Checks due at one instant share one SimPy event (`engine.Deadline`): the same checks run, at the same clock
readings and in the same order as with one SimPy event a check (the way before), between the same arrivals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.engine.engine import CHECK_PRIORITY, Context, Engine, Rule
from medcom.engine.rules import all_rules
from medcom.events import Event
from medcom.policy import load_policy

POLICY = load_policy()
T0 = datetime(2025, 3, 24, 7, 0, tzinfo=UTC)


class OneEventACheck(Engine):
    """The engine as it scheduled before: a SimPy event of its own for every check."""

    def schedule(self, when: datetime, callback: Callable[[], None]) -> None:
        delay = max(0.0, (when.astimezone(UTC) - self.origin).total_seconds() - self.env.now)  # type: ignore[operator]
        event = simpy.Event(self.env)
        event.callbacks.append(lambda _: callback())
        event._ok, event._value = True, None
        self.env.schedule(event, CHECK_PRIORITY, delay)


# A plan for one arriving event: checks at these offsets in seconds from it (negative: passed, run at once),
# each of which may schedule one more check at this offset from its own instant (0: the same instant).
PLANS = st.lists(st.tuples(st.sampled_from([-60.0, 0.0, 0.5, 30.0, 30.0, 60.0, 600.0]),
                           st.none() | st.sampled_from([0.0, 0.0, 30.0])), max_size=3)


class Probe(Rule):
    """Schedules the drawn checks for every event and logs (clock, what) as things run."""

    id = "PROBE"
    kinds = None

    def __init__(self, plans: dict[int, list[tuple[float, float | None]]]) -> None:
        self.plans, self.log = plans, []

    def on_event(self, ctx: Context, event: Event) -> None:
        env = ctx.engine.env
        self.log.append((env.now, f"arrive {event.seq}"))
        for n, (offset, then) in enumerate(self.plans.get(event.seq, [])):
            name = f"check {event.seq}.{n}"

            def check(name: str = name, then: float | None = then) -> None:
                self.log.append((env.now, name))
                if then is not None:
                    ctx.at(ctx.now + timedelta(seconds=then), lambda: self.log.append((env.now, name + " then")))

            if n % 2:  # half of them inside a revision, as the rules of a revisable fact schedule theirs
                with ctx.revision(f"R{event.seq}"):
                    ctx.at(event.at + timedelta(seconds=offset), check)
            else:
                ctx.at(event.at + timedelta(seconds=offset), check)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from([0.0, 0.5, 30.0, 60.0, 90.0, 630.0]),
                          PLANS), min_size=1, max_size=10))
def test_checks_run_as_one_event_a_check_would_run_them(drawn: list[tuple[str, float, list]]) -> None:
    logs = []
    for engine_type in (Engine, OneEventACheck):
        probe = Probe({seq: plan for seq, (_, _, plan) in enumerate(drawn)})
        engine = engine_type(POLICY, [probe], origin=T0)
        engine.run([Event(T0 + timedelta(seconds=s), name, "phone_call", {}, seq)
                    for seq, (name, s, _) in enumerate(drawn)])
        logs.append(probe.log)
    assert logs[0] == logs[1]


EPISODE_KINDS = ["admitted", "admission_advice_sent", "admission_report_sent", "care_plan_sent", "care_plan_ack_sent",
                 "ready_for_discharge", "discharged", "discharge_advice_sent", "discharge_report_sent",
                 "completion_notice_sent", "correspondence_sent", "phone_call"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(EPISODE_KINDS),
                          st.integers(0, 5 * 24 * 4).map(lambda q: q * 900.0)), min_size=1, max_size=14))
def test_every_rule_reports_the_same_as_with_one_event_a_check(drawn: list[tuple[str, str, float]]) -> None:
    """Episodes whose deadlines fall on shared instants (end of day, cutoffs, quarter hours): the same report."""
    reports = []
    for engine_type in (Engine, OneEventACheck):
        events = [Event(T0 + timedelta(seconds=s), name, kind,
                        {"id": f"{name}{seq}", "decision": "accept", "discharge_at": T0 + timedelta(days=3),
                         "sender": "municipality" if seq % 2 else "hospital", "cpr": "2509479989"}, seq)
                  for seq, (name, kind, s) in enumerate(drawn)]
        episodes = engine_type(POLICY, all_rules()).run(events)
        reports.append({name: ([v.as_dict() for v in ep.violations], [o.as_dict() for o in ep.obligations],
                               ep.tax) for name, ep in episodes.items()})
    assert reports[0] == reports[1]
