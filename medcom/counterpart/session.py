"""One live run: medcom plays one party of a flow against the system under test (SUT) and judges it as it goes.

Everything that crosses the transport, both ways, is first written to the log (a folder `medcom replay` reads:
the messages as sent and received, and an events.jsonl side-car with the played party's facts and what a message
cannot carry), and then read back from the log the way replay reads it: the accumulated log goes through replay's
input rules (`prepare`: episodes named, receipts resolved, duplicates, corrections, side-car details) and every
event not yet seen is fed to the engine at its instant, on the judge's clock (medcom.counterpart.clock). The engine
and its rules are the ones replay and simulate run; a deadline the SUT misses is a SimPy event that fires when the
judge's clock passes it, and its violation is reported at once. So the live verdict and `medcom replay` of the log
read the same events: the same verdict.

A message is judged at the instant it says it was sent, like replay; one that says a time the judge's clock has
already passed (it arrived later than the grace allows), or one from the future, is judged at its arrival instead,
and the side-car says so, so replay judges it there too.

That holds while medcom's own process keeps up with the wall clock. The grace covers a message's whole way, both
ends: medcom keeps to half of it (`LiveClock.share`, as it restamps a step of its own performed later than that),
the rest is the SUT's and the transport's. It measures how far it fell behind at each moment a verdict depends on:
a message from the SUT read (against the moment it may have arrived: its stamp, less any stall of the process just
before it, `StallMeter`), a step of the played party performed or a receipt sent (against when it was due), the
flow's end reached with a step of the SUT still missing. Beyond its half, medcom itself may be why a message
counts as late or a step as missing: the moment is listed (`Late`), said at once, and the run's verdict is not one
on the SUT (`report`'s `clock.trusted`; the command exits 2, a tool-side problem).
A deadline the engine judges late is not such a moment by itself: every message that had come by then is read
first, so a late deadline wrongs the SUT only through a message read late, which is one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import simpy

from medcom.calendar import add_elapsed, to_local
from medcom.counterpart.clock import LiveClock, StallMeter
from medcom.counterpart.flow import Flow, Step, resolve_value
from medcom.counterpart.transport import TRANSPORT, Arrival, Inbox
from medcom.engine.engine import Engine, Obligation, Violation
from medcom.engine.rules import all_rules
from medcom.events import FACT_EVENTS, Event
from medcom.events.build import BuildError, EpisodeWriter, Written, emit, read_back
from medcom.events.timeline import parse_line
from medcom.findings import Finding, Severity
from medcom.formats.inputs import InputDocument
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.formats.read import read_document
from medcom.policy import Policy
from medcom.replay import LogFacts
from medcom.replay.input_rules import prepare
from medcom.replay.load import ReplayInput, add_lines, messages_of, read_of
from medcom.safe_files import replace_file, safe_name
from medcom.validate.receipts import answer_envelope

SIDECAR = "events.jsonl"
MAX_RECEIVED = 10_000  # messages a run takes from the SUT (a flow exchanges dozens); beyond: refused, counted
MAX_FINDINGS = 1_000  # findings listed; beyond: counted (memory stays bounded whatever the SUT sends)
MAX_LATE = 1_000  # moments medcom fell behind listed; beyond: counted
ID_BLOCK = 50_000_000_000  # the municipality's generated envelope and letter ids start here: never the hospital's

# Who owes what each rule asks (RULES.md); M-RECEIPT is owed by the receiver, other M-* by the sender.
OWNER = {"ADM-1": "hospital", "ADM-2": "municipality", "CP-1": "hospital", "CP-2": "hospital", "CP-3": "hospital",
         "ACK-1": "municipality", "ACK-2": "municipality", "ACK-3": "hospital", "COR-1": "municipality",
         "COR-2": "municipality", "CONF-1": "hospital", "FM-1": "hospital", "DIS-1": "hospital", "DIS-2": "hospital",
         "DIS-3": "hospital", "DIS-4": "hospital", "LEAVE-1": "hospital", "TERM-1": "hospital"}


class Transport(Protocol):
    def start(self, sink: Inbox, taken: Path) -> None: ...

    def send(self, name: str, data: bytes, content_type: str) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


@dataclass
class StepState:
    step: Step
    by_medcom: bool
    status: str = "pending"  # pending, sent, received, missing, not reached, not observed, not needed
    message_id: str | None = None
    at: datetime | None = None
    source: str | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Late:
    """A moment a verdict depended on at which medcom's own process was more than its half of the grace behind."""

    what: str  # "read": a message from the SUT read late; "sent": a step of medcom's performed late (a message, its
    #            receipts, a fact); "end": the flow's end reached late while a step of the SUT was still missing
    at: datetime  # on the flow's clock
    behind: float  # wall seconds
    text: str
    step: str | None = None
    message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "at": to_local(self.at).isoformat(), "behind": round(self.behind, 3),
                "text": self.text, "step": self.step, "message_id": self.message_id}


