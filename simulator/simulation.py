"""One replication of a planner scenario: the simulated hospital and municipality feeding the engine live.

The hospital (`simulator.hospital`) and the municipality (`simulator.municipality`) are SimPy processes that
meet through events; what they send goes through the same `Engine` and rules as a replayed log, at its
instant, so completion tax, violations and the 72-hour window are read from the engine's results, never
recomputed here. Who arrives and every draw that decides what happens to them are made up front
(`simulator.patients`, common random numbers).

Only patients who need municipal help after the discharge are simulated (the care-plan flow); the
scenario's admissions are thinned by `needs_help_share`. Every figure of the agreement comes from the
policy and every behaviour figure from the scenario: this package writes no clock time or delay itself.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, timedelta
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL

from medcom import catalogue
from medcom.calendar import TZ
from medcom.engine.engine import Engine, Episode
from medcom.engine.rules import all_rules
from medcom.events import MESSAGE_EVENTS, Event
from medcom.gc_tuning import batch_gc
from simulator.clock import LocalClock
from simulator.hospital import Hospital
from simulator.municipality import Municipality
from simulator.patients import DAY, Case, Patients, origin, patients, pick, weights
from simulator.scenario import Run, Settings
from simulator.tasks import Stay, Task, Wake

__all__ = ["Metrics", "Simulation", "Stay", "patients"]

SETTLE = 8 * DAY  # after the last event, longer than any deadline a rule sets (next weekday across Easter)


@dataclass
class Metrics:
    """What one replication measured over the episodes admitted inside the horizon."""

    values: dict[str, float] = field(default_factory=dict)
    tax_dkk_by_municipality: dict[str, float] = field(default_factory=dict)
    violations_by_rule: dict[str, int] = field(default_factory=dict)
    discharges_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    tax_days_by_week: list[int] = field(default_factory=list)
    engine_events: int = 0  # SimPy events the run processed (for the benchmark)
    simulated_episodes: int = 0  # with the warm-up's and the cool-down's (for progress lines)


class Happening(simpy.Event):
    """Something the simulation makes happen at a clock time: scheduled as SimPy schedules its own `Timeout`
    (triggered when made, at the normal priority, so in the same order), with the engine told as its first
    callback; a process may wait on it like on a timeout. Most have no process waiting: a plain callback on
    a timeout would cost a closure and a call more for each."""

    def __init__(self, sim: Simulation, delay: float, case: Case, kind: str, data: dict[str, object]) -> None:
        env = self.env = sim.env
        self.callbacks = [_happen]  # a function, not a bound method made for each
        self._value = None
        self._ok = True
        self.sim, self.case, self.kind, self.data = sim, case, kind, data
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))  # `env.schedule`, written out


def _happen(event: simpy.Event) -> None:
    happening: Happening = event  # type: ignore[assignment]  # only Happenings carry this callback
    happening.sim.happen(happening.case, happening.kind, happening.data)


class Arrival(simpy.Event):
    """The admission of `people[index]` at its clock time, scheduled as SimPy schedules a `Timeout` (the same
    order as the arrivals process it replaces, which waited on one timeout after another): it schedules the
    next admission first, then starts the patient's stay at once (see `Stay`)."""

    def __init__(self, sim: Simulation, people: Patients, index: int) -> None:
        env = self.env = sim.env
        self.callbacks = [_arrive]  # a function, not a bound method made for each
        self._value = None
        self._ok = True
        self.sim, self.people, self.index = sim, people, index
        self.patient = people[index]
        delay = max(0.0, self.patient.admitted - env._now)
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))  # `env.schedule`, written out


def _arrive(event: simpy.Event) -> None:
    arrival: Arrival = event  # type: ignore[assignment]  # only Arrivals carry this callback
    sim, people, index, p = arrival.sim, arrival.people, arrival.index, arrival.patient
    if index + 1 < len(people):
        Arrival(sim, people, index + 1)
    name = f"S{sim.replication:02d}-{p.number:06d}"
    municipality = sim.s.admissions.municipalities[pick(sim.cum_municipality, p.draws.municipality)]
    sim.engine.open_episode(name, judged=p.counted)  # the warm-up's and cool-down's findings are never read
    Stay(sim.env, sim.hospital.stay(Case(p, name, municipality, f"{name}-CP", sim.env.event())))


