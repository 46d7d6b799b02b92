"""Replay message logs and timelines through the agreement's rules: inputs -> events -> engine -> results.

`load_log` reads (medcom.replay.load), `prepare` applies the input rules (medcom.replay.input_rules), and the
engine runs every rule of RULES.md over the events, the same engine the simulation drives.
"""

from __future__ import annotations

from dataclasses import dataclass

from medcom.engine.engine import Engine, Episode, Rule, Violation
from medcom.engine.rules import all_rules
from medcom.gc_tuning import batch_gc
from medcom.policy import Policy
from medcom.replay.input_rules import prepare
from medcom.replay.load import ReplayInput, is_timeline, load_log, load_timeline

__all__ = ["ReplayInput", "ReplayResult", "is_timeline", "load_log", "load_timeline", "replay"]


@dataclass
class ReplayResult:
    inputs: ReplayInput
    episodes: dict[str, Episode]
    input_violations: dict[str, list[Violation]]  # per episode: M-DUP, M-ORDER, M-REF ...
    cancelled: set[str]


def replay(inp: ReplayInput, policy: Policy, rules: list[Rule] | None = None) -> ReplayResult:
    """Run the inputs through the engine with every rule (or `rules`)."""
    with batch_gc():
        prepared = prepare(inp, policy)
        events = [e for e in prepared.events if e.episode not in prepared.cancelled]
        has_receipts = any(e.kind == "receipt_sent" for e in events)
        for e in events:
            if e.is_message and e.kind != "receipt_sent" and e.origin in ("timeline", "side-car"):
                e.receipt_requested = has_receipts  # timelines: receipts are checked where the log holds any
        engine = Engine(policy, all_rules() if rules is None else rules,
                        log_has_phone_calls=any(e.kind == "phone_call" for e in events),
                        log_has_receipts=has_receipts)
        episodes = engine.run(events)
        for name in prepared.cancelled:
            episodes.setdefault(name, Episode(name))
        return ReplayResult(inp, episodes, prepared.notes, prepared.cancelled)