@dataclass
class Seen:
    """A violation reported so far, and where it belongs."""

    violation: Violation
    party: str
    step: str | None
    episode: str


class Session:
    def __init__(self, flow: Flow, play: str, transport: Transport, log_dir: Path, clock: LiveClock, policy: Policy,
                 *, formats: str = "national", wrap: str = "none", receipts: bool = True,
                 say: Callable[[str], None] = print) -> None:
        self.flow, self.play, self.transport, self.log_dir, self.clock = flow, play, transport, log_dir, clock
        self.sut = "municipality" if play == "hospital" else "hospital"
        self.policy, self.receipts, self.say = policy, receipts, say
        self.read = read_options(policy)
        self.start = clock.start
        self.end = self.at(flow.duration)
        self.inbox = Inbox()
        self.input = ReplayInput()
        self.delivered: set[tuple] = set()
        self.seen: dict[tuple, Seen] = {}
        self.findings: list[Finding] = []
        self.sender_of: dict[str, str] = {}  # message id -> party
        self.ids: dict[str, str] = {}  # step name -> the id its message carries
        self.steps = [StepState(s, s.party == play or s.event == "phone_call") for s in flow.steps]
        self.sent = self.received = 0
        self.counter = itertools.count(1)
        self.sidecar_lines = 0
        self.interrupted = False
        self.rejected = 0  # received messages rejected by validation
        self.receipts_judged = True
        self.over_limit = 0  # messages refused beyond MAX_RECEIVED
        self.findings_not_listed = 0
        self.adopted = False
        self.episode: str | None = None  # playing the municipality: the episode as replay names the hospital's
        self.notes: dict[str, list[Violation]] = {}
        self.cancelled: set[str] = set()  # episodes whose admission was cancelled: nothing owed in them (replay)
        self.log_has_receipts = False  # whether replay of the log so far would judge M-RECEIPT
        self.stopping = False
        self.closed = False
        self.stalls = StallMeter()
        self.late: list[Late] = []
        self.late_not_listed = 0
        self.behind_max = 0.0  # the most medcom fell behind at any moment measured, a verdict's or not
        self.end_behind = 0.0
        has_phone = any(s.event == "phone_call" for s in flow.steps)
        self.engine = Engine(policy, all_rules(), log_has_phone_calls=has_phone, log_has_receipts=receipts,
                             origin=self.start)
        self.engine.env = clock.env  # the same engine and rules, on the judge's real-time clock
        numbers = itertools.count(1 + (ID_BLOCK if play == "municipality" else 0))
        self.writer = EpisodeWriter(flow.episode_name, planned_events(flow, self.start), wrap, formats, numbers)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.staging = log_dir / ".receipts"
        self.staging.mkdir(exist_ok=True)

    # --- time -----------------------------------------------------------------------------------------------------

    def at(self, offset: timedelta) -> datetime:
        return add_elapsed(self.start, offset)

    def _later(self, instant: datetime, action: Callable[[], None], *, senders: bool = False) -> None:
        """Run `action` when the judge's clock reaches `instant` (`senders`: when the senders' clock does)."""
        target = self.clock.seconds(instant) - (self.clock.grace * self.clock.speed if senders else 0)
        timeout = self.clock.env.timeout(max(0.0, target - self.clock.env.now))
        timeout.callbacks.append(lambda _event: action())

    # --- the played party -----------------------------------------------------------------------------------------

    def _data(self, step: Step) -> dict[str, Any]:
        return step_data(step, self.start, self.ids)

    def begin(self) -> None:
        """Schedule the played party's timed steps and start receiving."""
        (self.log_dir / SIDECAR).touch()
        for state in self.steps:
            if state.by_medcom and state.step.at is not None:
                self._later(self.at(state.step.at), lambda s=state: self.perform(s, self.at(s.step.at)),
                            senders=True)
        self.transport.start(self.inbox, self.log_dir)

    def perform(self, state: StepState, at: datetime, known: float | None = None) -> None:
        """The played party's step happens now (`at` on the senders' clock): a fact recorded, a message sent.
        `known`: when (monotonic) medcom learnt of it, an answer to a message that came (not before then late)."""
        if self.stopping or state.status != "pending":
            return
        try:
            self._perform(state, at)
        except OSError as exc:  # the log's disk or the outbox (full, gone): said, and the run goes on
            state.status = "missing"
            self._finding(Finding(TRANSPORT, Severity.ERROR, f"step {state.step.name}: cannot be logged or sent: "
                                  f"{exc.strerror or exc}", self.flow.name))
        if state.status == "sent":  # how late, once written and handed to the transport
            behind = (self.clock.now() - at).total_seconds() / self.clock.speed
            if known is not None:  # an answer due before its question came (its delay shorter than its way)
                behind = min(behind, time.monotonic() - known)
            if behind > self.clock.share:
                what = "recorded" if state.step.is_fact else "sent"
                self._behind("sent", at, behind, f"step {state.step.name} {what} {behind:.1f} s after it was due",
                             state.step.name, state.message_id)
            else:
                self._measured(behind)

    def _perform(self, state: StepState, at: datetime) -> None:
        now = self.clock.now().replace(microsecond=0)
        if now - at > self.clock.grace_span / 2 and not state.step.is_fact:  # beyond medcom's half: sent now
            self.say(f"{self._stamp(now)} {state.step.name}: planned for {self._stamp(at)}, performed late")
            at = now
        step = state.step
        event = Event(at, self.episode or self.flow.episode_name, step.event, self._data(step),
                      source=f"flow step {step.name}")
        if step.is_fact:
            self._sidecar(self._line(event))
            if step.at is None:  # an answer: the writer knew the timed facts from the start
                self.writer.events.append(event)
            state.status, state.at = "sent", at
            self.say(f"{self._stamp(at)} {step.name}: {step.event} recorded")
        else:
            if step.resend is not None and self._receipted(self.ids.get(step.resend)):
                state.status = "not needed"  # the receipt came: nothing to send again
                return
            name = f"{next(self.counter):04d}-out-{safe_name(step.name.replace(' ', '_'))}"
            try:
                made = emit(self.writer, event, str(self.log_dir / name))
            except BuildError as exc:
                self._finding(Finding("FLOW", Severity.ERROR, f"step {step.name}: {exc}", self.flow.name))
                state.status = "missing"
                return
            if made is None:
                self._finding(Finding("FLOW", Severity.ERROR, f"step {step.name}: medcom cannot write a "
                                      f"{step.event} message yet", self.flow.name))
                state.status = "missing"
                return
            file = replace_file(self.log_dir, name + made.suffix, made.data)
            if made.sidecar is not None and step.resend is None:  # a resend's line would move the original
                self._sidecar(made.sidecar)
            self._read_into_input(file, made.data)
            ident = made.written.message_id
            self.ids[step.name], self.sender_of[ident] = ident, self.play
            state.status, state.message_id, state.at, state.source = "sent", ident, at, file.name
            self.transport.send(file.name, made.data, _content_type(made.suffix))
            self.sent += 1
            self.say(f"{self._stamp(at)} {step.name}: sent {step.event} {ident} ({file.name})")
        self._answered(step, at)
        self.feed()

    def _answered(self, step: Step, at: datetime) -> None:
        """Schedule the played party's answers to `step` (each its delay after the step's message)."""
        known = time.monotonic()
        for state in self.steps:
            if state.by_medcom and state.step.after == step.name and state.status == "pending":
                when = add_elapsed(at, state.step.delay)
                self._later(when, lambda s=state, w=when: self.perform(s, w, known), senders=True)

    # --- what the SUT sends ---------------------------------------------------------------------------------------

    def handle(self, arrival: Arrival) -> None:
        """One arrival, whatever it holds: a server never stops for what a client sends."""
        try:
            self._handle(arrival)
        except OSError as exc:  # the log's disk (full, gone): said, and the run goes on
            self._finding(Finding(TRANSPORT, Severity.ERROR, f"{arrival.source}: cannot be logged or answered: "
                                  f"{exc.strerror or exc}", arrival.source))

    def _handle(self, arrival: Arrival) -> None:
        if arrival.finding is not None:
            self._finding(arrival.finding)
            return
        arrived = self.clock.now(arrival.wall)
        stamp = self.clock.mono(arrival.wall)
        came = stamp - self.stalls.stalled_before(stamp)  # the earliest it may have come (monotonic)
        if self.received >= MAX_RECEIVED:
            self.over_limit += 1
            if self.over_limit == 1:
                self._finding(Finding(TRANSPORT, Severity.ERROR, f"more than {MAX_RECEIVED} messages from the SUT: "
                                      "the rest are refused, counted, not read", arrival.source), at=arrived)
            return
        data = arrival.data or b""
        label = "http" if arrival.source.startswith("http ") else Path(arrival.source).name or "message"
        name = f"{next(self.counter):04d}-in-{safe_name(label)}"
        suffix = ".json" if data.lstrip()[:1] in (b"{", b"[") else ".xml"
        name = name if name.lower().endswith(suffix) else name + suffix
        file = replace_file(self.log_dir, name, data)
        self.received += 1
        before = len(self.input.units)
        messages = read_document(data, str(file), self.read)
        read = self._read_into_input(file, data, messages)
        for finding in read.findings:
            self._finding(finding, at=arrived)
        new_units = self.input.units[before:]
        self.rejected += read.rejected
        if not new_units:
            self.say(f"{self._stamp(arrived)} received {file.name}: rejected")
        self._adopt_episode(new_units)
        self.feed(deliver=False)  # name the new units' episodes, as replay will
        counted = [self._place(unit, arrived, file.name, data, read.findings, messages) for unit in new_units]
        withheld = any(s.source == file.name and not s.by_medcom and not s.step.receipt for s in self.steps)
        if self.receipts and messages and not withheld:  # the flow may withhold it (a resend is then due)
            # answered at once from when it counts as received: its stated time within the grace (the way is
            # nobody's delay there), else its arrival; not when the transport happened to notice it
            self._receipts(messages, max((c for c in counted if c is not None), default=arrived))
        behind = time.monotonic() - came  # read, judged and receipted this long after it may have come
        if new_units and behind > self.clock.share:
            step = next((s.step.name for s in self.steps if s.source == file.name and not s.by_medcom), None)
            ident = next((u.primary.id for u in new_units if u.primary is not None and u.primary.id), None)
            self._behind("read", arrived, behind, f"{file.name} read {behind:.1f} s after it may have arrived "
                         "(judged at its arrival if it says an earlier time; its receipt as late)", step, ident)
        else:
            self._measured(behind)
        self.feed()

    def _read_into_input(self, file: Path, data: bytes, messages: list[ReadMessage] | None = None):  # noqa: ANN202
        """Read what was logged as replay reads it (once: `messages` when already read) and add it to the log so far."""
        read = messages_of(InputDocument(str(file), data), self.read) if messages is None \
            else read_of(messages, self.read.max_findings)
        self.input.add_read(read)
        return read

    def _adopt_episode(self, units: list[Any]) -> None:
        """Playing the municipality, answer in the hospital's episode of care: its id, as its first message says."""
        if self.play != "municipality" or self.adopted:
            return
        raw = next((u.events.episode for u in units if u.events.episode and u.primary is not None
                    and u.primary.kind != "receipt_sent"), None)
        if raw:
            self.adopted = True
            self.writer.episode_id = raw

    def _place(self, unit: Any, arrived: datetime, file: str, data: bytes, findings: list[Finding],
               messages: list[ReadMessage]) -> datetime | None:
        """Judge a received message at its stated time, or at its arrival if that is out of reach; match it to
        the step of the flow it answers; schedule the played party's answers to it. Returns the instant it is
        judged at (None for a unit without a message, or a receipt: a receipt is never receipted)."""
        primary = unit.primary
        if primary is None:
            return None
        if primary.kind == "receipt_sent":  # replay's side-car cannot move a receipt: judged as it says
            self.say(f"{self._stamp(arrived)} received receipt {primary.id} for {primary.data.get('ref')}")
            return None
        if self.play == "municipality" and self.episode is None:
            self.episode = self.writer.name = primary.episode  # named as replay names the hospital's episode
        judge_now = self.clock.instant(self.clock.judge_now())
        stated = primary.at
        if stated < judge_now or stated > arrived + self.clock.grace_span:
            self._finding(Finding(TRANSPORT, Severity.INFO, f"{file}: says it was sent {self._stamp(stated)}, "
                                  f"arrived {self._stamp(arrived)}: judged at its arrival", file), at=arrived)
            self._sidecar(self._line(Event(arrived, primary.episode, primary.kind,
                                           {"id": primary.id} if primary.id else {})))
            stated = arrived
        if primary.id:
            self.sender_of.setdefault(primary.id, self.sut)
        state = self._expected_step(primary)
        label = state.step.name if state else "not in the flow"
        self.say(f"{self._stamp(arrived)} received {primary.kind} {primary.id or ''} ({file}): {label}")
        if state is None:
            return stated
        state.status, state.message_id, state.at, state.source = "received", primary.id, stated, file
        state.findings = [f for f in findings if f.severity is not Severity.INFO]
        answered = any(s.by_medcom and s.step.after == state.step.name for s in self.steps)
        if primary.id:
            self.ids[state.step.name] = primary.id
        if primary.id and answered:  # medcom's answer will refer to it
            written = _written(data, file, primary, messages)
            if written is not None:
                self.writer.carried[primary.id] = primary.id
                self.writer.written[primary.id] = written
        self._answered(state.step, stated)
        return stated

    def _receipted(self, ident: str | None) -> bool:
        """Whether a receipt for message `ident` has come."""
        return ident is not None and any(e.kind == "receipt_sent" and e.data.get("ref") == ident
                                         for u in self.input.units for e in u.events.events)

    def _expected_step(self, event: Event) -> StepState | None:
        """The SUT's pending step a message is: its kind from the step's party; among several, the one whose
        reference (`@step`) names the message this one replies to."""
        fitting = [s for s in self.steps if not s.by_medcom and s.status == "pending" and _fits(s.step, event)]
        answers = {event.data.get("reply_to"), event.data.get("ref")} - {None}
        for state in fitting:
            named = {self.ids.get(str(v)[1:]) for k, v in state.step.data.items()
                     if k in ("reply_to", "ref") and str(v).startswith("@")}
            if named & answers:
                return state
        return fitting[0] if fitting else None

    def _receipts(self, messages: list[ReadMessage], arrived: datetime) -> None:
        """Technical receipts at once, positive or negative by validation (medcom.validate.receipts)."""
        before = set(self.staging.iterdir())
        answer_envelope(messages, self.staging, arrived)
        for path in sorted(set(self.staging.iterdir()) - before):
            data = path.read_bytes()
            path.unlink()
            suffix = ".json" if path.name.endswith(".json") else ".xml"
            file = replace_file(self.log_dir, f"{next(self.counter):04d}-out-receipt{suffix}", data)
            self._read_into_input(file, data)
            self.transport.send(file.name, data, _content_type(suffix))
            self.sent += 1

    # --- feeding the engine ---------------------------------------------------------------------------------------

    def feed(self, deliver: bool = True) -> None:
        """Run replay's input rules over the log so far; events not yet seen go to the engine at their instants."""
        snapshot = replace(self.input, units=list(self.input.units), facts=list(self.input.facts),
                           sidecar_messages=list(self.input.sidecar_messages), findings=[])
        prepared = prepare(snapshot, self.policy)
        self.notes, self.cancelled = prepared.notes, prepared.cancelled
        kept = [e for e in prepared.events if e.episode not in prepared.cancelled]
        self.log_has_receipts = LogFacts.of(kept + prepared.unassigned).has_receipts  # as replay reads the log
        if not deliver:
            return
        events = sorted(kept, key=lambda e: (e.at, e.seq))
        for event in events:
            key = _key(event)
            if key in self.delivered:
                continue
            self.delivered.add(key)
            self._later(event.at, lambda e=event: self._deliver(e))
        self.report_new()

    def _deliver(self, event: Event) -> None:
        if not self.closed:
            self.engine.deliver(event)
            self.report_new()

    # --- the verdict as it happens --------------------------------------------------------------------------------

    def violations(self) -> list[tuple[str, Violation]]:
        """Each violation so far with its episode; none of a cancelled episode, which replay leaves out whole."""
        found = [(name, v) for name, ep in self.engine.episodes.items() for v in ep.violations]
        found += [(name, v) for name, notes in self.notes.items() for v in notes]
        return [(name, v) for name, v in found if name not in self.cancelled]

    def obligations(self) -> list[Obligation]:
        return [o for name, ep in self.engine.episodes.items() if name not in self.cancelled for o in ep.obligations]

    def report_new(self) -> None:
        for episode, v in self.violations():
            key = (v.rule, v.statement, tuple(v.message_ids[:1]), v.due)  # the same violation, however its wait ended
            if key in self.seen:
                self.seen[key].violation = v
                continue
            party = self.owner(v)
            self.seen[key] = Seen(v, party, self.step_of(v, party), episode)
            who = "SUT" if party == self.sut else "medcom"
            due = f", due {self._stamp(v.due)}" if v.due else ""
            ids = f", message {', '.join(v.message_ids)}" if v.message_ids else ""
            self.say(f"{self._stamp(self._judge_instant())} VIOLATION by {who} ({party}): {v.rule} {v.severity}: "
                     f"{v.text}{due}{ids}")

    def owner(self, v: Violation) -> str:
        if v.rule in OWNER:
            return OWNER[v.rule]
        sender = next((self.sender_of[i] for i in v.message_ids if i in self.sender_of), None)
        if sender is None:
            return self.sut  # unknown: held against the SUT (a false accept is the worst defect)
        if v.rule == "M-RECEIPT":
            return "municipality" if sender == "hospital" else "hospital"
        return sender

    def step_of(self, v: Violation, party: str) -> str | None:
        """The flow step a violation belongs to: the SUT's step that carries or should answer the message it
        names, else the step of the message."""
        named = {s.step.name for s in self.steps if s.message_id and s.message_id in v.message_ids}
        if v.rule == "M-RECEIPT":  # the receipt belongs with the message it answers
            return next(iter(sorted(named)), None)
        for state in self.steps:
            if state.step.party == party and (state.step.name in named or state.step.after in named):
                return state.step.name
        return next(iter(sorted(named)), None)

    def _measured(self, behind: float) -> None:
        self.behind_max = max(self.behind_max, behind)

    def _behind(self, what: str, at: datetime, behind: float, text: str, step: str | None = None,
                message_id: str | None = None) -> None:
        """A moment a verdict depended on, more than medcom's half of the grace behind: listed, and said at once."""
        self._measured(behind)
        if len(self.late) >= MAX_LATE:
            self.late_not_listed += 1
            return
        self.late.append(Late(what, at, behind, text, step, message_id))
        self.say(f"{self._stamp(at)} CLOCK BEHIND by {behind:.1f} s, more than medcom's half of the grace of "
                 f"{self.clock.grace:g} s: {text}; medcom's own lag, not the SUT's: "
                 f"{remedy(self.clock.speed, self.clock.grace, behind)}")

    def _finding(self, finding: Finding, at: datetime | None = None) -> None:
        if len(self.findings) >= MAX_FINDINGS:
            self.findings_not_listed += 1
            return
        self.findings.append(finding)
        if finding.severity is not Severity.INFO:
            where = f" line {finding.line}" if finding.line else ""
            self.say(f"{self._stamp(at or self.clock.now())} FINDING {finding.rule} {finding.severity}: "
                     f"{finding.file}{where}: {finding.text}")

    # --- the run --------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Until the judge's clock reaches the end of the flow, or `stop()`."""
        env, end = self.clock.env, self.clock.seconds(self.end)
        self.stalls.start()
        while not self.stopping:
            self._drain()
            next_at = min(env.peek(), end)
            wait = self.clock.wall_wait(next_at)
            if wait > 0:
                with contextlib.suppress(queue.Empty):
                    self.handle(self.inbox.queue.get(timeout=min(wait, 0.1)))
                continue
            self._measured(-wait)
            if env.peek() <= end:
                with contextlib.suppress(simpy.core.EmptySchedule):
                    env.step()
                self.report_new()  # a deadline that just passed
                continue
            self.end_behind = -wait
            break
        self._drain()

    def _drain(self) -> None:
        for name, waited in self.inbox.take_delays():  # what the transport's sender thread sent late
            if waited > self.clock.share:
                state = next((s for s in self.steps if s.source == name and s.by_medcom), None)
                self._behind("sent", self.clock.now(), waited, f"{name} left for the SUT {waited:.1f} s after medcom "
                             "wrote it (its sending thread was not run)", state.step.name if state else None,
                             state.message_id if state else None)
            else:
                self._measured(waited)
        for arrival in self.inbox.take_findings():
            self.handle(arrival)
        for _ in range(self.inbox.queue.maxsize):
            try:
                arrival = self.inbox.queue.get_nowait()
            except queue.Empty:
                return
            self.handle(arrival)

    def stop(self) -> None:
        self.interrupted = self.stopping = True

    def finish(self) -> None:
        """Close the episodes (their end-of-episode rules run) and settle the steps."""
        self.transport.close()
        self._drain()
        self.stalls.stop()
        reached = self._judge_instant()
        self.receipts_judged = self.log_has_receipts
        if not self.receipts_judged:
            self._unjudge_receipts()
        for name in list(self.engine.episodes):
            self.engine.close_episode(name)
        self.closed = True
        # said live before its cancellation came, a violation of a cancelled episode is not in the verdict:
        # replay of the log leaves the episode out whole
        self.seen = {k: v for k, v in self.seen.items() if v.episode not in self.cancelled}
        self.report_new()
        for state in self.steps:
            if state.status != "pending":
                continue
            due = self._nominal(state.step)
            if state.step.is_fact:
                state.status = "not observed"  # the SUT's own fact: its messages state it, or not
            else:
                state.status = "missing" if due is not None and due <= reached and not state.by_medcom \
                    else "not reached"
        missing = [s.step.name for s in self.steps if s.status == "missing" and not s.by_medcom]
        if missing and self.end_behind > self.clock.share:  # what came at the last moment may not have been read
            self._behind("end", self.end, self.end_behind, f"the flow's end judged {self.end_behind:.1f} s late, "
                         f"with {', '.join(missing)} still missing", missing[0])
        with contextlib.suppress(OSError):
            self.staging.rmdir()

    def _unjudge_receipts(self) -> None:
        """A log without a single receipt (the SUT sent nothing at all) is one replay cannot judge M-RECEIPT by
        (RULES.md: checked only where the log holds receipts): the final verdict leaves it out too, so that it is
        the verdict `medcom replay` gives the log. What was said live stays said; the SUT's missing steps fail it."""
        self.engine.log_has_receipts = False
        for episode in self.engine.episodes.values():
            episode.violations[:] = [v for v in episode.violations if v.rule != "M-RECEIPT"]
        self.seen = {k: v for k, v in self.seen.items() if v.violation.rule != "M-RECEIPT"}

    def _nominal(self, step: Step) -> datetime | None:
        if step.at is not None:
            return self.at(step.at)
        answered = next((s for s in self.steps if s.step.name == step.after), None)
        return add_elapsed(answered.at, step.delay) if answered is not None and answered.at is not None else None

    def _judge_instant(self) -> datetime:
        return self.clock.instant(min(self.clock.judge_now(), self.clock.seconds(self.end)))

    def _stamp(self, at: datetime | None) -> str:
        return f"[{to_local(at):%a %Y-%m-%d %H:%M}]" if at else "[-]"

    def _line(self, event: Event) -> str:
        values = {k: (to_local(v).isoformat() if isinstance(v, datetime) else v) for k, v in event.data.items()}
        return json.dumps({"at": to_local(event.at).isoformat(), "episode": event.episode, "event": event.kind,
                           **values}, ensure_ascii=False)

    def _sidecar(self, line: str) -> None:
        """Append a line to the log's side-car (as it happens) and read it as replay reads a side-car line."""
        with open(self.log_dir / SIDECAR, "a", encoding="utf-8") as out:
            out.write(line + "\n")
        self.sidecar_lines += 1
        add_lines([parse_line(line, str(self.log_dir / SIDECAR), self.sidecar_lines, 0)], self.input, sidecar=True)


