"""Fit a planner scenario to what a replayed message log shows (`medcom calibrate`).

The log is replayed first (the command line does that, with the format adapters and the engine replay uses),
and every key of the scenario is then read from the episodes' events where the log can show it, or copied
from a base scenario where it cannot. Each key of the written file says which: `FITTED from LOG (n = ...)`
with how it was read, or `ASSUMPTION (from BASE)`.

Each key (or the few keys one model shares) has an estimator registered in `ESTIMATORS`, run in the table's
order; an estimator reads the stays and the keys fitted before it. How the keys are read, in the scenario's own
model (simulator/simulation.py):

- Admissions: a day's mean from the admissions over the days the log spans, by weekday (each weekday's
  admissions over the number of such days) and by local hour; the municipality from the admission's
  receiver; the share needing municipal help is the share of episodes with a care plan (plejeforløbsplan): a
  hospital sends one only for a citizen who needs help after the discharge. A log holding only such citizens'
  messages reads 100 %, and `per_day` then counts only them: their product, the rate the simulation uses,
  is right either way.
- Time from admission to ready: the model draws a log-normal stay, takes the local day it ends on, and puts
  the ready time at an hour of its own (`ready_hour_weights`). A log therefore shows the log-normal only to
  the day: each episode gives an interval (from the ready day's midnight to the next, less the admission), and
  the log-normal is fitted to those intervals by maximum likelihood (scipy, censored data). Its goodness of
  fit is a two-sample Kolmogorov-Smirnov test of the observed admission-to-ready hours against the same
  hours drawn from the fitted model for the same admissions.
- Delays drawn from a range `[a, b]` of whole minutes: the shortest and longest seen. Exponential means: the
  mean seen (with the acknowledgements capped by the discharge counted as censored). Lower bounds (the
  earliest a discharge can follow a care plan, a conference, ...): the shortest seen. Shares: the share among
  the episodes the model draws them for (late care plans among those that could have been on time, phone
  calls among late plans, notices among stays that passed a midnight after the ready time, ...).
- The discharge window as practised: the earliest and latest discharge clock times (1st and 99th
  percentile), to the quarter hour; the spread at the window's opening from patients who could have gone
  before it opened. Weekend and holiday reception: whether anyone went home on such a day when someone
  ready was waiting.
- What a log cannot show (reception capacity, the arrival process, the run's replications, the policy in
  force unless `--policy` gave it) is copied from the base.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, NamedTuple, Protocol

import numpy as np
import tomlkit

from medcom.calendar import BusinessCalendar, at_local, local_date, to_local
from medcom.engine.engine import Episode
from medcom.engine.rules import care_plan_due
from medcom.engine.rules.facts import latest_ready
from medcom.events import Event
from medcom.identifiers import ascii_digits, check_municipality
from medcom.policy import Policy
from simulator.scenario import DESTINATIONS, limits_of

GOF_DRAWS = 20  # model draws per observed episode for the goodness-of-fit test
GOF_SEED = 20240101
QUARTER = 60 // 4  # minutes: clock times of the window and the office are read to the quarter hour
TABLE_ORDER = ("run", "admissions", "stay", "hospital", "municipality", "policy", "costs", "variants")


class CalibrationError(ValueError):
    """A log that cannot be fitted at all (no admitted episode)."""


@dataclass
class Key:
    """One key of the fitted scenario: its value and how it was had."""

    value: Any
    fitted: bool
    n: int | None = None
    how: str = ""  # for a fitted key: how it was read; for an assumed one: why the log cannot show it

    def comment(self, log: str, base: str) -> str:
        if self.fitted and self.n is None:
            return self.how
        if self.fitted:
            return f"FITTED from {log} (n = {self.n}): {self.how}".rstrip(": ")
        return f"ASSUMPTION (from {base})" + (f": {self.how}" if self.how else "")


@dataclass
class Calibration:
    log: str
    base: str
    keys: dict[str, dict[str, Key]] = field(default_factory=dict)  # table -> key -> Key, in the file's order
    copied: dict[str, Any] = field(default_factory=dict)  # tables copied whole: policy, costs, variants
    policy_source: str = ""  # where [policy] comes from
    goodness_of_fit: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def fitted(self) -> list[str]:
        return [f"{t}.{k}" for t, keys in self.keys.items() for k, v in keys.items() if v.fitted and v.n is not None]

    def assumed(self) -> list[str]:
        return [f"{t}.{k}" for t, keys in self.keys.items() for k, v in keys.items() if not v.fitted]

    def as_dict(self) -> dict[str, Any]:
        return {"log": self.log, "base": self.base,
                "fitted": {f"{t}.{k}": {"value": _plain(v.value), "n": v.n, "how": v.how}
                           for t, keys in self.keys.items() for k, v in keys.items() if v.fitted and v.n is not None},
                "assumed": {f"{t}.{k}": {"value": _plain(v.value), "why": v.how}
                            for t, keys in self.keys.items() for k, v in keys.items() if not v.fitted},
                "copied_tables": sorted(self.copied), "policy": self.policy_source,
                "goodness_of_fit": self.goodness_of_fit, "notes": self.notes}


def _plain(value: Any) -> Any:
    if isinstance(value, time | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# ---- the facts of one episode ------------------------------------------------------------------------------
# A replayed partition gives each stay as a `StayRow`: the few instants the estimators read (each the first event
# of its kind as they ask for it), three spans, flags and two codes; never its events, CPR number or messages.
# The parent keeps the rows in a `StayTable` of arrays (about 150 bytes a stay) and the estimators read them
# through `Stay` views: a log of millions of messages fits in the memory of its stays' numbers.

NO_TIME = -(2**63)  # an instant the stay does not have
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
INSTANTS = (
    "admitted",  # the latest corrected admission (CONTRACT.md)
    "ready",  # the ready time as the rules read it (latest_ready)
    "discharged",
    "plan",  # the first care plan
    "ack",  # the first acknowledgement of a care plan
    "question",  # the municipality's first correspondence at or after the acknowledgement, before the discharge
    "answer",  # the hospital's first correspondence at or after that question
    "admission_report",
    "report",  # the first discharge report
    "call_after_plan",  # the hospital's first phone call at or after the care plan, before the discharge
    "call_after_report",  # the hospital's first phone call at or after the discharge report
    "notice",  # the first completion notice
    "conference",
    "guardianship",
)
_FIRSTS = {"ack": "care_plan_ack_sent", "admission_report": "admission_report_sent",
           "report": "discharge_report_sent", "notice": "completion_notice_sent", "conference": "conference_ready",
           "guardianship": "guardianship_info_sent"}
# the message delays read as the span between two events: key -> (first event, then, what)
_DELAYS = {"hospital.admission_advice_minutes": ("admitted", "admission_advice_sent", "admission -> advice"),
           "hospital.discharge_advice_minutes": ("discharged", "discharge_advice_sent", "discharge -> advice"),
           "municipality.admission_report_minutes": ("admission_advice_sent", "admission_report_sent",
                                                     "admission advice -> report")}
SOMATIC, NOT_SOMATIC, TERMINAL, TERMINAL_STAYING, PHONE_CALLS = 1, 2, 4, 8, 16  # bits of StayRow.flags


class StayRow(NamedTuple):
    """What calibration reads from one replayed episode: picklable, small, and free of personal data."""

    name: str  # the episode's (the rows of a partitioned replay are merged in name order)
    times: tuple[int, ...]  # microseconds since the epoch of each of INSTANTS (NO_TIME: not in the log)
    spans: tuple[float, ...]  # minutes of each of _DELAYS (nan: not in the log)
    flags: int  # SOMATIC | NOT_SOMATIC | TERMINAL | ...
    municipality: str | None
    destination: str | None


def _micros(at: datetime | None) -> int:
    return NO_TIME if at is None else (at - _EPOCH) // _MICROSECOND


def stay_row(ep: Episode) -> StayRow | None:
    """The row of an episode; None when it has no admission."""
    admitted = ep.last("admitted")  # the latest corrected admission (CONTRACT.md)
    if admitted is None:
        return None
    events = sorted(ep.events, key=lambda e: (e.at, e.seq))

    def first(kind: str, after: Event | None = None, where: Callable[[Event], bool] | None = None,
              before: datetime | None = None) -> Event | None:
        """The first `kind` event at or after `after`, before `before` (not at it), that `where` accepts."""
        return next((e for e in events if e.kind == kind and (after is None or e.at >= after.at)
                     and (before is None or e.at < before) and (where is None or where(e))), None)

    discharged, ready, plan = ep.first("discharged"), latest_ready(ep), ep.first("care_plan_sent")
    end = discharged.at if discharged else None
    found: dict[str, Event | None] = {key: first(kind) for key, kind in _FIRSTS.items()}
    found.update(admitted=admitted, ready=ready, discharged=discharged, plan=plan)
    found["question"] = first("correspondence_sent", found["ack"], _by_municipality, end) if found["ack"] else None
    found["answer"] = first("correspondence_sent", found["question"], _by_hospital) if found["question"] else None
    found["call_after_plan"] = first("phone_call", plan, _by_hospital, end) if plan else None
    found["call_after_report"] = first("phone_call", found["report"], _by_hospital) if found["report"] else None
    spans = []
    for start_kind, then_kind, _ in _DELAYS.values():
        start = first(start_kind)
        then = first(then_kind, start) if start is not None else None
        spans.append(_minutes(start.at, then.at) if start is not None and then is not None else math.nan)
    somatic = admitted.data.get("somatic")
    flags = (SOMATIC if somatic is True else NOT_SOMATIC if somatic is False else 0) \
        | (TERMINAL if first("terminal") else 0) \
        | (TERMINAL_STAYING if first("terminal", where=lambda e: bool(e.data.get("wishes_to_stay"))) else 0) \
        | (PHONE_CALLS if any(e.kind == "phone_call" for e in events) else 0)
    return StayRow(ep.name, tuple(_micros(e.at if e is not None else None) for e in map(found.get, INSTANTS)),
                   tuple(spans), flags, _code(admitted.data.get("municipality")),
                   _destination(discharged.data.get("destination")) if discharged else None)


def stay_rows(episodes: Iterable[Episode]) -> list[StayRow]:
    return [row for ep in episodes if (row := stay_row(ep)) is not None]


class StayTable:
    """The rows of a log's stays as arrays, in the order given (name order); read through `Stay` views."""

    def __init__(self) -> None:
        self.times = {key: array("q") for key in INSTANTS}
        self.spans = {key: array("d") for key in _DELAYS}
        self.flags = array("B")
        self.codes: dict[str | None, int] = {}  # municipality and destination codes, each once, numbered
        self.code_of: list[str | None] = []  # and by number
        self.municipality, self.destination = array("I"), array("I")
        self.has_calls = False  # whether the log has phone calls at all (only a side-car tells them)

    @classmethod
    def of(cls, rows: Iterable[StayRow]) -> StayTable:
        table = cls()
        for row in rows:
            table.add(row)
        return table

    def add(self, row: StayRow) -> None:
        for column, value in zip(self.times.values(), row.times, strict=True):
            column.append(value)
        for span, minutes in zip(self.spans.values(), row.spans, strict=True):
            span.append(minutes)
        self.flags.append(row.flags)
        self.municipality.append(self._number(row.municipality))
        self.destination.append(self._number(row.destination))
        self.has_calls |= bool(row.flags & PHONE_CALLS)

    def __len__(self) -> int:
        return len(self.flags)

    def __iter__(self) -> Iterator[Stay]:
        return (Stay(self, i) for i in range(len(self.flags)))

    def _number(self, code: str | None) -> int:
        if code not in self.codes:
            self.codes[code] = len(self.code_of)
            self.code_of.append(code)
        return self.codes[code]