class Simulation:
    """The hospital, the municipality and their patients for one replication of one variant."""

    def __init__(self, run: Run, settings: Settings, replication: int, *, keep_events: bool = False) -> None:
        self.run, self.s, self.replication = run, settings, replication
        self.policy = settings.policy
        self.calendar = self.policy.business_calendar
        # The rules the catalogue says `medcom simulate` reports (not ADM-2, which reports obligations only: the
        # metrics read violations and the tax; not M-RECEIPT: a simulation sends no receipts).
        unsimulated = {info.id for info in catalogue.RULES if "simulate" not in info.commands}
        rules = [r for r in all_rules() if r.id not in unsimulated]
        self.engine = Engine(self.policy, rules, log_has_phone_calls=True, log_has_receipts=False, origin=origin(run))
        self.env = self.engine.env
        self.clock = LocalClock(self.engine.origin, run.start)  # type: ignore[arg-type]  # set just above
        self._origin = self.clock.origin  # an event's instant is the origin plus the clock (`LocalClock.instant`)
        self.keep_events = keep_events
        self.events: list[Event] = []
        self.seq = 0
        self.cum_municipality = np.cumsum(weights(settings.admissions.municipality_weights)).tolist()
        self.metrics = Metrics()
        self._totals: Counter[str] = Counter()
        self._tax_by_municipality: Counter[str] = Counter()
        self._tax_weeks: Counter[int] = Counter()
        self._horizon_start = run.start + timedelta(days=run.warmup_days)
        self._stays: list[tuple[float, float, bool]] = []  # (admitted, discharged, counted) in seconds
        # An episode is measured and forgotten once every deadline of its rules has passed and no planned
        # re-admission can still follow its discharge (LEAVE-1 looks for the patient's earlier episodes).
        self.settle = max(SETTLE, math.ceil(self.policy.leave.readmission_window.total_seconds()))
        self.municipality = Municipality(self)
        self.hospital = Hospital(self)

    # ---- what the actors use -----------------------------------------------------------------------------

    def emit(self, case: Case, kind: str, **data: object) -> Event:
        """`kind` happens now in `case`'s episode: the engine learns it at once."""
        return self.happen(case, kind, data)

    def happen(self, case: Case, kind: str, data: dict[str, object]) -> Event:
        """`emit` with the event's data as a dict."""
        self.seq += 1
        event = Event(self._origin + timedelta(0, self.env._now), case.name, kind, data, self.seq, "simulation")
        self.engine.deliver(event)
        if self.keep_events:
            self.events.append(event)
        return event

    def start(self, generator: Generator[simpy.Event, object, None]) -> simpy.Event:
        """Run `generator` as a SimPy process would (a `Task`): the event of its end."""
        return Task(self.env, generator)

    def until(self, seconds: float) -> simpy.Event:
        """An event at clock `seconds` (now, if that has passed)."""
        return Wake(self.env, max(0.0, seconds - self.env._now))

    def after(self, delay: float) -> simpy.Event:
        """An event `delay` seconds from now (`delay` >= 0)."""
        return Wake(self.env, delay)

    def sending(self, at: float, case: Case, kind: str, **data: object) -> simpy.Event:
        """`kind` is to happen at clock `at` (now, if that has passed): the event of its happening."""
        return Happening(self, max(0.0, at - self.env._now), case, kind, data)

    def send(self, at: float, case: Case, kind: str, **data: object) -> float:
        """`kind` is to happen at clock `at` (now, if that has passed); returns when."""
        Happening(self, max(0.0, at - self.env._now), case, kind, data)
        return at

    # ---- measuring ---------------------------------------------------------------------------------------

    def close(self, case: Case) -> None:
        """Measure the episode (if it is counted) and let it go."""
        name, p = case.name, case.patient
        episode = self.engine.close_episode(name)
        admitted, discharged = episode.first("admitted"), episode.first("discharged")
        if admitted and discharged:
            self._stays.append((self.engine.clock(admitted.at), self.engine.clock(discharged.at), p.counted))
        if p.counted:
            self._measure(episode, case.municipality)
        if not self.keep_events:
            self.engine.forget(name)

    def _measure(self, ep: Episode, municipality: str) -> None:
        t = self._totals
        admitted, ready = ep.first("admitted"), ep.first("ready_for_discharge")
        discharged = ep.first("discharged")
        assert admitted and ready and discharged
        t["episodes"] += 1  # every counted episode runs to its discharge
        t["bed_days"] += (discharged.at - admitted.at).total_seconds() / DAY
        t["bed_days_ready_waiting"] += max(0.0, (discharged.at - ready.at).total_seconds() / DAY)
        t["phone_calls"] += len(ep.of("phone_call"))
        t["municipal_messages"] += sum(1 for e in ep.events if e.kind in MESSAGE_EVENTS and e.from_hospital)
        t["acks_due_same_day"] += ep.acks_due_same_day  # counted by ACK-1 itself
        for v in ep.violations:
            self.metrics.violations_by_rule[v.rule] = self.metrics.violations_by_rule.get(v.rule, 0) + 1
            if v.rule == "ACK-1" and v.due is not None:  # the same-day deadline (not the missing phone call)
                t["acks_late"] += 1
        tax = ep.tax
        if tax is not None:
            t["completion_tax_days"] += tax.days
            t["completion_tax_dkk"] += tax.dkk
            t["disputable_days"] += tax.disputable_days
            self._tax_by_municipality[municipality] += tax.dkk
            for day in tax.counted_dates:
                self._tax_weeks[(date.fromisoformat(day) - self._horizon_start).days // 7] += 1
        self.metrics.discharges_by_hour[discharged.at.astimezone(TZ).hour] += 1

    def execute(self) -> Metrics:
        """Run the replication to the end and return its metrics."""
        with batch_gc():
            people = patients(self.run, self.s, self.replication)
            self.metrics.simulated_episodes = len(people)
            if people:
                Arrival(self, people, 0)
            self.engine.advance()
            return self._finish()

    def _finish(self) -> Metrics:
        t, v = self._totals, self.metrics.violations_by_rule
        counted = t["episodes"]
        values = {
            "episodes": counted, "discharges": counted,
            "completion_tax_days": t["completion_tax_days"], "completion_tax_dkk": t["completion_tax_dkk"],
            "disputable_days": t["disputable_days"], "care_plans_late": v.get("CP-1", 0),
            "phone_calls": t["phone_calls"], "municipal_messages": t["municipal_messages"],
            "acks_same_day_share": (1 - t["acks_late"] / t["acks_due_same_day"]) if t["acks_due_same_day"] else 1.0,
            "bed_days": t["bed_days"], "bed_days_ready_waiting": t["bed_days_ready_waiting"],
        }
        values.update(_littles_law(self.run, self._stays))
        self.metrics.values = values
        self.metrics.tax_dkk_by_municipality = dict(self._tax_by_municipality)
        weeks = max(1, math.ceil(self.run.horizon_days / 7))
        self.metrics.tax_days_by_week = [self._tax_weeks.get(w, 0) for w in range(weeks)]
        self.metrics.engine_events = self.engine.processed_events
        return self.metrics


def _littles_law(run: Run, stays: list[tuple[float, float, bool]]) -> dict[str, float]:
    """Little's law over the horizon: L, the time-average number of patients in hospital (everyone whose stay
    overlaps the horizon), against lambda * W, the arrival rate of counted patients times their mean stay."""
    start = run.warmup_days * DAY
    end = start + run.horizon_days * DAY
    counted = [b - a for a, b, c in stays if c]
    occupancy = sum(max(0.0, min(b, end) - max(a, start)) for a, b, _ in stays) / (end - start)
    rate = len(counted) / (end - start)
    return {"occupancy_mean": occupancy,
            "arrival_rate_x_mean_stay": rate * (sum(counted) / len(counted)) if counted else 0.0}
