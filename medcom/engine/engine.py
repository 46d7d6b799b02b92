"""The SimPy engine that enforces the agreement (docs/ARCHITECTURE.md): events delivered in time order, deadlines
as events. Replay delivers a log from one feeding process; only the simulation has processes per episode (its
hospital and municipality), which deliver what they do themselves.

The clock is event time (seconds since the first event, UTC). Events arrive at their own times, one way
whoever brings them (a replayed log or the simulation): `Engine.deliver` at the event's instant, which adds
the event to its episode and applies the rules. A rule that expects something by a deadline schedules a
check at that instant (a `Deadline`, a SimPy event at a lower priority than arrivals), so a message at
exactly the deadline counts as in time ("at the latest"). A check whose deadline has already passed
when the rule learns of it (a ready time revealed by a later message) runs at once, against the times
recorded, so the outcome does not depend on when the fact was learnt. A rule that computes deadlines from a
fact that can be revised (the ready time) does so in a `Context.revision`: the next version supersedes the
deadlines of the last, cancelling their checks or withdrawing what they reported. Ties in time keep input order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import heappop

import simpy
from simpy.events import EventPriority

from medcom.calendar import BusinessCalendar, to_local
from medcom.engine.completion_tax import TaxResult
from medcom.events import Event
from medcom.findings import EPISODE, SEVERITY_OF, Location, Problem, Severity
from medcom.identifiers import patient_key
from medcom.policy import Policy

CHECK_PRIORITY = EventPriority(2)  # after simpy's URGENT (0) and NORMAL (1): every arrival at an instant comes first


class Deadline(simpy.Event):
    """The checks that run at one instant, after every arrival at that instant: a timeout at `CHECK_PRIORITY`,
    written the way SimPy writes its own `Timeout` (triggered when made, processed when the clock gets there).

    One SimPy event for all the checks due at the same clock reading (`Engine.schedule` adds to the one not yet
    run): deadlines fall on shared instants (end of a day, a cutoff, an hour after the same discharge; a 7-day
    region replication's 40,342 checks fell on 16,931). The checks run in the order they were scheduled, as
    separate events of one instant and priority would in SimPy (tests/test_deadline_instants.py)."""

    def __init__(self, env: simpy.Environment, delay: float, pending: dict[float, Deadline]) -> None:
        self.env = env
        self.callbacks = [_run_checks]
        self._value = None
        self._ok = True
        self._delay = delay
        self.checks: list[Callable[[], None]] = []
        self.pending = pending
        self.when = env.now + delay  # the clock reading SimPy gives the event (`Environment.schedule` adds the same)
        pending[self.when] = self
        env.schedule(self, CHECK_PRIORITY, delay)


def _run_checks(deadline: simpy.Event) -> None:
    assert isinstance(deadline, Deadline)  # only Deadlines carry this callback
    del deadline.pending[deadline.when]  # a check scheduled from here for this instant is a new event, run after
    for check in deadline.checks:
        check()


@dataclass
class Violation(Problem):
    """A rule of the agreement broken in an episode: the `Problem` with the engine's own fields, the deadline
    (`due`), when what was due came (`actual`) and the messages concerned. `code` says how a wait ended ('late':
    it came after the deadline, 'missing': none came), `statement` the text as the rule reported it (the engine
    adds how the wait ended to `text`)."""

    rule: str
    severity: Severity  # a severity's name ('error') is taken as the Severity
    due: datetime | None
    actual: datetime | None
    message_ids: list[str]
    text: str
    _: KW_ONLY
    code: str | None = None
    location: Location = EPISODE
    judged_by: str | None = None
    statement: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.severity = SEVERITY_OF[self.severity]
        self.statement = self.text

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"rule": self.rule, "severity": str(self.severity), "due": _iso(self.due),
                                    "actual": _iso(self.actual), "message_ids": self.message_ids, "text": self.text}
        if self.code is not None:
            found["code"] = self.code
        return found


@dataclass(eq=False, repr=False)
class Obligation:
    """Something the log cannot show was done. `written` is its text, or a function that writes it when first
    asked for (`text`): the simulation counts obligations and never reads them."""

    rule: str
    written: str | Callable[[], str]
    due: datetime | None = None

    @property
    def text(self) -> str:
        if not isinstance(self.written, str):
            self.written = self.written()
        return self.written

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Obligation):
            return NotImplemented
        return (self.rule, self.text, self.due) == (other.rule, other.text, other.due)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq is

    def __repr__(self) -> str:
        return f"Obligation(rule={self.rule!r}, text={self.text!r}, due={self.due!r})"

    def __reduce__(self) -> tuple[type[Obligation], tuple[object, ...]]:
        """Pickled with its text written (a function that writes it may not pickle)."""
        return Obligation, (self.rule, self.text, self.due)

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "text": self.text, **({"due": _iso(self.due)} if self.due else {})}


def _iso(at: datetime | None) -> str | None:
    return to_local(at).isoformat() if at else None


@dataclass
class Expectation:
    """Something a rule waits for; filled in when a matching event arrives, even late."""

    matches: Callable[[Event], bool] | None  # None: any event of `kinds`
    kinds: tuple[str, ...] | None = None
    violation: Violation | None = None
    met_by: Event | None = None


@dataclass
class Episode:
    """Everything known about one admission, in arrival order."""

    name: str
    events: list[Event] = field(default_factory=list)
    by_id: dict[str, Event] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    inquiries: list[dict[str, object]] = field(default_factory=list)
    tax: TaxResult | None = None  # TAX-1..5, once the episode is closed with a ready time and a discharge
    responsibility_until: datetime | None = None  # R72-1: end of the 72-hour responsibility; None: does not apply
    responsibility_reason: str | None = None  # R72-1: why it does not apply, once the episode is closed
    acks_due_same_day: int = 0  # ACK-1: care plans held to the same-day acknowledgement deadline
    by_kind: dict[str, list[Event]] = field(default_factory=dict)  # arrival order within each kind
    ready: Event | None = None  # the latest ready time, by (at, seq): RULES.md "Ready time" (see `facts.latest_ready`)

    def add(self, event: Event) -> None:
        self.events.append(event)
        kind = event.kind
        same = self.by_kind.get(kind)
        if same is None:
            self.by_kind[kind] = [event]
        else:
            same.append(event)
        if kind == "ready_for_discharge":  # kept here: four rules ask for it in every episode
            ready = self.ready
            if ready is None or (event.at, event.seq) > (ready.at, ready.seq):
                self.ready = event
        name = event.data.get("id")
        if name and name not in self.by_id:
            self.by_id[name] = event

    def of(self, kind: str) -> list[Event]:
        return self.by_kind.get(kind, [])

    def first(self, kind: str) -> Event | None:
        found = self.by_kind.get(kind)
        return found[0] if found else None

    def last(self, kind: str) -> Event | None:
        found = self.by_kind.get(kind)
        return found[-1] if found else None


class _Revision:
    """What was scheduled and reported for one version of a fact (see `Context.revision`)."""

    __slots__ = ("withdrawn", "reported")

    def __init__(self) -> None:
        self.withdrawn = False
        self.reported: list[Violation | Obligation | Expectation] = []


class _RevisionBlock:
    """The `with` block of `Context.revision` (a class, not a generator: it runs for every ready time)."""

    __slots__ = ("ctx", "revision", "outer")

    def __init__(self, ctx: Context, revision: _Revision) -> None:
        self.ctx, self.revision = ctx, revision
        self.outer: _Revision | None = None

    def __enter__(self) -> None:
        self.outer, self.ctx._revision = self.ctx._revision, self.revision

    def __exit__(self, *exc: object) -> None:
        self.ctx._revision = self.outer


class Context:
    """What a rule may use: the policy, the calendar, the clock, and ways to report and to wait."""

    def __init__(self, engine: Engine, episode: Episode) -> None:
        self.engine, self.episode = engine, episode
        self.policy: Policy = engine.policy
        self.calendar: BusinessCalendar = engine.calendar
        self._revisions: dict[str, _Revision] = {}
        self._revision: _Revision | None = None  # the one whose block or check is running

    @property
    def now(self) -> datetime:
        return self.engine.instant(self.engine.env.now)

    @property
    def log_has_phone_calls(self) -> bool:
        return self.engine.log_has_phone_calls

    @property
    def log_has_receipts(self) -> bool:
        return self.engine.log_has_receipts

    def violation(self, rule: str, severity: Severity | str, text: str, *, due: datetime | None = None,
                  actual: datetime | None = None, events: Iterable[Event] = ()) -> Violation:
        found = Violation(rule, SEVERITY_OF[severity], due, actual, [e.id for e in events if e.id], text)
        self.episode.violations.append(found)
        self._note(found)
        return found

    def obligation(self, rule: str, text: str | Callable[[], str], due: datetime | None = None) -> None:
        found = Obligation(rule, text, due)
        self.episode.obligations.append(found)
        self._note(found)

    def patient_episodes(self) -> list[Episode]:
        """The engine's other episodes of this episode's patient (same CPR), in the order they were admitted."""
        key = _patient_key(self.episode)
        return [self.engine.episodes[name] for name in self.engine.patients.get(key, ())
                if name != self.episode.name] if key else []

    def at(self, when: datetime, check: Callable[[], None]) -> None:
        """Run `check` at `when` (at once if that has passed), after every arrival at that instant."""
        self._schedule(when, check)

    def revision(self, key: str) -> _RevisionBlock:
        """What the block schedules (`at`, `expect`), and what those checks report when they run, stand for
        one version of a fact, e.g. the ready time. The next block with the same `key` supersedes it: checks
        not yet run are cancelled, and what the earlier ones reported is withdrawn."""
        old = self._revisions.get(key)
        if old is not None:
            self._withdraw(old)
        current = self._revisions[key] = _Revision()
        return _RevisionBlock(self, current)

    def _withdraw(self, revision: _Revision) -> None:
        revision.withdrawn = True
        gone = {id(item) for item in revision.reported}
        ep = self.episode
        ep.violations[:] = [v for v in ep.violations if id(v) not in gone]
        ep.obligations[:] = [o for o in ep.obligations if id(o) not in gone]
        ep.expectations[:] = [x for x in ep.expectations if id(x) not in gone]

    def _note(self, item: Violation | Obligation | Expectation) -> None:
        if self._revision is not None:
            self._revision.reported.append(item)

    def _schedule(self, when: datetime, check: Callable[[], None]) -> None:
        revision = self._revision
        if revision is None:
            self.engine.schedule(when, check)
            return

        def run() -> None:  # inside its revision, unless a later one superseded it
            if revision.withdrawn:
                return
            outer, self._revision = self._revision, revision
            try:
                check()
            finally:
                self._revision = outer

        self.engine.schedule(when, run)

    def expect(self, rule: str, severity: Severity | str, due: datetime, text: str | Callable[[], str], *,
               matches: Callable[[Event], bool] | None = None, kinds: Iterable[str] | None = None,
               about: Iterable[Event] = (), late: str = "came after the deadline",
               on_missing: Callable[[], None] | None = None) -> None:
        """Expect an event of one of `kinds` (any kind if None) that `matches` (any, if no matcher is given)
        at or before `due`. If none has come by then, a violation is recorded (or `on_missing` runs instead);
        a matching event that comes later fills in `actual` and its id. `text` may be a function that
        writes the violation's text: most expectations are met, and their text is never needed.

        An expectation already met when it is made needs no check: an episode's events are only ever added to,
        and a match stays a match (the matchers of the rules look at the event and at what came before it)."""
        pending = _Pending(self, rule, severity, due.astimezone(UTC), matches, text,
                           tuple(kinds) if kinds is not None else None, about, late, on_missing)
        if not pending.met():
            self._schedule(pending.due, pending.check)


class _Pending:
    """One expectation waiting for its deadline (see `Context.expect`). Deadlines are held in UTC, like the
    events: comparing like with like is several times faster than across time zones."""

    __slots__ = ("ctx", "rule", "severity", "due", "matches", "text", "kinds", "about", "late", "on_missing")

    def __init__(self, ctx: Context, rule: str, severity: str, due: datetime, matches: Callable[[Event], bool] | None,
                 text: str | Callable[[], str], kinds: tuple[str, ...] | None, about: Iterable[Event], late: str,
                 on_missing: Callable[[], None] | None) -> None:
        self.ctx, self.rule, self.severity, self.due, self.matches = ctx, rule, severity, due, matches
        self.text, self.kinds, self.about, self.late, self.on_missing = text, kinds, about, late, on_missing

    def candidates(self) -> Iterable[Event]:
        episode = self.ctx.episode
        if self.kinds is None:
            return episode.events
        if len(self.kinds) == 1:
            return episode.of(self.kinds[0])
        return sorted((e for k in self.kinds for e in episode.of(k)), key=lambda e: e.seq)

    def met(self) -> bool:
        """A matching event at or before the deadline is known (in any order: no need to sort the kinds)."""
        matches, due, episode = self.matches, self.due, self.ctx.episode
        if self.kinds is None:
            return any(e.at <= due and (matches is None or matches(e)) for e in episode.events)
        by_kind = episode.by_kind
        for kind in self.kinds:  # asked at the expectation and at its deadline: a loop, no generator of lists
            for e in by_kind.get(kind, ()):
                if e.at <= due and (matches is None or matches(e)):
                    return True
        return False

    def check(self) -> None:
        if self.met():
            return
        matches, due = self.matches, self.due
        if self.on_missing is not None:
            self.on_missing()
            return
        expectation = Expectation(matches, self.kinds)
        text = self.text if isinstance(self.text, str) else self.text()
        expectation.violation = self.ctx.violation(self.rule, self.severity, text, due=due, events=self.about)
        self.ctx.episode.expectations.append(expectation)
        self.ctx._note(expectation)
        late_event = next((e for e in self.candidates() if matches is None or matches(e)), None)
        if late_event is not None:
            _fill(expectation, late_event, self.late)


def _patient_key(episode: Episode) -> str | None:
    """The patient an episode is about: the CPR number of its (first) admission, without a hyphen."""
    admitted = episode.first("admitted")
    return patient_key(admitted.data.get("cpr")) if admitted is not None else None


def _fill(expectation: Expectation, event: Event, late: str) -> None:
    expectation.met_by = event
    if expectation.violation is not None:
        expectation.violation.actual = event.at
        if event.id:
            expectation.violation.message_ids.append(event.id)
        expectation.violation.text += f" ({late})"
        expectation.violation.code = "late"


class Rule:
    """A rule of RULES.md. Subclasses set `id`, the event `kinds` their `on_event` looks at (None: every
    kind), and override the hooks they need."""

    id: str = ""
    kinds: frozenset[str] | None = frozenset()
    needs_receipts = False  # True: the rule judges nothing where the log holds no receipts (not dispatched there)

    def on_event(self, ctx: Context, event: Event) -> None:
        """Called after `event` joined its episode."""

    def on_close(self, ctx: Context) -> None:
        """Called once after the whole log, with the episode complete."""


class Engine:
    """Runs events through the rules in time order; replay feeds it a log, the simulation feeds it live.

    `deliver` hands one event to its episode at the current clock and applies the rules; `close_episode`
    runs the end-of-episode rules. Replay (`run`) delivers a log's events from one feeding process at their
    instants; the simulation's hospital and municipality processes call `deliver` themselves (through the
    simulation) and `close_episode` when an episode is done. `advance` runs the clock until nothing is left.
    """

    def __init__(self, policy: Policy, rules: Iterable[Rule], *, log_has_phone_calls: bool = True,
                 log_has_receipts: bool = True, origin: datetime | None = None) -> None:
        self.policy = policy
        self.calendar = policy.business_calendar
        self.rules = list(rules)
        self._dispatch: dict[str, list[Rule]] = {}
        self._for_all = [r for r in self.rules if r.kinds is None]
        self._closing = [r for r in self.rules if type(r).on_close is not Rule.on_close]
        self.log_has_phone_calls = log_has_phone_calls
        self.log_has_receipts = log_has_receipts
        self.env = simpy.Environment()
        self.origin = origin.astimezone(UTC) if origin else None
        self.episodes: dict[str, Episode] = {}
        self.patients: dict[str, list[str]] = {}  # CPR -> names of the patient's episodes, in order of admission
        self._contexts: dict[str, Context] = {}
        self._deadlines: dict[float, Deadline] = {}  # by clock reading: the checks not yet run (see `Deadline`)
        self._steps = 0  # SimPy events processed

    def instant(self, now: float) -> datetime:
        """The instant (UTC) of an engine clock reading; `clock`'s inverse."""
        assert self.origin is not None  # set before the clock runs
        return self.origin + timedelta(0, now)

    def clock(self, at: datetime) -> float:
        """The engine clock's reading (seconds since the origin) for an instant in UTC; `instant`'s inverse."""
        assert self.origin is not None
        return (at - self.origin).total_seconds()

    def schedule(self, when: datetime, callback: Callable[[], None]) -> None:
        """Call `callback` at `when` (at once if that has passed), after every arrival at that instant."""
        if when.tzinfo is not UTC:
            when = when.astimezone(UTC)  # then the difference is plain arithmetic, no zone look-ups
        env = self.env
        delay = max(0.0, (when - self.origin).total_seconds() - env.now)  # type: ignore[operator]
        deadline = self._deadlines.get(env.now + delay)
        if deadline is None:
            deadline = Deadline(env, delay, self._deadlines)
        deadline.checks.append(callback)

    @property
    def log_has_receipts(self) -> bool:
        return self._log_has_receipts

    @log_has_receipts.setter
    def log_has_receipts(self, value: bool) -> None:
        self._log_has_receipts = value
        self._dispatch = {}  # the rules that need receipts join or leave the table

    def _rules_for(self, kind: str) -> list[Rule]:
        rules = self._dispatch.get(kind)
        if rules is None:
            rules = self._dispatch[kind] = [r for r in self.rules if r.kinds is not None and kind in r.kinds
                                            and (self._log_has_receipts or not r.needs_receipts)] + self._for_all
        return rules

    def open_episode(self, name: str, *, judged: bool = True) -> Episode:
        """The episode `name`, opened if it is new. `judged=False` opens one whose findings nobody will read (the
        simulation's warm-up and cool-down): its events join it and other episodes' rules may read them (LEAVE-1),
        but no rule runs on it; it has no `Context`."""
        episode = self.episodes.get(name)
        if episode is None:
            episode = self.episodes[name] = Episode(name)
            if judged:
                self._contexts[name] = Context(self, episode)
        return episode

    def deliver(self, event: Event) -> None:
        """`event` happens now (its `at` is the clock's instant, in UTC): it joins its episode, fills what
        was waiting for it, and the rules that look at its kind run."""
        kind = event.kind
        ctx = self._contexts.get(event.episode)
        episode = ctx.episode if ctx is not None else self.episodes.get(event.episode)  # (no context: not judged)
        if episode is None:
            episode = self.open_episode(event.episode)
            ctx = self._contexts[event.episode]
        episode.add(event)
        if kind == "admitted":
            self._index_patient(episode)
        if ctx is None:
            return  # kept, not judged
        for expectation in episode.expectations:
            if expectation.met_by is None and (expectation.kinds is None or kind in expectation.kinds) \
                    and (expectation.matches is None or expectation.matches(event)):
                _fill(expectation, event, "came after the deadline")
        rules = self._dispatch.get(kind)
        for rule in self._rules_for(kind) if rules is None else rules:
            rule.on_event(ctx, event)

    def close_episode(self, name: str) -> Episode:
        """Run the end-of-episode rules (once the episode is complete and its deadlines have passed)."""
        ctx = self._contexts.get(name)
        if ctx is None:
            return self.episodes[name]  # not judged (`open_episode`)
        for expectation in ctx.episode.expectations:
            if expectation.met_by is None and expectation.violation is not None:
                expectation.violation.text += " (none came)"
                expectation.violation.code = "missing"
        for rule in self._closing:
            rule.on_close(ctx)
        return ctx.episode

    def _index_patient(self, episode: Episode) -> None:
        key = _patient_key(episode)
        if key:
            names = self.patients.setdefault(key, [])
            if episode.name not in names:
                names.append(episode.name)

    def forget(self, name: str) -> None:
        """Drop a closed episode (the simulation keeps memory bounded by the open episodes)."""
        key = _patient_key(self.episodes[name])
        if key in self.patients:
            self.patients[key].remove(name)
            if not self.patients[key]:
                del self.patients[key]
        del self.episodes[name]
        self._contexts.pop(name, None)  # an episode not judged has none

    @property
    def processed_events(self) -> int:
        """SimPy events processed so far by `advance`."""
        return self._steps

    def advance(self) -> None:
        """Run the clock until no event is left (SimPy's `Environment.run()`, counting the events).

        On a plain `simpy.Environment` the loop is SimPy's `step` written out here (pop the next event, set the
        clock, run its callbacks, stop on a failure nobody defused): a method call and a try block fewer for
        each of the simulation's million events a region-year. Any other environment (a real-time clock, whose
        step waits for the wall clock) is stepped by its own `step`."""
        env, steps = self.env, 0
        try:
            if type(env) is not simpy.Environment:
                step = env.step
                with contextlib.suppress(simpy.core.EmptySchedule):
                    while True:
                        step()
                        steps += 1
                return
            queue = env._queue
            while queue:
                env._now, _, _, event = heappop(queue)
                callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]  # as SimPy does
                for callback in callbacks:
                    callback(event)
                steps += 1
                if not event._ok and not hasattr(event, "_defused"):
                    raise event._value
        finally:
            self._steps += steps

    def _feed(self, events: list[Event]) -> Generator[simpy.Event, object, None]:
        """Deliver each event at its instant (ties in input order)."""
        env, origin = self.env, self.origin
        for event in events:
            delay = (event.at - origin).total_seconds() - env.now  # type: ignore[operator]  # set by run
            if delay > 0:
                yield env.timeout(delay)
            self.deliver(event)

    def run(self, events: Iterable[Event]) -> dict[str, Episode]:
        """Replay `events` (any order; sorted by time, stable) and close every episode."""
        ordered = list(events)  # iterated twice: a generator would be empty the second time
        for event in ordered:
            event.at = event.at.astimezone(UTC)
        ordered.sort(key=lambda e: (e.at, e.seq))
        if not ordered:
            return {}
        self.origin = self.origin or ordered[0].at
        self.env.process(self._feed(ordered))
        self.advance()
        for name in sorted(self.episodes):
            self.close_episode(name)
        return self.episodes
