"""Fit a planner scenario to what a replayed message log shows (`medcom calibrate`).

The log is replayed first (the command line does that, with the format adapters and the engine replay uses),
and every key of the scenario is then read from the episodes' events where the log can show it, or copied
from a base scenario where it cannot. Each key of the written file says which: `FITTED from LOG (n = ...)`
with how it was read, or `ASSUMPTION (from BASE)`.

How the keys are read, in the scenario's own model (simulator/simulation.py):

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import numpy as np
import tomlkit
from scipy import stats

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

@dataclass
class Stay:
    """What calibration reads from one replayed episode (instants aware; None: not in the log)."""

    name: str
    admitted: datetime
    municipality: str | None
    somatic: bool | None
    events: list[Event]
    ready: datetime | None
    discharged: datetime | None
    destination: str | None
    plan: Event | None

    def first(self, kind: str, after: datetime | None = None, where: Callable[[Event], bool] | None = None,
              before: datetime | None = None) -> Event | None:
        """The first `kind` event at or after `after`, before `before` (not at it), that `where` accepts."""
        return next((e for e in self.events if e.kind == kind and (after is None or e.at >= after)
                     and (before is None or e.at < before) and (where is None or where(e))), None)


def stays(episodes: Iterable[Episode]) -> list[Stay]:
    out = []
    for ep in episodes:
        admitted = ep.last("admitted")  # the latest corrected admission (CONTRACT.md)
        if admitted is None:
            continue
        events = sorted(ep.events, key=lambda e: (e.at, e.seq))
        discharged = ep.first("discharged")
        ready = latest_ready(ep)
        out.append(Stay(ep.name, admitted.at, _code(admitted.data.get("municipality")),
                        admitted.data["somatic"] if isinstance(admitted.data.get("somatic"), bool) else None,
                        events, ready.at if ready else None, discharged.at if discharged else None,
                        discharged.data.get("destination") if discharged else None, ep.first("care_plan_sent")))
    return out


def _by_hospital(e: Event) -> bool:
    return e.from_hospital


def _by_municipality(e: Event) -> bool:
    return e.from_municipality


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


# ---- the fit -----------------------------------------------------------------------------------------------

class _Fit:
    def __init__(self, found: list[Stay], policy: Policy, base: dict[str, Any], log: str, base_name: str) -> None:
        self.stays, self.policy, self.base = found, policy, base
        self.calendar: BusinessCalendar = policy.business_calendar
        self.out = Calibration(log, base_name)
        self.helped = [s for s in found if s.plan is not None]

    def put(self, table: str, key: str, value: Any, n: int, how: str) -> None:
        self.out.keys.setdefault(table, {})[key] = Key(value, True, n, how)

    def assume(self, table: str, key: str, why: str = "") -> None:
        self.out.keys.setdefault(table, {})[key] = Key(self.base[table][key], False, None, why)

    def put_or_assume(self, table: str, key: str, values: list[Any], make: Callable[[list[Any]], Any], how: str,
                      why: str) -> None:
        if values:
            self.put(table, key, make(values), len(values), how)
        else:
            self.assume(table, key, why)

    # -- run and admissions --

    def run(self, name: str) -> None:
        first = min(local_date(s.admitted) for s in self.stays)
        last = max(local_date(s.admitted) for s in self.stays)
        self.span = (last - first).days + 1
        self.first_day = first
        warmup = int(self.base["run"]["warmup_days"])
        self.out.keys["run"] = {"name": Key(name, True, None, "the fitted scenario's name"),
                                "description": Key(f"fitted by medcom calibrate to {self.out.log}", True)}
        self.put("run", "start", first - timedelta(days=warmup), len(self.stays),
                 f"the first admission's day ({first}) less the base's warm-up, so that the counted days are the log's")
        self.assume("run", "warmup_days")
        self.put("run", "horizon_days", self.span, len(self.stays), f"the days the log's admissions span ({first} to "
                                                                   f"{last})")
        for key in ("cooldown_days", "replications", "seed"):
            self.assume("run", key)

    def admissions(self) -> None:
        n, span = len(self.stays), self.span
        self.assume("admissions", "process", "a model choice, not something one log shows")
        self.put("admissions", "per_day", _round(n / span, 3), n, f"{n} admissions over {span} days")
        helped = len(self.helped)
        note = "episodes with a care plan (a hospital sends one only for a citizen who needs municipal help)"
        if helped == n:
            note += "; every episode has one: the log may hold only help-needing citizens (per_day then counts " \
                    "only them, and the simulated rate per_day x needs_help_share is right either way)"
        self.put("admissions", "needs_help_share", _share(helped, n), n, note)
        if not self.helped:
            raise CalibrationError("no episode in the log has a care plan: the scenario simulates the care-plan "
                                   "flow, and this log shows none of it")
        days = Counter(d.weekday() for d in (self.first_day + timedelta(days=i) for i in range(span)))
        by_weekday = Counter(local_date(s.admitted).weekday() for s in self.stays)
        mean = n / span
        weights = [_round(by_weekday[w] / days[w] / mean, 3) if days[w] else 1.0 for w in range(7)]
        if all(days[w] for w in range(7)):
            self.put("admissions", "weekday_weights", weights, n, "admissions per Monday, ..., Sunday of the span, "
                                                                  "over the mean day")
        else:
            self.assume("admissions", "weekday_weights", "the log spans less than a week")
        hours = Counter(to_local(s.admitted).hour for s in self.stays)
        self.put("admissions", "hour_weights", [hours[h] for h in range(24)], n, "admissions by local hour")
        somatic = [s.somatic for s in self.stays if s.somatic is not None]
        self.put_or_assume("admissions", "somatic_share", somatic, lambda v: _share(sum(v), len(v)),
                           "admissions stated somatic", "the log does not say which admissions are somatic")
        named = Counter(s.municipality for s in self.stays if s.municipality)
        codes = Counter({str(int(c)): n for c, n in named.items() if check_municipality(c) is None})
        unknown = sorted(c for c in named if check_municipality(c) is not None)
        if unknown:  # a scenario holds only the 98 codes (it would not load): said, and left out
            shown = ", ".join(repr(c[:12]) for c in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            self.out.notes.append(f"{sum(named[c] for c in unknown)} admission(s) name a municipality code that is "
                                  f"not one of the 98 ({shown}); they are left out of admissions.municipalities")
        if codes:
            ordered = sorted(codes, key=lambda c: (-codes[c], c))
            self.put("admissions", "municipalities", ordered, sum(codes.values()),
                     "the municipalities the admission advices went to")
            self.put("admissions", "municipality_weights", [codes[c] for c in ordered], sum(codes.values()),
                     "admissions per municipality")
        else:
            self.assume("admissions", "municipalities", "no admission names its municipality")
            self.assume("admissions", "municipality_weights")

    # -- stay --

    def stay(self) -> None:
        ready = [s for s in self.helped if s.ready is not None and s.ready >= s.admitted]
        if not ready:
            for key in ("ready_after_median_hours", "ready_after_sigma", "ready_hour_weights",
                        "ready_at_the_earliest_hours"):
                self.assume("stay", key, "the log has no ready times")
            return
        waits = [_hours(s.admitted, s.ready) for s in ready]
        earliest = _floor(min(waits))
        self.put("stay", "ready_at_the_earliest_hours", earliest, len(waits),
                 "the shortest admission-to-ready time in the log")
        hours = Counter(to_local(s.ready).hour for s in ready)
        self.put("stay", "ready_hour_weights", [hours[h] for h in range(24)], len(ready), "ready times by local hour")
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
        self.put("stay", "ready_after_median_hours", _round(float(scale), 2), len(ready),
                 "log-normal stay to the ready day, maximum likelihood on each episode's interval (the log shows the "
                 "day the stay ends; the hour is the ready hour's)")
        self.put("stay", "ready_after_sigma", _round(sigma, 3), len(ready), "its shape, the same fit")
        weights = np.asarray([hours[h] for h in range(24)], dtype=float)
        model = _model_waits(ready, float(scale), sigma, weights / weights.sum(), earliest)
        ks = stats.ks_2samp(waits, model)
        self.out.goodness_of_fit["ready_after"] = {
            "model": f"log-normal, median {float(scale):.1f} h, sigma {sigma:.3f}, to the day; ready hour as fitted",
            "test": f"two-sample Kolmogorov-Smirnov: observed admission-to-ready hours against {GOF_DRAWS} draws "
                    f"per episode from the fitted model",
            "n": len(waits), "ks_statistic": _round(float(ks.statistic), 4), "p_value": _round(float(ks.pvalue), 4)}

    # -- hospital --

    def hospital(self) -> None:
        h, policy, calendar = "hospital", self.policy, self.calendar
        helped = [s for s in self.helped if s.ready is not None]
        after_report = [_minutes(r.at, s.plan.at) for s in helped
                        if (r := s.first("admission_report_sent")) is not None and s.plan.at >= r.at]
        self.put_or_assume(h, "care_plan_after_report_minutes", after_report,
                           lambda v: _round(max(0.0, math.floor(min(v) * 10) / 10), 1),
                           "the shortest admission report -> care plan", "no admission report before a care plan")
        gap = timedelta(minutes=self._value(h, "care_plan_after_report_minutes"))
        late, avoidable, leads, phoned, calls_after, needs_call = 0, 0, [], 0, [], 0
        for s in helped:
            plan = s.plan.at
            due = care_plan_due(calendar, policy, s.ready)
            report = s.first("admission_report_sent")
            could = report is None or due >= report.at + gap
            if could:
                avoidable += 1
                if plan > due:
                    late += 1
                else:
                    leads.append(_hours(plan, due))
            if plan > due or not calendar.weekday_before_clock(plan, policy.acknowledgement.cutoff):
                needs_call += 1
                call = s.first("phone_call", plan, _by_hospital, s.discharged)
                if call is not None:
                    phoned += 1
                    calls_after.append(_minutes(plan, call.at))
        if avoidable:
            self.put(h, "care_plan_late_share", _share(late, avoidable), avoidable,
                     "care plans after the CP-1 deadline among those that could have been on time (the deadline "
                     "after the admission report plus care_plan_after_report_minutes)")
        else:
            self.assume(h, "care_plan_late_share", "no care plan could have been on time")
        self.put_or_assume(h, "care_plan_lead_hours", leads, lambda v: _round(float(np.quantile(v, 0.95)) / 0.95, 2),
                           "on-time plans' lead before the CP-1 deadline, uniform up to this (95th percentile / 0.95)",
                           "no care plan was on time")
        has_calls = any(e.kind == "phone_call" for s in self.stays for e in s.events)
        if needs_call and has_calls:
            self.put(h, "phone_when_late_share", _share(phoned, needs_call), needs_call,
                     "late plans and plans after the acknowledgement cutoff followed by a hospital phone call before "
                     "the discharge")
        else:
            self.assume(h, "phone_when_late_share", "the log has no phone calls (no side-car)" if not has_calls
                        else "no plan was late or after the cutoff")
        self.put_or_assume(h, "phone_after_plan_minutes", calls_after, lambda v: _round(statistics.median(v), 1),
                           "median care plan -> phone call", "no such phone call in the log")
        self._completion_and_conference(helped)
        self._discharge(helped)

    def _completion_and_conference(self, helped: list[Stay]) -> None:
        h, calendar = "hospital", self.calendar
        notice_due = [s for s in helped if s.discharged and local_date(s.discharged) > local_date(s.ready)]
        notices = [n for s in notice_due if (n := s.first("completion_notice_sent")) is not None]
        if notice_due:
            self.put(h, "completion_notice_share", _share(len(notices), len(notice_due)), len(notice_due),
                     "completion notices among stays discharged on a later day than the ready day (FM-1)")
        else:
            self.assume(h, "completion_notice_share", "no stay went past its ready day")
        delays = [_minutes(s.ready, n.at) for s in notice_due
                  if (n := s.first("completion_notice_sent")) is not None and n.at >= s.ready]
        self.put_or_assume(h, "completion_notice_minutes", delays, _span, "shortest and longest ready -> notice",
                           "no completion notice in the log")
        conferences = [(s, c) for s in helped if (c := s.first("conference_ready")) is not None]
        self.put(h, "conference_share", _share(len(conferences), len(helped)), len(helped),
                 "help-needing stays with a discharge conference")
        steps = []
        for s, c in conferences:
            day, k = local_date(s.plan.at), 0
            while day < local_date(c.at) and k < 366:
                day, k = calendar.next_weekday(day), k + 1
            steps.append(k)
        mean = statistics.fmean(steps) if steps else 0.0
        self.put_or_assume(h, "conference_after_weekdays", steps,
                           lambda _v: _round(1 / math.log(1 + 1 / (mean - 1)), 3) if mean > 1 else 0.0,
                           f"weekdays from the care plan to the conference, 1 + a whole exponential (mean seen "
                           f"{mean:.2f})", "no conference in the log")
        clocks = Counter(to_local(c.at).time().replace(second=0, microsecond=0) for _, c in conferences)
        self.put_or_assume(h, "conference_at", list(clocks.elements()), lambda _v: clocks.most_common(1)[0][0],
                           "the commonest local time of the conferences", "no conference in the log")
        after = [_hours(c.at, s.discharged) for s, c in conferences if s.discharged and s.discharged >= c.at]
        self.put_or_assume(h, "discharge_after_conference_hours", after,
                           lambda v: _floor(min(v)), "the shortest conference -> discharge",
                           "no conference followed by a discharge")
        terminal = [s for s in helped if s.first("terminal", where=lambda e: bool(e.data.get("wishes_to_stay")))]
        self.put(h, "terminal_share", _share(len(terminal), len(helped)), len(helped),
                 "help-needing stays declared terminal, wishing to stay")
        extra = [_hours(s.ready, s.discharged) / 24 for s in terminal if s.discharged]
        self.put_or_assume(h, "terminal_stay_days", extra, lambda v: _round(statistics.fmean(v), 2),
                           "mean ready -> discharge of terminal patients (includes the wait for a reception)",
                           "no terminal patient in the log")
        guarded = [(s, g) for s in helped if (g := s.first("guardianship_info_sent")) is not None]
        self.put(h, "guardianship_share", _share(len(guarded), len(helped)), len(helped),
                 "help-needing stays with a guardianship case (health information handed over)")
        info = [_hours(s.ready, g.at) / 24 for s, g in guarded if g.at >= s.ready]
        self.put_or_assume(h, "guardianship_info_days", info, lambda v: _round(statistics.fmean(v), 2),
                           "mean ready -> guardianship information", "no guardianship case in the log")
        after = [_hours(g.at, s.discharged) for s, g in guarded if s.discharged and s.discharged >= g.at]
        self.put_or_assume(h, "discharge_after_guardianship_hours", after,
                           lambda v: _floor(min(v)),
                           "the shortest guardianship information -> discharge", "no guardianship case in the log")

    def _discharge(self, helped: list[Stay]) -> None:
        h, m, policy = "hospital", "municipality", self.policy
        acked = [(s, a) for s in helped if (a := s.first("care_plan_ack_sent")) is not None]
        questions = []
        for s, a in acked:
            q = s.first("correspondence_sent", a.at, _by_municipality, s.discharged)
            questions.append((s, a, q))
        asked = [(s, a, q) for s, a, q in questions if q is not None]
        if acked:
            self.put(h, "question_share", _share(len(asked), len(acked)), len(acked),
                     "acknowledged care plans the municipality then asked about before the discharge")
        else:
            self.assume(h, "question_share", "no acknowledgement in the log")
        answers = [_hours(q.at, ans.at) for s, _, q in asked
                   if (ans := s.first("correspondence_sent", q.at, lambda e: e.from_hospital)) is not None]
        self.put_or_assume(h, "answer_hours", answers, lambda v: _round(statistics.fmean(v), 3),
                           "mean question -> the hospital's answer", "no answered question in the log")
        self.put_or_assume(m, "question_after_ack_minutes", [_minutes(a.at, q.at) for _, a, q in asked],
                           lambda v: _round(statistics.median(v), 1), "median acknowledgement -> question",
                           "no question in the log")
        within = policy.discharge.report_within
        reports = [(s, r) for s in helped if s.discharged and (r := s.first("discharge_report_sent")) is not None]
        delays = [(s, r, _minutes(s.discharged, r.at)) for s, r in reports]
        late = [d for _, _, d in delays if d > within.total_seconds() / 60]
        on_time = [d for _, _, d in delays if 0 <= d <= within.total_seconds() / 60]
        if delays:
            self.put(h, "discharge_report_late_share", _share(len(late), len(delays)), len(delays),
                     "discharge reports later than the policy's discharge.report_within after the discharge")
        else:
            self.assume(h, "discharge_report_late_share", "no discharge report in the log")
        self.put_or_assume(h, "discharge_report_minutes", on_time, _span, "shortest and longest report in time",
                           "no report in time in the log")
        self.put_or_assume(h, "discharge_report_late_minutes", [d - within.total_seconds() / 60 for d in late],
                           lambda v: [max(1, math.floor(min(v))), max(1, math.floor(max(v)))],
                           "shortest and longest lateness past discharge.report_within", "no late report in the log")
        must_call = [(s, r) for s, r, _ in delays
                     if not self.calendar.weekday_before_clock(r.at, policy.discharge.phone_cutoff)]
        called = [(r, c) for s, r in must_call if (c := s.first("phone_call", r.at, lambda e: e.from_hospital))]
        has_calls = any(e.kind == "phone_call" for s in self.stays for e in s.events)
        if must_call and has_calls:
            self.put(m, "must_act_share", _share(len(called), len(must_call)), len(must_call),
                     "reports after the phone cutoff (DIS-2) followed by the hospital's phone call")
        else:
            self.assume(m, "must_act_share", "no report after the phone cutoff" if has_calls else
                        "the log has no phone calls (no side-car)")
        self.put_or_assume(h, "report_phone_after_minutes", [_minutes(r.at, c.at) for r, c in called],
                           lambda v: _round(statistics.median(v), 1), "median report -> phone call",
                           "no such phone call in the log")
        destinations = Counter(s.destination for s in self.stays if s.destination in DESTINATIONS)
        if destinations:
            self.put(h, "destination_weights", [destinations[d] for d in DESTINATIONS], sum(destinations.values()),
                     f"discharges by destination ({', '.join(DESTINATIONS)})")
        else:
            self.assume(h, "destination_weights", "no discharge states its destination")
        pairs = (("admission_advice_minutes", "admitted", "admission_advice_sent", h, "admission -> advice"),
                 ("discharge_advice_minutes", "discharged", "discharge_advice_sent", h, "discharge -> advice"),
                 ("admission_report_minutes", "admission_advice_sent", "admission_report_sent", m,
                  "admission advice -> report"))
        for key, first, then, table, what in pairs:
            spans = []
            for s in self.stays:
                a = s.first(first)
                b = s.first(then, a.at) if a is not None else None
                if a is not None and b is not None:
                    spans.append(_minutes(a.at, b.at))
            self.put_or_assume(table, key, spans, _span, f"shortest and longest {what}", f"no {what} in the log")
        clocks = [_clock_minutes(s.plan.at) for s in helped]
        self.put_or_assume(h, "ward_day_start", clocks, lambda v: _clock(min(v)),
                           "the earliest local time a care plan was sent", "no care plan")
        self.put_or_assume(h, "ward_day_end", clocks, lambda v: _clock(min(24 * 60 - 1, max(
            math.ceil(max(v) / 60) * 60, math.floor(min(v)) + 60))),
                           "the latest local time a care plan was sent, to the next whole hour (at least an hour "
                           "after the start)", "no care plan")

    # -- municipality --

    def municipality(self) -> None:
        m, policy, calendar = "municipality", self.policy, self.calendar
        helped = [s for s in self.helped if s.discharged is not None]
        prep = [_hours(s.plan.at, s.discharged) for s in helped if s.discharged > s.plan.at]
        self.put_or_assume(m, "preparation_hours", prep, lambda v: _floor(min(v)),
                           "the shortest care plan -> discharge", "no discharge after a care plan")
        acks = [(s, a) for s in helped if (a := s.first("care_plan_ack_sent")) is not None]
        before = [_minutes(a.at, s.discharged) for s, a in acks if a.at <= s.discharged]
        self.put_or_assume(m, "ack_before_discharge_minutes", before, lambda v: _round(math.floor(min(v)), 1),
                           "the shortest acknowledgement -> discharge", "no acknowledgement before a discharge")
        cap = self._value(m, "ack_before_discharge_minutes")
        free = [(s, a) for s, a in acks if abs(_minutes(a.at, s.discharged) - cap) > 1]
        self.put_or_assume(m, "office_opens", [_clock_minutes(a.at) for _, a in free],
                           lambda v: _clock(math.floor(min(v) / QUARTER) * QUARTER),
                           "the earliest local time of an acknowledgement, to the quarter hour",
                           "no acknowledgement in the log")
        opens = self._value(m, "office_opens")
        durations, complete = 0.0, 0
        for s, a in acks:
            plan = s.plan.at
            day = local_date(plan)
            start = max(plan, at_local(day, opens)) if calendar.weekday_before_clock(
                plan, policy.acknowledgement.cutoff) else at_local(calendar.next_weekday(day), opens)
            durations += max(0.0, _hours(start, a.at))
            complete += (s, a) in free
        if complete:
            self.put(m, "ack_delay_hours", _round(durations / complete, 3), len(acks),
                     "exponential mean from the office's opening (or the plan, if later) to the acknowledgement; "
                     "acknowledgements held to the discharge count as censored")
        else:
            self.assume(m, "ack_delay_hours", "no acknowledgement in the log")
        self._window(helped)

    def _window(self, helped: list[Stay]) -> None:
        m, calendar = "municipality", self.calendar
        clocks = [_clock_minutes(s.discharged) for s in helped]
        start = math.floor(float(np.quantile(clocks, 0.01, method="lower")) / QUARTER) * QUARTER
        end = min(24 * 60 - 1, math.ceil(float(np.quantile(clocks, 0.99, method="higher")) / QUARTER) * QUARTER)
        if end <= start:
            end = min(24 * 60 - 1, start + QUARTER)
        outside = sum(1 for c in clocks if not start <= c < end)
        self.put(m, "discharge_window_start", _clock(start), len(clocks),
                 "the earliest discharge clock time (1st percentile), to the quarter hour")
        self.put(m, "discharge_window_end", _clock(end), len(clocks),
                 f"the latest discharge clock time (99th percentile), to the quarter hour; {outside} of "
                 f"{len(clocks)} discharges outside the window")
        prep = timedelta(hours=self._value(m, "preparation_hours"))
        offsets = []
        for s in helped:
            opens = at_local(local_date(s.discharged), _clock(start))
            could = max(s.ready, s.plan.at + prep)
            if could < opens and s.discharged >= opens and not s.first("conference_ready") \
                    and not s.first("guardianship_info_sent") and not s.first("terminal"):
                offsets.append(_minutes(opens, s.discharged))
        self.put_or_assume(m, "reception_spread_minutes", offsets,
                           lambda v: _round(max(v) * (len(v) + 1) / len(v), 1),
                           "discharges of patients who could have gone before the window opened: uniform over this "
                           "long after the opening (largest x (n + 1) / n)", "no patient was waiting at an opening")
        def weekend(d: date) -> bool:
            return d.weekday() >= 5 and calendar.holiday_name(d) is None

        def holiday(d: date) -> bool:
            return calendar.holiday_name(d) is not None

        for key, kind, is_day in (("weekend_reception", "weekend", weekend),
                                  ("holiday_reception", "public holiday", holiday)):
            went = [s for s in helped if is_day(local_date(s.discharged))]
            waited = [s for s in helped if any(is_day(local_date(s.ready) + timedelta(days=k))
                                               for k in range((local_date(s.discharged) - local_date(s.ready)).days))]
            if went:
                self.put(m, key, True, len(went), f"{len(went)} discharges on a {kind}")
            elif waited:
                self.put(m, key, False, len(waited), f"no discharge on a {kind}, though {len(waited)} ready patients "
                                                     f"waited over one")
            else:
                self.assume(m, key, f"nobody ready waited over a {kind} in the log")
        busiest = Counter((s.municipality, local_date(s.discharged)) for s in helped)
        most = f" (the busiest day: {max(busiest.values())} receptions in one municipality)" if busiest else ""
        self.assume(m, "reception_capacity_per_day", f"a log shows the receptions made, not how many more were "
                                                     f"possible{most}")

    def _value(self, table: str, key: str) -> Any:
        return self.out.keys[table][key].value


class Replayed(Protocol):
    """What calibration reads of a replay (medcom.replay.ReplayResult, of a whole log or of a partition)."""

    episodes: dict[str, Episode]
    cancelled: set[str]


@dataclass(frozen=True)
class EpisodeStays:
    """What a replayed partition gives calibration: the stays of its episodes that were not cancelled, in name
    order, and how many (a picklable callable, run where the partition runs: calibration holds stays, never the
    log)."""

    def __call__(self, result: Replayed) -> tuple[list[Stay], int]:
        found = stays(ep for n, ep in sorted(result.episodes.items()) if n not in result.cancelled)
        return found, len(found)


def fit(episodes: Iterable[Episode], policy: Policy, base: dict[str, Any], *, log: str, base_name: str,
        name: str, policy_table: dict[str, Any] | None = None) -> Calibration:
    """Fit every key of a scenario to the replayed `episodes`; `base` is the base scenario's parsed TOML."""
    return fit_stays(stays(episodes), policy, base, log=log, base_name=base_name, name=name,
                     policy_table=policy_table)


def fit_stays(found: list[Stay], policy: Policy, base: dict[str, Any], *, log: str, base_name: str,
              name: str, policy_table: dict[str, Any] | None = None) -> Calibration:
    """`fit`, of the episodes' stays (`EpisodeStays` of each partition of a replay, in name order)."""
    if not found:
        raise CalibrationError("the log has no admitted episode to fit")
    f = _Fit(found, policy, base, log, base_name)
    f.run(name)
    f.admissions()
    f.stay()
    f.hospital()
    f.municipality()
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
