"""One replication of a planner scenario: stochastic hospital and municipality feeding the replay engine live.

Arrivals and every per-patient draw are made up front from the replication's own random streams (numpy),
one fixed-size row of numbers per patient, so that variants of a scenario see the same patients with the
same stays and the same behaviour draws (common random numbers): a variant changes what happens to them,
not who they are. The events go through the same `Engine` and rules as a replayed log; completion tax,
violations and the 72-hour window are read from the engine's results, never recomputed here.

Only patients who need municipal help after the discharge are simulated (the care-plan flow); the
scenario's admissions are thinned by `needs_help_share`. Every figure of the agreement comes from the
policy and every behaviour figure from the scenario: this module writes no clock time or delay itself.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from medcom.calendar import TZ, add_elapsed, at_local, local_date, localize
from medcom.engine.engine import Engine, Episode
from medcom.engine.rules import all_rules, care_plan_due
from medcom.events import Event
from medcom.gc_tuning import batch_gc
from simulator.scenario import DESTINATIONS, Run, Settings

# Columns of the per-patient row of uniform draws.
(U_MUNICIPALITY, U_SOMATIC, U_READY_HOUR, U_READY_MINUTE, U_DESTINATION, U_PLAN_LATE, U_PLAN_WHEN, U_PHONE,
 U_NOTICE, U_CONFERENCE, U_CONFERENCE_DAYS, U_TERMINAL, U_TERMINAL_DAYS, U_GUARDIANSHIP, U_GUARDIANSHIP_DAYS,
 U_QUESTION, U_ANSWER, U_ACK, U_SPREAD, U_REPORT_LATE, U_REPORT_DELAY, U_ADVICE, U_MUST_ACT, U_ADMIN_REPORT,
 U_CPR, U_NOTICE_DELAY) = range(26)
DRAWS = 26
MINUTE, HOUR, DAY = 60, 3600, 86400  # seconds
SETTLE = 8 * DAY  # after the last event, longer than any deadline a rule sets (next weekday across Easter)
BIRTH_YEARS = range(1930, 1960)  # simulated citizens' CPR numbers


@dataclass
class Metrics:
    """What one replication measured over the episodes admitted inside the horizon."""

    values: dict[str, float] = field(default_factory=dict)
    tax_dkk_by_municipality: dict[str, float] = field(default_factory=dict)
    violations_by_rule: dict[str, int] = field(default_factory=dict)
    discharges_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    tax_days_by_week: list[int] = field(default_factory=list)
    engine_events: int = 0  # SimPy events the run processed (for the benchmark)


@dataclass
class Patient:
    number: int
    admitted: int  # seconds since the origin
    stay_hours: float
    u: list[float]
    counted: bool


def _weights(values: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _pick(cumulative: list[float], u: float) -> int:
    """The index whose cumulative share first exceeds `u` (inverse transform of a discrete distribution)."""
    return min(bisect_right(cumulative, u), len(cumulative) - 1)


def patients(run: Run, settings: Settings, replication: int) -> list[Patient]:
    """Arrivals and draws for one replication; depends on the run, the admission settings and the seed only."""
    a, stay = settings.admissions, settings.stay
    arrivals = np.random.default_rng([run.seed, replication, 1])
    draws = np.random.default_rng([run.seed, replication, 2])
    days = run.warmup_days + run.horizon_days + run.cooldown_days
    weekday = _weights(a.weekday_weights) * 7
    hours = _weights(a.hour_weights)
    cum_hours = np.cumsum(hours)
    origin_day = run.start
    out: list[Patient] = []
    rate = a.per_day * a.needs_help_share
    for d in range(days):
        day = origin_day + timedelta(days=d)
        mean = rate * weekday[day.weekday()]
        if a.process == "fixed":
            n = int(round(mean))
            clocks = [float(np.searchsorted(cum_hours, (k + 0.5) / n)) * HOUR for k in range(n)] if n else []
        else:
            n = int(arrivals.poisson(mean))
            chosen = arrivals.choice(24, size=n, p=hours)
            clocks = list(chosen * HOUR + arrivals.random(n) * HOUR)
        counted = run.warmup_days <= d < run.warmup_days + run.horizon_days
        for clock in sorted(clocks):
            local = datetime.combine(day, time(0)) + timedelta(seconds=int(clock))
            admitted = int((_utc(local) - _origin(run)).total_seconds())
            out.append(Patient(len(out), admitted, 0.0, [], counted))
    z = draws.standard_normal(len(out))
    u = draws.random((len(out), DRAWS)).tolist()
    for p, zi, ui in zip(out, z.tolist(), u, strict=True):
        p.stay_hours = stay.ready_after_median_hours * math.exp(stay.ready_after_sigma * zi)
        p.u = ui
    return out


def _origin(run: Run) -> datetime:
    return at_local(run.start, time(0)).astimezone(UTC)


def _utc(naive_local: datetime) -> datetime:
    return localize(naive_local, strict=False).astimezone(UTC)


class Simulation:
    """The hospital, the municipality and their patients for one replication of one variant."""

    def __init__(self, run: Run, settings: Settings, replication: int, *, keep_events: bool = False) -> None:
        self.run, self.s, self.replication = run, settings, replication
        self.policy = settings.policy
        self.calendar = self.policy.business_calendar
        self.engine = Engine(self.policy, all_rules(), log_has_phone_calls=True, log_has_receipts=False,
                             origin=_origin(run))
        self.env = self.engine.env
        self.keep_events = keep_events
        self.events: list[Event] = []
        self.seq = 0
        a, h = settings.admissions, settings.hospital
        self.cum_municipality = np.cumsum(_weights(a.municipality_weights)).tolist()
        self.cum_destination = np.cumsum(_weights(h.destination_weights)).tolist()
        self.cum_ready_hour = np.cumsum(_weights(settings.stay.ready_hour_weights)).tolist()
        shares = _weights(a.municipality_weights)
        capacity = settings.municipality.reception_capacity_per_day
        self.capacity = {code: capacity * share for code, share in zip(a.municipalities, shares, strict=True)}
        self.booked: Counter[tuple[str, date]] = Counter()
        self.metrics = Metrics()
        self._totals: Counter[str] = Counter()
        self._tax_by_municipality: Counter[str] = Counter()
        self._tax_weeks: Counter[int] = Counter()
        self._horizon_start = run.start + timedelta(days=run.warmup_days)
        self._stays: list[tuple[float, float, bool]] = []  # (admitted, discharged, counted) in seconds
        # An episode is measured and forgotten once every deadline of its rules has passed and no planned
        # re-admission can still follow its discharge (LEAVE-1 looks for the patient's earlier episodes).
        self.settle = max(SETTLE, math.ceil(self.policy.leave.readmission_window.total_seconds()))

    # ---- time -------------------------------------------------------------------------------------------

    def instant(self, seconds: float) -> datetime:
        return self.engine.instant(seconds)

    def seconds(self, at: datetime) -> int:
        return math.ceil(self.engine.clock(at.astimezone(UTC)))

    def emit(self, episode: str, kind: str, **data: object) -> Event:
        self.seq += 1
        event = Event(self.instant(self.env.now), episode, kind, data, self.seq, "simulation")
        self.engine.deliver(event)
        if self.keep_events:
            self.events.append(event)
        return event

    def wait_until(self, seconds: float):
        return self.env.timeout(max(0.0, seconds - self.env.now))

    @staticmethod
    def minutes(span: tuple[float, ...], u: float) -> int:
        """A whole number of minutes drawn uniformly from a scenario range [from, to], inclusive, in seconds."""
        low, high = span
        return int(low + u * (high - low + 1)) * MINUTE

    def report_delay(self, u: float, late: bool) -> int:
        """The discharge report's delay after the discharge (seconds): in time, within the policy's
        `discharge.report_within`; late, the scenario's range after it."""
        h = self.s.hospital
        within = self.policy.discharge.report_within.total_seconds() / MINUTE
        if late:
            low, high = h.discharge_report_late_minutes
            return int(within + low + u * (high - low + 1)) * MINUTE
        low, high = h.discharge_report_minutes
        high = min(high, math.floor(within))
        return self.minutes((min(low, high), high), u)

    # ---- the municipality's reception --------------------------------------------------------------------

    def reception_day(self, day: date) -> bool:
        return self.s.municipality.receives_on(day, self.calendar)

    def reception_slot(self, municipality: str, earliest: int, u_spread: float) -> int:
        """The first reception at or after `earliest` (seconds) inside the window, on a reception day with
        capacity left; booked."""
        m = self.s.municipality
        at = self.instant(earliest)
        day = local_date(at)
        capacity = self.capacity[municipality]
        while True:
            if self.reception_day(day) and self.booked[(municipality, day)] < capacity:
                opens, closes = at_local(day, m.discharge_window_start), at_local(day, m.discharge_window_end)
                if at < closes:
                    start = max(at, opens)
                    spread = min(u_spread * m.reception_spread_minutes * MINUTE,
                                 (closes - start).total_seconds()) if start == opens else 0.0
                    self.booked[(municipality, day)] += 1
                    return self.seconds(start) + int(spread)
            day += timedelta(days=1)
            at = at_local(day, time(0))

    # ---- one patient -------------------------------------------------------------------------------------

    def arrivals(self, patients: list[Patient]):
        for p in patients:
            yield self.wait_until(p.admitted)
            self.env.process(self.episode(p))

    def episode(self, p: Patient):
        s, u = self.s, p.u
        h, m = s.hospital, s.municipality
        name = f"S{self.replication:02d}-{p.number:06d}"
        municipality = s.admissions.municipalities[_pick(self.cum_municipality, u[U_MUNICIPALITY])]
        admitted = int(self.env.now)
        self.emit(name, "admitted", cpr=_cpr(u[U_CPR], p.number), municipality=municipality,
                  department="Medicinsk afsnit", somatic=u[U_SOMATIC] < s.admissions.somatic_share)
        yield self.env.timeout(self.minutes(h.admission_advice_minutes, u[U_ADVICE]))
        self.emit(name, "admission_advice_sent", id=f"{name}-ADV")
        yield self.env.timeout(self.minutes(m.admission_report_minutes, u[U_ADMIN_REPORT]))
        self.emit(name, "admission_report_sent", id=f"{name}-REP")

        ready = self._ready_time(admitted, p)
        due = self.seconds(care_plan_due(self.calendar, self.policy, self.instant(ready)))
        earliest_plan = int(self.env.now) + int(h.care_plan_after_report_minutes * MINUTE)
        if u[U_PLAN_LATE] < h.care_plan_late_share or due < earliest_plan:
            plan_at = max(earliest_plan, due + 1 + int(u[U_PLAN_WHEN] * max(0, ready - due - 1)))
        else:
            plan_at = max(earliest_plan, due - int(u[U_PLAN_WHEN] * h.care_plan_lead_hours * HOUR))
        plan_at = min(self._daytime(plan_at), max(earliest_plan, ready))
        yield self.wait_until(plan_at)
        conference = u[U_CONFERENCE] < h.conference_share
        plan_id = f"{name}-CP"
        self.emit(name, "care_plan_sent", id=plan_id, special_coordination="discharge_conference" if conference
                  else None)

        # The municipality books the reception when the care plan arrives.
        terminal = u[U_TERMINAL] < h.terminal_share
        earliest = max(ready, plan_at + int(m.preparation_hours * HOUR))
        timeline: list[tuple[int, int, str]] = [(ready, 1, "ready")]
        in_time = self.calendar.weekday_before_clock(self.instant(plan_at), self.policy.acknowledgement.cutoff)
        if (plan_at > due or not in_time) and u[U_PHONE] < h.phone_when_late_share:
            timeline.append((plan_at + int(h.phone_after_plan_minutes * MINUTE), 0, "phone"))
        if conference:
            weekdays = 1 + int(-h.conference_after_weekdays * math.log(1 - u[U_CONFERENCE_DAYS]))
            day = local_date(self.instant(plan_at))
            for _ in range(weekdays):
                day = self.calendar.next_weekday(day)
            conference_at = self.seconds(at_local(day, h.conference_at))
            timeline.append((conference_at, 3, "conference"))
            earliest = max(earliest, conference_at + int(h.discharge_after_conference_hours * HOUR))
        if u[U_GUARDIANSHIP] < h.guardianship_share:
            guardianship_at = ready + int(-h.guardianship_info_days * math.log(1 - u[U_GUARDIANSHIP_DAYS]) * DAY)
            timeline.append((guardianship_at, 4, "guardianship"))
            earliest = max(earliest, guardianship_at + int(h.discharge_after_guardianship_hours * HOUR))
        if terminal:
            earliest = max(earliest, ready + int(-h.terminal_stay_days * math.log(1 - u[U_TERMINAL_DAYS]) * DAY))
        discharge_at = self.reception_slot(municipality, earliest, u[U_SPREAD])
        if local_date(self.instant(discharge_at)) > local_date(self.instant(ready)) \
                and u[U_NOTICE] < h.completion_notice_share:
            timeline.append((ready + self.minutes(h.completion_notice_minutes, u[U_NOTICE_DELAY]), 2, "notice"))
        # The acceptance carries the discharge time, so it comes before the discharge (at the latest the
        # scenario's minutes before); a plan so late that there is no time left was acknowledged by phone alone.
        ack_at = max(plan_at + MINUTE, min(self._ack_time(plan_at, u[U_ACK]),
                                           discharge_at - int(m.ack_before_discharge_minutes * MINUTE)))
        if ack_at < discharge_at:
            timeline.append((ack_at, 5, "ack"))
            if u[U_QUESTION] < h.question_share:
                question_at = ack_at + int(m.question_after_ack_minutes * MINUTE)
                timeline.append((question_at, 6, "question"))
                answer = question_at + max(MINUTE, int(-h.answer_hours * math.log(1 - u[U_ANSWER]) * HOUR))
                timeline.append((answer, 7, "answer"))
        destination = DESTINATIONS[_pick(self.cum_destination, u[U_DESTINATION])]
        late = u[U_REPORT_LATE] < h.discharge_report_late_share
        report_at = discharge_at + self.report_delay(u[U_REPORT_DELAY], late)
        timeline += [(discharge_at, 8, "discharge"),
                     (discharge_at + self.minutes(h.discharge_advice_minutes, u[U_ADVICE]), 9, "advice"),
                     (report_at, 10, "report")]
        if not self.calendar.weekday_before_clock(self.instant(report_at), self.policy.discharge.phone_cutoff) \
                and u[U_MUST_ACT] < m.must_act_share:
            timeline.append((report_at + int(h.report_phone_after_minutes * MINUTE), 11, "report phone"))
        timeline.sort()
        discharged: Event | None = None
        for at, _, what in timeline:
            yield self.wait_until(at)
            if what == "phone":
                self.emit(name, "phone_call", caller="hospital", topic="care plan")
            elif what == "ready":
                self.emit(name, "ready_for_discharge")
                if terminal:
                    self.emit(name, "terminal", wishes_to_stay=True)
            elif what == "notice":
                self.emit(name, "completion_notice_sent", id=f"{name}-FM",
                          agreed_discharge_at=self.instant(discharge_at))
            elif what == "conference":
                self.emit(name, "conference_ready")
            elif what == "guardianship":
                self.emit(name, "guardianship_info_sent")
            elif what == "ack":
                self.emit(name, "care_plan_ack_sent", id=f"{name}-ACK", ref=plan_id, decision="accept",
                          discharge_at=self.instant(discharge_at))
            elif what == "question":
                self.emit(name, "correspondence_sent", id=f"{name}-Q", sender="municipality", reply_to=plan_id,
                          subject="Spørgsmål til plejeforløbsplan")
            elif what == "answer":
                self.emit(name, "correspondence_sent", id=f"{name}-A", sender="hospital", reply_to=f"{name}-Q",
                          subject="Sv: Spørgsmål til plejeforløbsplan")
            elif what == "discharge":
                discharged = self.emit(name, "discharged", destination=destination)
            elif what == "advice":
                self.emit(name, "discharge_advice_sent", id=f"{name}-DA")
            elif what == "report":
                assert discharged is not None
                self.emit(name, "discharge_report_sent", id=f"{name}-DR", extended_responsibility_until=add_elapsed(
                    discharged.at, self.policy.extended_responsibility.window))
            else:
                self.emit(name, "phone_call", caller="hospital", topic="discharge report: act before the next weekday")
        # Close once every deadline the rules set for this episode has passed.
        yield self.env.timeout(self.settle)
        self._close(name, p, municipality)

    def _ready_time(self, admitted: int, p: Patient) -> int:
        """Admission plus the drawn stay, on that local day at the drawn hour of readiness (not before the
        scenario's earliest time after the admission)."""
        raw = self.instant(admitted + p.stay_hours * HOUR)
        hour = _pick(self.cum_ready_hour, p.u[U_READY_HOUR])
        minute = int(p.u[U_READY_MINUTE] * (HOUR // MINUTE)) if self.s.admissions.process == "poisson" else 0
        ready = self.seconds(at_local(local_date(raw), time(hour, minute)))
        return max(ready, admitted + int(self.s.stay.ready_at_the_earliest_hours * HOUR))

    def _daytime(self, at: int) -> int:
        """`at`, or the start of the ward's next day when it falls outside the ward's day (plans go out by day)."""
        h = self.s.hospital
        local = self.instant(at).astimezone(TZ)
        if h.ward_day_start <= local.time() < h.ward_day_end:
            return at
        day = local.date() + timedelta(days=1 if local.time() >= h.ward_day_end else 0)
        return self.seconds(at_local(day, h.ward_day_start))

    def _ack_time(self, plan_at: int, u: float) -> int:
        """The municipality's electronic acknowledgement: an exponential delay after the plan arrives (from
        the office's opening if it came in the night), or after the next weekday's opening when it came after
        the cutoff or on a non-weekday."""
        m = self.s.municipality
        delay = max(MINUTE, int(-m.ack_delay_hours * math.log(1 - u) * HOUR))
        at = self.instant(plan_at)
        day = local_date(at)
        if self.calendar.weekday_before_clock(at, self.policy.acknowledgement.cutoff):
            return max(plan_at, self.seconds(at_local(day, m.office_opens))) + delay
        return self.seconds(at_local(self.calendar.next_weekday(day), m.office_opens)) + delay

    # ---- measuring ---------------------------------------------------------------------------------------

    def _close(self, name: str, p: Patient, municipality: str) -> None:
        episode = self.engine.close_episode(name)
        admitted, discharged = episode.first("admitted"), episode.first("discharged")
        if admitted and discharged:
            self._stays.append((self.engine.clock(admitted.at), self.engine.clock(discharged.at), p.counted))
        if p.counted:
            self._measure(episode, municipality)
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
        t["phone_calls"] += sum(1 for e in ep.events if e.kind == "phone_call")
        t["municipal_messages"] += sum(1 for e in ep.events if e.is_message and e.from_hospital)
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
            self.env.process(self.arrivals(people))
            self.env.run()
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


def _cpr(u: float, number: int) -> str:
    """A valid CPR number (no modulus 11 since 2007) for a citizen born in one of BIRTH_YEARS."""
    year = BIRTH_YEARS[int(u * len(BIRTH_YEARS))] % 100
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    return f"{day:02d}{month:02d}{year:02d}{int(u * 1e6) % 4}{number % 1000:03d}"