def remedy(speed: float, grace: float, behind: float) -> str:
    """What a tester does about medcom falling `behind` wall seconds: a grace whose half covers it twice over (in
    wall seconds, so a lower speed alone does not), with the speed lowered to keep the grace as short on the flow's
    clock."""
    larger = float(max(math.ceil(4 * behind), 1))
    slower = float(f"{speed * grace / larger:.3g}") if grace > 0 else float(f"{speed / 10:.3g}")
    return (f"rerun with --grace {larger:g} (wall seconds) and, to keep the grace as short on the flow's clock, "
            f"--speed {slower:g}, or on a less loaded machine")


def read_options(policy: Policy) -> ReadOptions:
    """How the log is read: as `medcom replay` reads it (the rules, not the reader, judge "sent before the event")."""
    limits = policy.messages
    return ReadOptions(limits.max_message_bytes, None, limits.max_timeline_bytes, limits.max_findings_per_file,
                       sent_before_event=False)


def step_data(step: Step, start: datetime, ids: dict[str, str]) -> dict[str, Any]:
    """A step's event data: times and @references resolved, a message's id given."""
    data = {k: resolve_value(k, v, start, ids) for k, v in step.data.items()}
    if step.event not in FACT_EVENTS:
        data.setdefault("id", step.message_id)
    return {k: v for k, v in data.items() if v is not None}