def _instant(key: str) -> Any:
    def read(self: Stay) -> datetime | None:
        micros = self.table.times[key][self.row]
        return None if micros == NO_TIME else _EPOCH + micros * _MICROSECOND

    return property(read, doc=f"the stay's {key} (aware, UTC; None: not in the log)")


class Stay:
    """One stay of a `StayTable`, read as the estimators ask (instants aware; None: not in the log)."""

    __slots__ = ("table", "row")

    def __init__(self, table: StayTable, row: int) -> None:
        self.table, self.row = table, row

    admitted, ready, discharged, plan = _instant("admitted"), _instant("ready"), _instant("discharged"), \
        _instant("plan")
    ack, question, answer = _instant("ack"), _instant("question"), _instant("answer")
    admission_report, report, notice = _instant("admission_report"), _instant("report"), _instant("notice")
    call_after_plan, call_after_report = _instant("call_after_plan"), _instant("call_after_report")
    conference, guardianship = _instant("conference"), _instant("guardianship")

    def span(self, key: str) -> float | None:
        """The minutes of one of _DELAYS; None when the log does not show both events."""
        minutes = self.table.spans[key][self.row]
        return None if math.isnan(minutes) else minutes

    @property
    def somatic(self) -> bool | None:
        flags = self.table.flags[self.row]
        return True if flags & SOMATIC else False if flags & NOT_SOMATIC else None

    @property
    def terminal(self) -> bool:
        return bool(self.table.flags[self.row] & TERMINAL)

    @property
    def terminal_staying(self) -> bool:
        """Declared terminal, wishing to stay."""
        return bool(self.table.flags[self.row] & TERMINAL_STAYING)

    @property
    def municipality(self) -> str | None:
        return self.table.code_of[self.table.municipality[self.row]]

    @property
    def destination(self) -> str | None:
        return self.table.code_of[self.table.destination[self.row]]


