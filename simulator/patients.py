"""Who comes in, when, and the random numbers that decide what happens to each of them.

Arrivals and every per-patient draw are made up front from the replication's own random streams (numpy),
one named draw per decision, so that variants of a scenario see the same patients with the same stays and
the same behaviour draws (common random numbers): a variant changes what happens to them, not who they are.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

import numpy as np
import simpy

from medcom.calendar import at_local
from simulator.clock import LocalClock
from simulator.scenario import Run, Settings, Stay

MINUTE, HOUR, DAY = 60, 3600, 86400  # seconds


class Draws(NamedTuple):
    """One patient's uniform draws in [0, 1), one per decision (the order is that of the random stream)."""

    municipality: float  # where the patient lives
    somatic: float  # admitted to a somatic ward (R72-1)
    ready_hour: float  # hour of the day the patient is declared ready
    ready_minute: float
    destination: float  # where the patient goes at the discharge
    plan_late: float  # the care plan goes out after its deadline
    plan_when: float  # how long before (or after) the deadline
    phone: float  # the hospital phones about a late care plan
    notice: float  # a completion notice is sent when due
    conference: float  # a discharge conference is needed
    conference_days: float  # weekdays until the conference
    terminal: float  # terminal, wishes to stay
    terminal_days: float
    guardianship: float  # a guardianship case
    guardianship_days: float
    question: float  # the municipality asks about the care plan
    answer: float  # how long the hospital takes to answer
    ack: float  # how long the municipality takes to acknowledge
    reception_spread: float  # where in the first hours of the window the reception falls
    report_late: float  # the discharge report comes late
    report_delay: float
    advice: float  # the admission advice's delay, and the discharge advice's
    must_act: float  # the municipality must act before the next weekday (a late report is phoned through)
    admission_report: float  # the municipality's admission report's delay
    cpr: float  # the citizen's birth year and serial digit
    notice_delay: float  # the completion notice after the ready time


DRAWS = len(Draws._fields)


@dataclass(slots=True)
class Patient:
    number: int
    admitted: int  # seconds since the origin
    stay_hours: float
    draws: Draws
    counted: bool


@dataclass(slots=True)
class Case:
    """One patient's episode as the hospital and the municipality share it."""

    patient: Patient
    name: str
    municipality: str
    plan_id: str
    agreed: simpy.Event  # the municipality's booking: the agreed discharge (clock seconds), when the plan arrives


def weights(values: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def pick(cumulative: list[float], u: float) -> int:
    """The index whose cumulative share first exceeds `u` (inverse transform of a discrete distribution)."""
    return min(bisect_right(cumulative, u), len(cumulative) - 1)


def minutes(span: tuple[float, ...], u: float) -> int:
    """A whole number of minutes drawn uniformly from a scenario range [from, to], inclusive, in seconds."""
    low, high = span
    return int(low + u * (high - low + 1)) * MINUTE


def exponential(mean: float, u: float) -> float:
    """An exponential draw with this mean (in the mean's unit) by inverse transform of `u`."""
    return -mean * math.log(1 - u)


def origin(run: Run) -> datetime:
    """The simulation clock's zero: local midnight of the run's first day, in UTC."""
    return at_local(run.start, time(0)).astimezone(UTC)


class Patients:
    """Who arrives in one replication, in order of admission: each `Patient` made with its draws when asked for
    (held as numpy rows until then). Made up front as Python objects, a region-year's 67,000 patients with their
    26 draws each held about 60 MB from the start to the end of the replication, in every worker."""

    def __init__(self, arrived: list[tuple[int, bool]], z: list[float], u: np.ndarray, stay: Stay) -> None:
        self._arrived, self._z, self._u = arrived, z, u
        self._median, self._sigma = stay.ready_after_median_hours, stay.ready_after_sigma

    def __len__(self) -> int:
        return len(self._arrived)

    def __getitem__(self, number: int) -> Patient:
        admitted, counted = self._arrived[number]
        return Patient(number, admitted, self._median * math.exp(self._sigma * self._z[number]),
                       Draws._make(self._u[number].tolist()), counted)

    def __iter__(self) -> Iterator[Patient]:
        return map(self.__getitem__, range(len(self._arrived)))


def patients(run: Run, settings: Settings, replication: int) -> Patients:
    """Arrivals and draws for one replication; depends on the run, the admission settings and the seed only."""
    a = settings.admissions
    arrivals = np.random.default_rng([run.seed, replication, 1])
    draws = np.random.default_rng([run.seed, replication, 2])
    days = run.warmup_days + run.horizon_days + run.cooldown_days
    weekday = weights(a.weekday_weights) * 7
    hours = weights(a.hour_weights)
    cum_hours = np.cumsum(hours)
    clock = LocalClock(origin(run), run.start)
    arrived: list[tuple[int, bool]] = []  # (admitted, counted): the draws follow once everyone is known
    rate = a.per_day * a.needs_help_share
    for d in range(days):
        day = run.start + timedelta(days=d)
        mean = rate * weekday[day.weekday()]
        if a.process == "fixed":
            n = int(round(mean))
            clocks = [float(np.searchsorted(cum_hours, (k + 0.5) / n)) * HOUR for k in range(n)] if n else []
        else:
            n = int(arrivals.poisson(mean))
            chosen = arrivals.choice(24, size=n, p=hours)
            clocks = list(chosen * HOUR + arrivals.random(n) * HOUR)
        counted = run.warmup_days <= d < run.warmup_days + run.horizon_days
        for seconds in sorted(clocks):
            after, within = divmod(int(seconds), DAY)  # a fixed arrival may round to the next midnight
            arrived.append((clock.on_clock(day + timedelta(days=after), within), counted))
    z = draws.standard_normal(len(arrived)).tolist()
    return Patients(arrived, z, draws.random((len(arrived), DRAWS)), settings.stay)
