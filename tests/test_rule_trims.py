"""The closing rules trimmed for the simulation's speed (R72-1/DIS-3 compared in UTC, TAX-1's end of the stay
without a list and a `min`) report exactly what they reported before (tests/helpers/rules_before.py), on
generated episodes around a discharge: deaths at, before and after it, reports stating the 72-hour end exactly,
a second off or in another zone, extensions, inquiries after the discharge, across both changes of summer time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers.rules_before import CompletionTaxBefore, ExtendedResponsibilityBefore
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.calendar import TZ
from medcom.engine.engine import Engine, Episode, Rule
from medcom.engine.rules import all_rules
from medcom.engine.rules.responsibility import ExtendedResponsibility
from medcom.engine.rules.tax import CompletionTax
from medcom.events import Event
from medcom.policy import load_policy

POLICY = load_policy()
STARTS = (datetime(2025, 3, 26, 9, tzinfo=UTC), datetime(2025, 10, 22, 9, tzinfo=UTC))  # before the DST changes
HOUR = 3600


@st.composite
def episodes(draw: st.DrawFn) -> list[Event]:
    t0 = draw(st.sampled_from(STARTS))
    stay = draw(st.integers(0, 8 * 24 * 4)) * 900  # discharge 0-8 days after the admission, quarter hours

    def at(seconds: int) -> datetime:
        return (t0 + timedelta(seconds=seconds)).astimezone(draw(st.sampled_from([UTC, TZ])))

    events = [(0, "admitted", {"cpr": "0101501234", "somatic": draw(st.booleans())})]
    for _ in range(draw(st.integers(0, 2))):
        events.append((draw(st.integers(0, stay + 2 * HOUR)), "ready_for_discharge", {}))
    if draw(st.booleans()):
        events.append((stay, "discharged", {"destination": draw(st.sampled_from(["home", "nursing_home", "other"]))}))
    if draw(st.booleans()):  # a death at, before or after the discharge
        events.append((stay + draw(st.sampled_from([0, 0, -HOUR, HOUR])), "deceased", {}))
    if draw(st.booleans()):
        events.append((0, "care_plan_sent", {"id": "CP"}))
    if draw(st.booleans()):
        off = draw(st.none() | st.sampled_from([0, 0, 1, -1, HOUR]))  # the 72-hour end exactly, or not
        stated = None if off is None else at(stay + 72 * HOUR + off)
        events.append((stay + 900, "discharge_report_sent", {"id": "DR", "extended_responsibility_until": stated}))
    if draw(st.booleans()):
        events.append((stay, "responsibility_extended", {"until": at(stay + draw(st.integers(0, 120)) * HOUR)}))
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["phone_call", "correspondence_sent"]))
        who = "caller" if kind == "phone_call" else "sender"
        events.append((stay + draw(st.integers(-2, 100)) * HOUR, kind,
                       {who: draw(st.sampled_from(["municipality", "hospital"]))}))
    order = draw(st.permutations(range(len(events))))  # the seq order, which breaks ties in time
    return [Event(at(seconds), "E1", kind, data, seq=order[i] + 1)
            for i, (seconds, kind, data) in enumerate(events)]


def _rules(before: bool) -> list[Rule]:
    swap: dict[type[Rule], Rule] = {ExtendedResponsibility: ExtendedResponsibilityBefore(),
                                    CompletionTax: CompletionTaxBefore()}
    return [swap.get(type(r), r) if before else r for r in all_rules()]


def _outcome(episodes: dict[str, Episode]) -> dict[str, object]:
    return {name: ([v.as_dict() for v in ep.violations], [o.as_dict() for o in ep.obligations], ep.tax,
                   ep.responsibility_until, ep.responsibility_reason, ep.inquiries)
            for name, ep in episodes.items()}


@settings(max_examples=300, deadline=None)
@given(episodes())
def test_trimmed_closing_rules_report_what_they_reported_before(events: list[Event]) -> None:
    def run(before: bool) -> dict[str, object]:
        copies = [Event(e.at, e.episode, e.kind, dict(e.data), e.seq) for e in events]
        return _outcome(Engine(POLICY, _rules(before)).run(copies))

    assert run(before=False) == run(before=True)