def _by_hospital(e: Event) -> bool:
    return e.from_hospital


def _by_municipality(e: Event) -> bool:
    return e.from_municipality


def _destination(value: object) -> str | None:
    """Where a discharge says the patient went, if it says it in words (DESTINATIONS are words)."""
    return value if isinstance(value, str) else None


def _code(value: object) -> str | None:
    """The municipality an admission names, as the log writes it (stripped); None when it names none."""
    text = str(value).strip() if value is not None else ""
    return text.lstrip("0") or None if ascii_digits(text) else None


# ---- small readers -----------------------------------------------------------------------------------------

def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def _clock_minutes(at: datetime) -> float:
    local = to_local(at)
    return local.hour * 60 + local.minute + local.second / 60


def _clock(minutes: float) -> time:
    """Minutes after midnight as a clock time (within the day)."""
    within = max(0, min(int(minutes), 24 * 60 - 1))
    return (datetime.min + timedelta(minutes=within)).time()


def _span(values: list[float]) -> list[int]:
    return [math.floor(min(values)), math.floor(max(values))]


def _round(x: float, places: int = 3) -> float:
    return float(round(x, places))


def _floor(x: float, places: int = 2) -> float:
    """`x` rounded down to `places` decimals (a lower bound stays a lower bound)."""
    scale = 10 ** places
    return math.floor(x * scale) / scale


def _share(hits: int, of: int) -> float:
    return _round(hits / of, 4)


# ---- the fit: one estimator per scenario key, in a table ----------------------------------------------------

@dataclass
class _PlanTiming:
    """Care plans against their CP-1 deadline and the phone calls after them (read once, for four keys)."""

    late: int = 0  # late among those that could have been on time
    avoidable: int = 0  # could have been on time (the deadline after the admission report plus the gap)
    leads: list[float] = field(default_factory=list)  # hours an on-time plan came before its deadline
    needs_call: int = 0  # late, or after the acknowledgement cutoff
    calls_after: list[float] = field(default_factory=list)  # minutes from such a plan to the hospital's call


class _Fit:
    """What the estimators read (the stays, the policy, the base) and what they have fitted so far."""

    def __init__(self, found: StayTable, policy: Policy, base: dict[str, Any], log: str, base_name: str,
                 name: str) -> None:
        self.stays, self.policy, self.base, self.name = found, policy, base, name
        self.calendar: BusinessCalendar = policy.business_calendar
        self.out = Calibration(log, base_name)
        self.helped = [s for s in found if s.plan is not None]
        self.first_day = min(local_date(s.admitted) for s in found)
        self.last_day = max(local_date(s.admitted) for s in found)
        self.span = (self.last_day - self.first_day).days + 1
        self.fitting: tuple[str, ...] = ()  # the keys the running estimator may set

    def put(self, table: str, key: str, value: Any, n: int | None, how: str) -> None:
        self._set(table, key, Key(value, True, n, how))

    def assume(self, table: str, key: str, why: str = "") -> None:
        self._set(table, key, Key(self.base[table][key], False, None, why))

    def _set(self, table: str, key: str, k: Key) -> None:
        if f"{table}.{key}" not in self.fitting:  # the table says which estimator fits a key: keep it true
            raise AssertionError(f"{table}.{key} set by an estimator of {self.fitting}")
        self.out.keys.setdefault(table, {})[key] = k

    def put_or_assume(self, table: str, key: str, values: list[Any], make: Callable[[list[Any]], Any], how: str,
                      why: str) -> None:
        if values:
            self.put(table, key, make(values), len(values), how)
        else:
            self.assume(table, key, why)

    def put_share(self, table: str, key: str, hits: int, of: int, how: str) -> None:
        """A share of the help-needing stays with a ready time (assumed when the log has none)."""
        if of:
            self.put(table, key, _share(hits, of), of, how)
        else:
            self.assume(table, key, "no help-needing stay in the log has a ready time")

    def value(self, table: str, key: str) -> Any:
        return self.out.keys[table][key].value

    @property
    def has_calls(self) -> bool:
        """Whether the log has phone calls at all (only a side-car tells them)."""
        return self.stays.has_calls

    @cached_property
    def ready_helped(self) -> list[Stay]:
        """Help-needing stays with a ready time."""
        return [s for s in self.helped if s.ready is not None]

    @cached_property
    def discharged_helped(self) -> list[Stay]:
        """Help-needing stays with a discharge."""
        return [s for s in self.helped if s.discharged is not None]

    @cached_property
    def questions(self) -> tuple[list[tuple[Stay, datetime]], list[tuple[Stay, datetime, datetime]]]:
        """Acknowledged care plans, and those the municipality then asked about before the discharge."""
        acked = [(s, a) for s in self.ready_helped if (a := s.ack) is not None]
        asked = [(s, a, q) for s, a in acked if (q := s.question) is not None]
        return acked, asked

    @cached_property
    def reports(self) -> list[tuple[Stay, datetime, float]]:
        """Discharge reports of help-needing stays, with their minutes after the discharge."""
        return [(s, r, _minutes(s.discharged, r)) for s in self.ready_helped
                if s.discharged and (r := s.report) is not None]

    @cached_property
    def acks(self) -> list[tuple[Stay, datetime]]:
        """Acknowledgements of discharged help-needing stays."""
        return [(s, a) for s in self.discharged_helped if (a := s.ack) is not None]

    @cached_property
    def conferences(self) -> list[tuple[Stay, datetime]]:
        return [(s, c) for s in self.ready_helped if (c := s.conference) is not None]

    @cached_property
    def guarded(self) -> list[tuple[Stay, datetime]]:
        return [(s, g) for s in self.ready_helped if (g := s.guardianship) is not None]

    @cached_property
    def terminal(self) -> list[Stay]:
        return [s for s in self.ready_helped if s.terminal_staying]

    @cached_property
    def plan_timing(self) -> _PlanTiming:
        h, policy, calendar = "hospital", self.policy, self.calendar
        gap = timedelta(minutes=self.value(h, "care_plan_after_report_minutes"))
        out = _PlanTiming()
        for s in self.ready_helped:
            plan = s.plan
            due = care_plan_due(calendar, policy, s.ready)
            report = s.admission_report
            if report is None or due >= report + gap:
                out.avoidable += 1
                if plan > due:
                    out.late += 1
                else:
                    out.leads.append(_hours(plan, due))
            if plan > due or not calendar.weekday_before_clock(plan, policy.acknowledgement.cutoff):
                out.needs_call += 1
                call = s.call_after_plan
                if call is not None:
                    out.calls_after.append(_minutes(plan, call))
        return out