def planned_events(flow: Flow, start: datetime) -> list[Event]:
    """The flow's timed events at their planned times: what the message writer looks up (the admission that
    names the parties and the patient, the ready time a care plan states)."""
    admitted = Event(start, flow.episode_name, "admitted", {k: v for k, v in flow.episode.items() if k != "name"})
    planned = [admitted]
    for step in flow.steps:
        if step.event == "admitted":
            admitted.at = add_elapsed(start, step.at or timedelta(0))
            admitted.data.update(step_data(step, start, {}))
        elif step.at is not None:
            planned.append(Event(add_elapsed(start, step.at), flow.episode_name, step.event,
                                 step_data(step, start, {})))
    return sorted(planned, key=lambda e: e.at)


def warm_up(flow: Flow, play: str, start: datetime, policy: Policy, formats: str, wrap: str, scratch: Path) -> None:
    """Write the flow's timed messages once before the clock starts: a flow whose played messages cannot be
    written fails here (`BuildError`), not mid-run, and the readers' schemas and profiles are loaded by then."""
    planned = planned_events(flow, start)
    nominal = {s.name: add_elapsed(start, s.at) for s in flow.steps if s.at is not None}
    for step in flow.steps:  # and the answers, at the times they would have if answered at once
        if step.after is not None:
            nominal[step.name] = add_elapsed(nominal.get(step.after, start), step.delay)
            planned.append(Event(nominal[step.name], flow.episode_name, step.event, step_data(step, start, {})))
    planned.sort(key=lambda e: e.at)
    writer = EpisodeWriter(flow.episode_name, planned, wrap, formats, itertools.count(1))
    for n, event in enumerate(planned):  # both parties' messages: what medcom reads is loaded too
        if event.kind in FACT_EVENTS:
            continue
        try:
            made = emit(writer, event, str(scratch / f"{n:04d}"))
        except BuildError:
            if _party_of(flow, event) == play:
                raise
            continue
        if made is not None and made.suffix == ".json":  # and the Acknowledgement that answers a FHIR message
            answer_envelope(read_document(made.data, "warm-up", read_options(policy)), scratch, event.at)


