"""Dispatch by event kind on random timelines: the engine hands each rule only the events of the kinds it
declares (a table from kind to rules); offering every rule every event instead must change nothing that any
episode reports. A rule that acts on a kind it forgot to declare would make the two differ."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpers.rules import Offered
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medcom.engine.rules
from medcom.engine.engine import Engine, Episode
from medcom.engine.rules import all_rules
from medcom.events import EVENT_KINDS, Event
from medcom.policy import load_policy

POLICY = load_policy()
T0 = datetime(2025, 3, 24, 6, tzinfo=UTC)  # a Monday, the week before the spring DST change and Easter 2025
IDS = ("A1", "A2", "A3", "A4")


_values = {
    "id": st.sampled_from(IDS), "ref": st.sampled_from(IDS), "reply_to": st.sampled_from(IDS),
    "correction_of": st.sampled_from(IDS), "decision": st.sampled_from(["accept", "reject", "maybe"]),
    "sender": st.sampled_from(["hospital", "municipality"]), "caller": st.sampled_from(["hospital", "municipality"]),
    "reason": st.just("full"), "discharge_at": st.integers(0, 12 * 24).map(lambda h: T0 + timedelta(hours=h)),
    "agreed_discharge_at": st.integers(0, 12 * 24).map(lambda h: T0 + timedelta(hours=h)),
    "extended_responsibility_until": st.integers(0, 15 * 24).map(lambda h: T0 + timedelta(hours=h)),
    "until": st.integers(0, 15 * 24).map(lambda h: T0 + timedelta(hours=h)),
    "special_coordination": st.sampled_from([None, "discharge_conference"]),
    "revised_after_conference": st.booleans(), "wishes_to_stay": st.booleans(), "unplanned": st.booleans(),
    "planned": st.booleans(), "somatic": st.booleans(),
    "destination": st.sampled_from(["home", "home_nursing", "nursing_home", "hospice", "other"]),
    "notification": st.sampled_from(["STOR", "SLOR"]), "cpr": st.sampled_from(["0101501234", "0202602345"]),
}


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[int, str, str, dict[str, object], bool]]:
    """Up to 25 events of any kind in two episodes over twelve days, with the data keys the rules read."""
    out = []
    for _ in range(draw(st.integers(1, 25))):
        keys = draw(st.lists(st.sampled_from(sorted(_values)), max_size=4, unique=True))
        data = {k: draw(_values[k]) for k in keys}
        out.append((draw(st.integers(0, 12 * 24 * 4)) * 15, draw(st.sampled_from(["E1", "E2"])),
                    draw(st.sampled_from(sorted(EVENT_KINDS))), data, draw(st.booleans())))
    return out


def _events(timeline: list[tuple[int, str, str, dict[str, object], bool]]) -> list[Event]:
    return [Event(T0 + timedelta(minutes=minute), episode, kind, dict(data), seq, receipt_requested=receipt)
            for seq, (minute, episode, kind, data, receipt) in enumerate(timeline, 1)]


def _outcome(episodes: dict[str, Episode]) -> dict[str, object]:
    return {name: ([v.as_dict() for v in ep.violations], [o.as_dict() for o in ep.obligations], ep.tax,
                   ep.responsibility_until, ep.responsibility_reason, ep.inquiries, ep.acks_due_same_day)
            for name, ep in episodes.items()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines(), st.booleans(), st.booleans())
def test_dispatch_by_kind_equals_offering_every_rule_every_event(timeline, phone_calls: bool, receipts: bool) -> None:
    by_kind = Engine(POLICY, all_rules(), log_has_phone_calls=phone_calls, log_has_receipts=receipts)
    broadcast = Engine(POLICY, [Offered(r) for r in all_rules()], log_has_phone_calls=phone_calls,
                       log_has_receipts=receipts)
    assert _outcome(by_kind.run(_events(timeline))) == _outcome(broadcast.run(_events(timeline)))



def _kinds_compared(function: ast.FunctionDef) -> set[str]:
    """The kind names an `on_event` compares `event.kind` with (==, !=, in, not in)."""
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "kind" \
                and isinstance(node.left.value, ast.Name) and node.left.value.id == "event":
            for right in node.comparators:
                found |= {c.value for c in ast.walk(right) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_kind_a_rule_looks_for_is_declared() -> None:
    """A rule's `on_event` that branches on a kind it does not declare would never see that kind: the table
    would hide it. Every such branch names a declared kind."""
    rules = {type(r).__name__: r for r in all_rules()}
    checked = 0
    for path in sorted(Path(medcom.engine.rules.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name not in rules:
                continue
            for function in node.body:
                if isinstance(function, ast.FunctionDef) and function.name == "on_event":
                    declared = rules[node.name].kinds
                    compared = _kinds_compared(function)
                    assert declared is None or compared <= declared, (node.name, compared - declared)
                    checked += len(compared)
    assert checked >= 3  # DIS-1, DIS-2 and M-NOTIFY branch on the kind


def test_receipt_rules_join_the_table_when_the_log_turns_out_to_hold_receipts() -> None:
    """Rules that need receipts are left out of the table while the log holds none; a flag set later (the
    counterpart learns it mid-run) rebuilds the table, so a message that asks for a receipt is judged again."""
    engine = Engine(POLICY, all_rules(), log_has_phone_calls=True, log_has_receipts=False)
    engine.origin = T0
    engine.deliver(Event(T0, "E1", "care_plan_sent", {"id": "A1"}, 1, receipt_requested=True))
    engine.log_has_receipts = True
    engine.deliver(Event(T0, "E1", "care_plan_sent", {"id": "A2"}, 2, receipt_requested=True))
    engine.advance()
    engine.close_episode("E1")
    assert [v.statement for v in engine.episodes["E1"].violations if v.rule == "M-RECEIPT"] == \
        ["no receipt for care_plan_sent A2"]