Estimator = Callable[[_Fit], None]
# dotted scenario key -> the estimator that fits it (or says why the log cannot show it), in the order they run:
# an estimator may read only keys fitted before it. One estimator may fit keys that one model shares (the
# log-normal's median and shape, the window's start and end).
ESTIMATORS: dict[str, Estimator] = {}


def _estimates(*keys: str) -> Callable[[Estimator], Estimator]:
    """Register an estimator for `keys` (dotted) in `ESTIMATORS`."""
    def register(estimator: Estimator) -> Estimator:
        def run(f: _Fit) -> None:
            f.fitting = keys
            estimator(f)
            missing = [k for k in keys if k.partition(".")[2] not in f.out.keys.get(k.partition(".")[0], {})]
            if missing:
                raise AssertionError(f"{estimator.__name__} did not fit {missing}")

        run.__name__ = run.__qualname__ = estimator.__name__
        run.__doc__ = estimator.__doc__
        for key in keys:
            assert key not in ESTIMATORS, f"{key}: two estimators"
            ESTIMATORS[key] = run
        return estimator
    return register


# -- run and admissions --

@_estimates("run.name", "run.description")
def _run_name(f: _Fit) -> None:
    f.put("run", "name", f.name, None, "the fitted scenario's name")
    f.put("run", "description", f"fitted by medcom calibrate to {f.out.log}", None, "")


@_estimates("run.start", "run.horizon_days")
def _run_span(f: _Fit) -> None:
    """The log's days, after the base's warm-up."""
    warmup = int(f.base["run"]["warmup_days"])
    f.put("run", "start", f.first_day - timedelta(days=warmup), len(f.stays),
          f"the first admission's day ({f.first_day}) less the base's warm-up, so that the counted days are the log's")
    f.put("run", "horizon_days", f.span, len(f.stays), f"the days the log's admissions span ({f.first_day} to "
                                                      f"{f.last_day})")


@_estimates("run.warmup_days", "run.cooldown_days", "run.replications", "run.seed", "admissions.process")
def _run_settings(f: _Fit) -> None:
    """How to run the model, not something a log shows."""
    for key in ("warmup_days", "cooldown_days", "replications", "seed"):
        f.assume("run", key)
    f.assume("admissions", "process", "a model choice, not something one log shows")


@_estimates("admissions.per_day")
def _per_day(f: _Fit) -> None:
    n = len(f.stays)
    f.put("admissions", "per_day", _round(n / f.span, 3), n, f"{n} admissions over {f.span} days")


@_estimates("admissions.needs_help_share")
def _needs_help_share(f: _Fit) -> None:
    n, helped = len(f.stays), len(f.helped)
    note = "episodes with a care plan (a hospital sends one only for a citizen who needs municipal help)"
    if helped == n:
        note += "; every episode has one: the log may hold only help-needing citizens (per_day then counts " \
                "only them, and the simulated rate per_day x needs_help_share is right either way)"
    f.put("admissions", "needs_help_share", _share(helped, n), n, note)
    if not f.helped:
        raise CalibrationError("no episode in the log has a care plan: the scenario simulates the care-plan "
                               "flow, and this log shows none of it")


@_estimates("admissions.weekday_weights")
def _weekday_weights(f: _Fit) -> None:
    n, span = len(f.stays), f.span
    days = Counter(d.weekday() for d in (f.first_day + timedelta(days=i) for i in range(span)))
    by_weekday = Counter(local_date(s.admitted).weekday() for s in f.stays)
    mean = n / span
    weights = [_round(by_weekday[w] / days[w] / mean, 3) if days[w] else 1.0 for w in range(7)]
    if all(days[w] for w in range(7)):
        f.put("admissions", "weekday_weights", weights, n, "admissions per Monday, ..., Sunday of the span, "
                                                           "over the mean day")
    else:
        f.assume("admissions", "weekday_weights", "the log spans less than a week")


@_estimates("admissions.hour_weights")
def _hour_weights(f: _Fit) -> None:
    hours = Counter(to_local(s.admitted).hour for s in f.stays)
    f.put("admissions", "hour_weights", [hours[h] for h in range(24)], len(f.stays), "admissions by local hour")


@_estimates("admissions.somatic_share")
def _somatic_share(f: _Fit) -> None:
    somatic = [s.somatic for s in f.stays if s.somatic is not None]
    f.put_or_assume("admissions", "somatic_share", somatic, lambda v: _share(sum(v), len(v)),
                    "admissions stated somatic", "the log does not say which admissions are somatic")