def _party_of(flow: Flow, event: Event) -> str | None:
    return next((s.party for s in flow.steps if s.event == event.kind and s.message_id == event.id), None)


def _key(event: Event) -> tuple:
    if event.kind in FACT_EVENTS:
        return ("fact", event.episode, event.kind, event.at)
    return (event.kind, event.id, event.data.get("ref"), event.episode, event.seq)


def _fits(step: Step, event: Event) -> bool:
    """Whether a received message is the one a SUT's step expects: its kind, from the step's party. An
    acknowledgement may come as correspondence (national practice: a CareCommunication replying to the plan)."""
    kinds = {step.event} | ({"correspondence_sent"} if step.event == "care_plan_ack_sent" else set())
    if event.kind not in kinds:
        return False
    if event.kind == "correspondence_sent":
        return (event.from_hospital and step.party == "hospital") or \
            (event.from_municipality and step.party == "municipality") or not (event.from_hospital or
                                                                              event.from_municipality)
    return True


def _written(data: bytes, file: str, primary: Event, messages: list[ReadMessage]) -> Written | None:
    """The SUT's message as the writer knows its own messages, so that an answer can refer to it."""
    if len(messages) != 1:
        return None  # an answer refers to one message (a document of several letters is answered by receipts)
    try:
        return read_back(data, file, primary, messages)
    except BuildError:
        return None


