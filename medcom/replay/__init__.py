"""Replay message logs and timelines through the agreement's rules: inputs -> events -> engine -> results.

`load_log` reads (medcom.replay.load), `prepare` applies the input rules (medcom.replay.input_rules), and the
engine runs every rule of RULES.md over the events, the same engine the simulation drives. `replay` runs one
part of a log held in memory; the command line replays a log of any size in partitions of such parts
(medcom.replay.partition: spool.py, links.py, grouping.py), each given the whole log's `LogFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from medcom.engine.engine import Engine, Episode, Rule, Violation
from medcom.engine.rules import all_rules
from medcom.events import Event
from medcom.findings import Finding
from medcom.gc_tuning import batch_gc
from medcom.policy import Policy
from medcom.replay.input_rules import Order, prepare
from medcom.replay.load import ReplayInput, is_timeline, load_log, load_timeline

__all__ = ["LogFacts", "ReplayInput", "ReplayResult", "is_timeline", "load_log", "load_timeline", "replay"]


@dataclass(frozen=True)
class LogFacts:
    """What the engine must know of the whole log, not of the part it runs: whether the log holds receipts and
    phone calls (rules that look for them only apply where a log can show them) and its first instant (the
    engine clock's origin). A part of a log replayed alone is given the whole log's."""

    has_receipts: bool
    has_phone_calls: bool
    origin: datetime | None

    @classmethod
    def of(cls, events: list[Event]) -> LogFacts:
        return cls(any(e.kind == "receipt_sent" for e in events), any(e.kind == "phone_call" for e in events),
                   min((e.at.astimezone(UTC) for e in events), default=None))

    def joined(self, other: LogFacts) -> LogFacts:
        """The facts of two parts of a log together."""
        origins = [o for o in (self.origin, other.origin) if o is not None]
        return LogFacts(self.has_receipts or other.has_receipts, self.has_phone_calls or other.has_phone_calls,
                        min(origins) if origins else None)


@dataclass
class ReplayResult:
    inputs: ReplayInput
    episodes: dict[str, Episode]
    input_violations: dict[str, list[Violation]]  # per episode: M-DUP, M-ORDER, M-REF ...
    cancelled: set[str]
    log: LogFacts | None = None  # what these inputs alone show of the log (see LogFacts)
    findings: list[Finding] = field(default_factory=list)  # the input stage's, of messages of no episode
    finding_order: list[Order] = field(default_factory=list)  # where the whole log's replay makes each (its order)


def replay(inp: ReplayInput, policy: Policy, rules: list[Rule] | None = None, *,
           log: LogFacts | None = None) -> ReplayResult:
    """Run the inputs through the engine with every rule (or `rules`). `log`: the whole log's facts, when the
    inputs are a part of it (medcom.replay.partition); by default the inputs' own."""
    with batch_gc():
        prepared = prepare(inp, policy)
        events = [e for e in prepared.events if e.episode not in prepared.cancelled]
        own = LogFacts.of(events + prepared.unassigned)  # a receipt of no episode is still a receipt in the log
        log = log or own
        for e in events:
            if e.is_message and e.kind != "receipt_sent" and e.origin in ("timeline", "side-car"):
                e.receipt_requested = log.has_receipts  # timelines: receipts are checked where the log holds any
        engine = Engine(policy, all_rules() if rules is None else rules,
                        log_has_phone_calls=log.has_phone_calls, log_has_receipts=log.has_receipts,
                        origin=log.origin)
        episodes = engine.run(events)
        for name in prepared.cancelled:
            episodes.setdefault(name, Episode(name))
        return ReplayResult(inp, episodes, prepared.notes, prepared.cancelled, own, prepared.findings,
                            prepared.finding_order)