@_estimates("admissions.municipalities", "admissions.municipality_weights")
def _municipalities(f: _Fit) -> None:
    named = Counter(s.municipality for s in f.stays if s.municipality)
    codes = Counter({str(int(c)): n for c, n in named.items() if check_municipality(c) is None})
    unknown = sorted(c for c in named if check_municipality(c) is not None)
    if unknown:  # a scenario holds only the 98 codes (it would not load): said, and left out
        shown = ", ".join(repr(c[:12]) for c in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        f.out.notes.append(f"{sum(named[c] for c in unknown)} admission(s) name a municipality code that is "
                           f"not one of the 98 ({shown}); they are left out of admissions.municipalities")
    if codes:
        ordered = sorted(codes, key=lambda c: (-codes[c], c))
        f.put("admissions", "municipalities", ordered, sum(codes.values()),
              "the municipalities the admission advices went to")
        f.put("admissions", "municipality_weights", [codes[c] for c in ordered], sum(codes.values()),
              "admissions per municipality")
    else:
        f.assume("admissions", "municipalities", "no admission names its municipality")
        f.assume("admissions", "municipality_weights")


# -- stay --

@_estimates("stay.ready_at_the_earliest_hours", "stay.ready_hour_weights", "stay.ready_after_median_hours",
            "stay.ready_after_sigma")
def _ready_after(f: _Fit) -> None:
    """The log-normal stay to the ready day (censored to the day), its floor and the ready hour; its goodness of
    fit."""
    from scipy import stats  # here: scipy.stats costs each process ~70 MiB, and partitions' workers import this module

    ready = [s for s in f.helped if s.ready is not None and s.ready >= s.admitted]
    if not ready:
        for key in ("ready_after_median_hours", "ready_after_sigma", "ready_hour_weights",
                    "ready_at_the_earliest_hours"):
            f.assume("stay", key, "the log has no ready times")
        return
    waits = [_hours(s.admitted, s.ready) for s in ready]
    earliest = _floor(min(waits))
    f.put("stay", "ready_at_the_earliest_hours", earliest, len(waits),
          "the shortest admission-to-ready time in the log")
    hours = Counter(to_local(s.ready).hour for s in ready)
    f.put("stay", "ready_hour_weights", [hours[h] for h in range(24)], len(ready), "ready times by local hour")
    intervals = []
    for s, wait in zip(ready, waits, strict=True):
        day = local_date(s.ready)
        low = _hours(s.admitted, at_local(day, time(0)))
        high = _hours(s.admitted, at_local(day + timedelta(days=1), time(0)))
        if wait <= earliest + 1 / 60:  # held back to the earliest: the stay ended on that day or before
            low = 0.0
        intervals.append((max(low, 0.0), max(high, 1 / 60)))
    data = stats.CensoredData(interval=np.asarray(intervals))
    with np.errstate(divide="ignore"):  # the optimiser tries shapes whose likelihood underflows to 0
        sigma, _, scale = stats.lognorm.fit(data, floc=0)
    sigma = float(sigma) if len(set(intervals)) > 1 else 0.0
    f.put("stay", "ready_after_median_hours", _round(float(scale), 2), len(ready),
          "log-normal stay to the ready day, maximum likelihood on each episode's interval (the log shows the "
          "day the stay ends; the hour is the ready hour's)")
    f.put("stay", "ready_after_sigma", _round(sigma, 3), len(ready), "its shape, the same fit")
    weights = np.asarray([hours[h] for h in range(24)], dtype=float)
    model = _model_waits(ready, float(scale), sigma, weights / weights.sum(), earliest)
    ks = stats.ks_2samp(waits, model)
    f.out.goodness_of_fit["ready_after"] = {
        "model": f"log-normal, median {float(scale):.1f} h, sigma {sigma:.3f}, to the day; ready hour as fitted",
        "test": f"two-sample Kolmogorov-Smirnov: observed admission-to-ready hours against {GOF_DRAWS} draws "
                f"per episode from the fitted model",
        "n": len(waits), "ks_statistic": _round(float(ks.statistic), 4), "p_value": _round(float(ks.pvalue), 4)}


# -- hospital: the care plan --

@_estimates("hospital.care_plan_after_report_minutes")
def _care_plan_after_report(f: _Fit) -> None:
    after_report = [_minutes(r, s.plan) for s in f.ready_helped
                    if (r := s.admission_report) is not None and s.plan >= r]
    f.put_or_assume("hospital", "care_plan_after_report_minutes", after_report,
                    lambda v: _round(max(0.0, math.floor(min(v) * 10) / 10), 1),
                    "the shortest admission report -> care plan", "no admission report before a care plan")


@_estimates("hospital.care_plan_late_share")
def _care_plan_late_share(f: _Fit) -> None:
    t = f.plan_timing
    if t.avoidable:
        f.put("hospital", "care_plan_late_share", _share(t.late, t.avoidable), t.avoidable,
              "care plans after the CP-1 deadline among those that could have been on time (the deadline "
              "after the admission report plus care_plan_after_report_minutes)")
    else:
        f.assume("hospital", "care_plan_late_share", "no care plan could have been on time")


@_estimates("hospital.care_plan_lead_hours")
def _care_plan_lead_hours(f: _Fit) -> None:
    f.put_or_assume("hospital", "care_plan_lead_hours", f.plan_timing.leads,
                    lambda v: _round(float(np.quantile(v, 0.95)) / 0.95, 2),
                    "on-time plans' lead before the CP-1 deadline, uniform up to this (95th percentile / 0.95)",
                    "no care plan was on time")


@_estimates("hospital.phone_when_late_share")
def _phone_when_late_share(f: _Fit) -> None:
    t = f.plan_timing
    if t.needs_call and f.has_calls:
        f.put("hospital", "phone_when_late_share", _share(len(t.calls_after), t.needs_call), t.needs_call,
              "late plans and plans after the acknowledgement cutoff followed by a hospital phone call before "
              "the discharge")
    else:
        f.assume("hospital", "phone_when_late_share", "the log has no phone calls (no side-car)"
                 if not f.has_calls else "no plan was late or after the cutoff")


@_estimates("hospital.phone_after_plan_minutes")
def _phone_after_plan_minutes(f: _Fit) -> None:
    f.put_or_assume("hospital", "phone_after_plan_minutes", f.plan_timing.calls_after,
                    lambda v: _round(statistics.median(v), 1), "median care plan -> phone call",
                    "no such phone call in the log")


# -- hospital: completion notices, conferences, terminal patients, guardianship --

@_estimates("hospital.completion_notice_share", "hospital.completion_notice_minutes")
def _completion_notice(f: _Fit) -> None:
    h = "hospital"
    notice_due = [s for s in f.ready_helped if s.discharged and local_date(s.discharged) > local_date(s.ready)]
    notices = [n for s in notice_due if (n := s.notice) is not None]
    if notice_due:
        f.put(h, "completion_notice_share", _share(len(notices), len(notice_due)), len(notice_due),
              "completion notices among stays discharged on a later day than the ready day (FM-1)")
    else:
        f.assume(h, "completion_notice_share", "no stay went past its ready day")
    delays = [_minutes(s.ready, n) for s in notice_due if (n := s.notice) is not None and n >= s.ready]
    f.put_or_assume(h, "completion_notice_minutes", delays, _span, "shortest and longest ready -> notice",
                    "no completion notice in the log")


@_estimates("hospital.conference_share")
def _conference_share(f: _Fit) -> None:
    f.put_share("hospital", "conference_share", len(f.conferences), len(f.ready_helped),
                "help-needing stays with a discharge conference")


@_estimates("hospital.conference_after_weekdays")
def _conference_after_weekdays(f: _Fit) -> None:
    steps = []
    for s, c in f.conferences:
        day, k = local_date(s.plan), 0
        while day < local_date(c) and k < 366:
            day, k = f.calendar.next_weekday(day), k + 1
        steps.append(k)
    mean = statistics.fmean(steps) if steps else 0.0
    f.put_or_assume("hospital", "conference_after_weekdays", steps,
                    lambda _v: _round(1 / math.log(1 + 1 / (mean - 1)), 3) if mean > 1 else 0.0,
                    f"weekdays from the care plan to the conference, 1 + a whole exponential (mean seen "
                    f"{mean:.2f})", "no conference in the log")


@_estimates("hospital.conference_at")
def _conference_at(f: _Fit) -> None:
    clocks = Counter(to_local(c).time().replace(second=0, microsecond=0) for _, c in f.conferences)
    f.put_or_assume("hospital", "conference_at", list(clocks.elements()), lambda _v: clocks.most_common(1)[0][0],
                    "the commonest local time of the conferences", "no conference in the log")


@_estimates("hospital.discharge_after_conference_hours")
def _discharge_after_conference(f: _Fit) -> None:
    after = [_hours(c, s.discharged) for s, c in f.conferences if s.discharged and s.discharged >= c]
    f.put_or_assume("hospital", "discharge_after_conference_hours", after, lambda v: _floor(min(v)),
                    "the shortest conference -> discharge", "no conference followed by a discharge")


@_estimates("hospital.terminal_share", "hospital.terminal_stay_days")
def _terminal(f: _Fit) -> None:
    h, helped = "hospital", f.ready_helped
    f.put_share(h, "terminal_share", len(f.terminal), len(helped),
                "help-needing stays declared terminal, wishing to stay")
    extra = [_hours(s.ready, s.discharged) / 24 for s in f.terminal if s.discharged]
    f.put_or_assume(h, "terminal_stay_days", extra, lambda v: _round(statistics.fmean(v), 2),
                    "mean ready -> discharge of terminal patients (includes the wait for a reception)",
                    "no terminal patient in the log")


@_estimates("hospital.guardianship_share", "hospital.guardianship_info_days",
            "hospital.discharge_after_guardianship_hours")
def _guardianship(f: _Fit) -> None:
    h, helped = "hospital", f.ready_helped
    f.put_share(h, "guardianship_share", len(f.guarded), len(helped),
                "help-needing stays with a guardianship case (health information handed over)")
    info = [_hours(s.ready, g) / 24 for s, g in f.guarded if g >= s.ready]
    f.put_or_assume(h, "guardianship_info_days", info, lambda v: _round(statistics.fmean(v), 2),
                    "mean ready -> guardianship information", "no guardianship case in the log")
    after = [_hours(g, s.discharged) for s, g in f.guarded if s.discharged and s.discharged >= g]
    f.put_or_assume(h, "discharge_after_guardianship_hours", after, lambda v: _floor(min(v)),
                    "the shortest guardianship information -> discharge", "no guardianship case in the log")


# -- around the discharge: questions, reports, phone calls, destinations, advices --

@_estimates("hospital.question_share")
def _question_share(f: _Fit) -> None:
    acked, asked = f.questions
    if acked:
        f.put("hospital", "question_share", _share(len(asked), len(acked)), len(acked),
              "acknowledged care plans the municipality then asked about before the discharge")
    else:
        f.assume("hospital", "question_share", "no acknowledgement in the log")


@_estimates("hospital.answer_hours")
def _answer_hours(f: _Fit) -> None:
    answers = [_hours(q, ans) for s, _, q in f.questions[1] if (ans := s.answer) is not None]
    f.put_or_assume("hospital", "answer_hours", answers, lambda v: _round(statistics.fmean(v), 3),
                    "mean question -> the hospital's answer", "no answered question in the log")


@_estimates("municipality.question_after_ack_minutes")
def _question_after_ack(f: _Fit) -> None:
    f.put_or_assume("municipality", "question_after_ack_minutes", [_minutes(a, q) for _, a, q in f.questions[1]],
                    lambda v: _round(statistics.median(v), 1), "median acknowledgement -> question",
                    "no question in the log")


@_estimates("hospital.discharge_report_late_share", "hospital.discharge_report_minutes",
            "hospital.discharge_report_late_minutes")
def _discharge_report(f: _Fit) -> None:
    """Reports in time and late against the policy's discharge.report_within."""
    h, within = "hospital", f.policy.discharge.report_within.total_seconds() / 60
    late = [d for _, _, d in f.reports if d > within]
    on_time = [d for _, _, d in f.reports if 0 <= d <= within]
    if f.reports:
        f.put(h, "discharge_report_late_share", _share(len(late), len(f.reports)), len(f.reports),
              "discharge reports later than the policy's discharge.report_within after the discharge")
    else:
        f.assume(h, "discharge_report_late_share", "no discharge report in the log")
    f.put_or_assume(h, "discharge_report_minutes", on_time, _span, "shortest and longest report in time",
                    "no report in time in the log")
    f.put_or_assume(h, "discharge_report_late_minutes", [d - within for d in late],
                    lambda v: [max(1, math.floor(min(v))), max(1, math.floor(max(v)))],
                    "shortest and longest lateness past discharge.report_within", "no late report in the log")


@_estimates("municipality.must_act_share", "hospital.report_phone_after_minutes")
def _report_phone_calls(f: _Fit) -> None:
    """Reports after the phone cutoff (DIS-2) and the hospital's calls after them."""
    must_call = [(s, r) for s, r, _ in f.reports
                 if not f.calendar.weekday_before_clock(r, f.policy.discharge.phone_cutoff)]
    called = [(r, c) for s, r in must_call if (c := s.call_after_report) is not None]
    if must_call and f.has_calls:
        f.put("municipality", "must_act_share", _share(len(called), len(must_call)), len(must_call),
              "reports after the phone cutoff (DIS-2) followed by the hospital's phone call")
    else:
        f.assume("municipality", "must_act_share", "no report after the phone cutoff" if f.has_calls else
                 "the log has no phone calls (no side-car)")
    f.put_or_assume("hospital", "report_phone_after_minutes", [_minutes(r, c) for r, c in called],
                    lambda v: _round(statistics.median(v), 1), "median report -> phone call",
                    "no such phone call in the log")


@_estimates("hospital.destination_weights")
def _destination_weights(f: _Fit) -> None:
    destinations = Counter(s.destination for s in f.stays if s.destination in DESTINATIONS)
    if destinations:
        f.put("hospital", "destination_weights", [destinations[d] for d in DESTINATIONS], sum(destinations.values()),
              f"discharges by destination ({', '.join(DESTINATIONS)})")
    else:
        f.assume("hospital", "destination_weights", "no discharge states its destination")


@_estimates(*_DELAYS)
def _message_delays(f: _Fit) -> None:
    """Shortest and longest time from an event to the message that tells it."""
    for dotted, (_, _, what) in _DELAYS.items():
        spans = [span for s in f.stays if (span := s.span(dotted)) is not None]
        table, _, key = dotted.partition(".")
        f.put_or_assume(table, key, spans, _span, f"shortest and longest {what}", f"no {what} in the log")


@_estimates("hospital.ward_day_start", "hospital.ward_day_end")
def _ward_day(f: _Fit) -> None:
    """The ward's working day, from the local times care plans were sent."""
    clocks = [_clock_minutes(s.plan) for s in f.ready_helped]
    f.put_or_assume("hospital", "ward_day_start", clocks, lambda v: _clock(min(v)),
                    "the earliest local time a care plan was sent", "no care plan")
    f.put_or_assume("hospital", "ward_day_end", clocks, lambda v: _clock(min(24 * 60 - 1, max(
        math.ceil(max(v) / 60) * 60, math.floor(min(v)) + 60))),
                    "the latest local time a care plan was sent, to the next whole hour (at least an hour "
                    "after the start)", "no care plan")


# -- municipality --

@_estimates("municipality.preparation_hours")
def _preparation_hours(f: _Fit) -> None:
    prep = [_hours(s.plan, s.discharged) for s in f.discharged_helped if s.discharged > s.plan]
    f.put_or_assume("municipality", "preparation_hours", prep, lambda v: _floor(min(v)),
                    "the shortest care plan -> discharge", "no discharge after a care plan")


@_estimates("municipality.ack_before_discharge_minutes")
def _ack_before_discharge(f: _Fit) -> None:
    before = [_minutes(a, s.discharged) for s, a in f.acks if a <= s.discharged]
    f.put_or_assume("municipality", "ack_before_discharge_minutes", before, lambda v: _round(math.floor(min(v)), 1),
                    "the shortest acknowledgement -> discharge", "no acknowledgement before a discharge")


def _free_acks(f: _Fit) -> list[tuple[Stay, Event]]:
    """Acknowledgements not held back to the discharge (those are censored)."""
    cap = f.value("municipality", "ack_before_discharge_minutes")
    return [(s, a) for s, a in f.acks if abs(_minutes(a, s.discharged) - cap) > 1]


@_estimates("municipality.office_opens")
def _office_opens(f: _Fit) -> None:
    f.put_or_assume("municipality", "office_opens", [_clock_minutes(a) for _, a in _free_acks(f)],
                    lambda v: _clock(math.floor(min(v) / QUARTER) * QUARTER),
                    "the earliest local time of an acknowledgement, to the quarter hour",
                    "no acknowledgement in the log")


@_estimates("municipality.ack_delay_hours")
def _ack_delay_hours(f: _Fit) -> None:
    opens = f.value("municipality", "office_opens")
    durations, complete = 0.0, len(_free_acks(f))  # (each stay has one acknowledgement here)
    for s, a in f.acks:
        plan = s.plan
        day = local_date(plan)
        start = max(plan, at_local(day, opens)) if f.calendar.weekday_before_clock(
            plan, f.policy.acknowledgement.cutoff) else at_local(f.calendar.next_weekday(day), opens)
        durations += max(0.0, _hours(start, a))
    if complete:
        f.put("municipality", "ack_delay_hours", _round(durations / complete, 3), len(f.acks),
              "exponential mean from the office's opening (or the plan, if later) to the acknowledgement; "
              "acknowledgements held to the discharge count as censored")
    else:
        f.assume("municipality", "ack_delay_hours", "no acknowledgement in the log")


@_estimates("municipality.discharge_window_start", "municipality.discharge_window_end")
def _discharge_window(f: _Fit) -> None:
    """The discharge window as practised: 1st and 99th percentile of the discharge clock times."""
    m = "municipality"
    clocks = [_clock_minutes(s.discharged) for s in f.discharged_helped]
    if not clocks:
        for key in ("discharge_window_start", "discharge_window_end"):
            f.assume(m, key, "no help-needing patient's discharge in the log")
        return
    start = math.floor(float(np.quantile(clocks, 0.01, method="lower")) / QUARTER) * QUARTER
    end = min(24 * 60 - 1, math.ceil(float(np.quantile(clocks, 0.99, method="higher")) / QUARTER) * QUARTER)
    if end <= start:
        end = min(24 * 60 - 1, start + QUARTER)
    outside = sum(1 for c in clocks if not start <= c < end)
    f.put(m, "discharge_window_start", _clock(start), len(clocks),
          "the earliest discharge clock time (1st percentile), to the quarter hour")
    f.put(m, "discharge_window_end", _clock(end), len(clocks),
          f"the latest discharge clock time (99th percentile), to the quarter hour; {outside} of "
          f"{len(clocks)} discharges outside the window")


@_estimates("municipality.reception_spread_minutes")
def _reception_spread(f: _Fit) -> None:
    """How long after the window's opening the patients who were waiting for it went."""
    prep = timedelta(hours=f.value("municipality", "preparation_hours"))
    start = f.value("municipality", "discharge_window_start")
    offsets = []
    for s in f.discharged_helped:
        if s.ready is None:  # (when the patient could have gone is not known)
            continue
        opens = at_local(local_date(s.discharged), start)
        could = max(s.ready, s.plan + prep)
        if could < opens and s.discharged >= opens and s.conference is None and s.guardianship is None \
                and not s.terminal:
            offsets.append(_minutes(opens, s.discharged))
    f.put_or_assume("municipality", "reception_spread_minutes", offsets,
                    lambda v: _round(max(v) * (len(v) + 1) / len(v), 1),
                    "discharges of patients who could have gone before the window opened: uniform over this "
                    "long after the opening (largest x (n + 1) / n)", "no patient was waiting at an opening")


@_estimates("municipality.weekend_reception", "municipality.holiday_reception")
def _weekend_and_holiday_reception(f: _Fit) -> None:
    """Whether anyone went home on such a day when someone ready was waiting."""
    calendar, helped = f.calendar, f.discharged_helped

    def weekend(d: date) -> bool:
        return d.weekday() >= 5 and calendar.holiday_name(d) is None

    def holiday(d: date) -> bool:
        return calendar.holiday_name(d) is not None

    for key, kind, is_day in (("weekend_reception", "weekend", weekend),
                              ("holiday_reception", "public holiday", holiday)):
        went = [s for s in helped if is_day(local_date(s.discharged))]
        waited = [s for s in helped if s.ready is not None and any(is_day(local_date(s.ready) + timedelta(days=k))
                                           for k in range((local_date(s.discharged) - local_date(s.ready)).days))]
        if went:
            f.put("municipality", key, True, len(went), f"{len(went)} discharges on a {kind}")
        elif waited:
            f.put("municipality", key, False, len(waited), f"no discharge on a {kind}, though {len(waited)} ready "
                                                           f"patients waited over one")
        else:
            f.assume("municipality", key, f"nobody ready waited over a {kind} in the log")


@_estimates("municipality.reception_capacity_per_day")
def _reception_capacity(f: _Fit) -> None:
    busiest = Counter((s.municipality, local_date(s.discharged)) for s in f.discharged_helped)
    most = f" (the busiest day: {max(busiest.values())} receptions in one municipality)" if busiest else ""
    f.assume("municipality", "reception_capacity_per_day", f"a log shows the receptions made, not how many more "
                                                           f"were possible{most}")


class Replayed(Protocol):
    """What calibration reads of a replay (medcom.replay.ReplayResult, of a whole log or of a partition)."""

    episodes: dict[str, Episode]
    cancelled: set[str]


@dataclass(frozen=True)
class EpisodeStays:
    """What a replayed partition gives calibration: the stays of its episodes that were not cancelled, in name
    order, and how many (a picklable callable, run where the partition runs: calibration holds stays, never the
    log)."""

    def __call__(self, result: Replayed) -> tuple[list[StayRow], int]:
        found = stay_rows(ep for n, ep in sorted(result.episodes.items()) if n not in result.cancelled)
        return found, len(found)


def fit(episodes: Iterable[Episode], policy: Policy, base: dict[str, Any], *, log: str, base_name: str,
        name: str, policy_table: dict[str, Any] | None = None) -> Calibration:
    """Fit every key of a scenario to the replayed `episodes`; `base` is the base scenario's parsed TOML."""
    return fit_stays(stay_rows(episodes), policy, base, log=log, base_name=base_name, name=name,
                     policy_table=policy_table)


def fit_stays(rows: Iterable[StayRow], policy: Policy, base: dict[str, Any], *, log: str, base_name: str,
              name: str, policy_table: dict[str, Any] | None = None) -> Calibration:
    """`fit`, of the episodes' stays (`EpisodeStays` of each partition of a replay, in name order; read as they
    come, into a `StayTable`)."""
    found = StayTable.of(rows)
    if not found:
        raise CalibrationError("the log has no admitted episode to fit")
    f = _Fit(found, policy, base, log, base_name, name)
    for estimator in dict.fromkeys(ESTIMATORS.values()):
        estimator(f)
    ordered: dict[str, dict[str, Key]] = {}
    for table in ("run", "admissions", "stay", "hospital", "municipality"):
        ordered[table] = {key: f.out.keys[table][key] for key in base[table]}
    f.out.keys = ordered
    for table, keys in ordered.items():  # what the scenario loader accepts
        for key, k in keys.items():
            span = limits_of(f"{table}.{key}")
            if span is None or not k.fitted or not isinstance(k.value, int | float) or isinstance(k.value, bool):
                continue
            low, high = span
            if low <= k.value <= high:
                continue
            k.how += f"; {k.value} held to the range a scenario allows ({low:g} to {high:g})"
            k.value = min(max(k.value, low), high)
    f.out.copied = {"policy": policy_table if policy_table is not None else base.get("policy", {})}
    f.out.policy_source = "the policy file the log was replayed under" if policy_table is not None else \
        f"ASSUMPTION (from {base_name}): the agreement in force is not something a log shows"
    for table in ("costs", "variants"):
        if table in base:
            f.out.copied[table] = base[table]
    return f.out


def _model_waits(ready: list[Stay], median: float, sigma: float, hour_weights: np.ndarray,
                 earliest: float) -> list[float]:
    """Admission-to-ready hours the fitted model gives the log's own admissions (GOF_DRAWS each)."""
    rng = np.random.default_rng(GOF_SEED)
    out = []
    for s in ready:
        stays_h = median * np.exp(sigma * rng.standard_normal(GOF_DRAWS))
        hours = rng.choice(24, size=GOF_DRAWS, p=hour_weights)
        minutes = rng.integers(0, 60, size=GOF_DRAWS)
        for stay_h, hour, minute in zip(stays_h.tolist(), hours.tolist(), minutes.tolist(), strict=True):
            end = s.admitted + timedelta(hours=stay_h)
            at = at_local(local_date(end), time(hour, minute))
            out.append(max(_hours(s.admitted, at), earliest))
    return out


def to_toml(c: Calibration) -> str:
    """The fitted scenario as a TOML document, every key with its FITTED or ASSUMPTION comment."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Fitted by medcom calibrate to {c.log}; what the log cannot show is copied from "
                            f"{c.base}."))
    doc.add(tomlkit.comment("FITTED: read from the log (n = the episodes or events it rests on); ASSUMPTION: "
                            "copied from the base scenario."))
    for note in c.notes:
        doc.add(tomlkit.comment(note))
    for table, keys in c.keys.items():
        t = tomlkit.table()
        if table == "stay" and "ready_after" in c.goodness_of_fit:
            g = c.goodness_of_fit["ready_after"]
            t.add(tomlkit.comment(f"Goodness of fit of admission -> ready: {g['test']}: D = {g['ks_statistic']}, "
                                  f"p = {g['p_value']} (n = {g['n']})."))
        for key, k in keys.items():
            value = list(k.value) if isinstance(k.value, tuple) else k.value
            item = tomlkit.item(value)
            if isinstance(value, list):
                item.multiline(False)
            if comment := k.comment(c.log, c.base):
                item.comment(comment)
            t.add(key, item)
        doc.add(table, t)
    for table in ("policy", "costs"):
        if table in c.copied:
            t = tomlkit.table()
            t.add(tomlkit.comment(c.policy_source if table == "policy" else f"ASSUMPTION (from {c.base}): copied "
                                                                                  f"whole"))
            for key, value in c.copied[table].items():
                t.add(key, value)
            doc.add(table, t)
    if "variants" in c.copied:
        variants = tomlkit.table(is_super_table=True)
        for name, over in c.copied["variants"].items():
            v = tomlkit.table()
            v.add(tomlkit.comment(f"copied from {c.base}"))
            for key, value in over.items():
                v.add(key, value)
            variants.add(name, v)
        doc.add("variants", variants)
    return tomlkit.dumps(doc)