def _content_type(suffix: str) -> str:
    return "application/fhir+json" if suffix == ".json" else "application/xml"


def report(session: Session, fail_on: str = "warning") -> dict[str, Any]:
    """The run's verdict as data (rendered by medcom.reports.counterpart): the flow's steps, each with what
    happened and what went wrong in it, every violation with the party that owes it, every finding."""
    failing = {"error"} | ({"warning"} if fail_on == "warning" else set())
    steps = []
    for state in session.steps:
        step = state.step
        own = [s for s in session.seen.values() if s.step == step.name]
        steps.append({
            "name": step.name, "event": step.event, "party": step.party,
            "by": "medcom" if state.by_medcom else "sut", "status": state.status, "message_id": state.message_id,
            "at": to_local(state.at).isoformat() if state.at else None, "file": state.source,
            "findings": [f.as_dict() for f in state.findings],
            "violations": [_violation(s) for s in own],
        })
    violations = [_violation(s) for s in session.seen.values()]
    sut_failed = any(v["party"] == session.sut and v["severity"] in failing for v in violations) \
        or any(s["by"] == "sut" and (s["status"] == "missing" or any(f["severity"] == "error" for f in s["findings"]))
               for s in steps) \
        or any(f.severity is Severity.ERROR for f in session.findings)
    clock = session.clock
    worst = max((late.behind for late in session.late), default=0.0)
    return {
        "flow": session.flow.name, "description": session.flow.description, "play": session.play,
        "sut": session.sut, "start": to_local(session.start).isoformat(), "end": to_local(session.end).isoformat(),
        "reached": to_local(session._judge_instant()).isoformat(), "speed": session.clock.speed,
        "interrupted": session.interrupted, "transport": session.transport.describe(), "log": str(session.log_dir),
        "fail_on": fail_on, "receipts_judged": session.receipts_judged,
        "messages": {"sent": session.sent, "received": session.received, "rejected": session.rejected,
                     "refused": session.inbox.refused + session.over_limit,
                     "findings_not_listed": session.inbox.findings_dropped + session.findings_not_listed},
        "steps": steps, "violations": violations,
        "obligations": [o.as_dict() for o in session.obligations()],
        "findings": [f.as_dict() for f in session.findings],
        "sut_failed": sut_failed,
        "clock": {"trusted": not session.late, "grace": clock.grace, "behind_max": round(session.behind_max, 3),
                  "late": [late.as_dict() for late in session.late], "late_not_listed": session.late_not_listed,
                  "remedy": remedy(clock.speed, clock.grace, worst) if session.late else None},
    }


def _violation(seen: Seen) -> dict[str, Any]:
    return {**seen.violation.as_dict(), "party": seen.party, "step": seen.step}
