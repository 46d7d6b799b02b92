"""The simulated hospital: one SimPy process a patient, from the admission to the discharge report.

It sends what the scenario's hospital behaviour gives (`[hospital]`): the admission advice, the care plan
(aimed at CP-1's deadline, late for a share of patients, inside the ward's day), phone calls when the plan is
late or a late discharge report needs one, the completion notice, the conference and guardianship facts, the
discharge with its advice and report, and answers to the municipality's questions. It meets the
municipality through events: it waits for the admission report, and for the reception the municipality
books when the care plan arrives. Agreement figures come from the policy, behaviour figures from the scenario.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from medcom.calendar import add_elapsed
from medcom.engine.rules import care_plan_due
from simulator.patients import DAY, HOUR, MINUTE, Case, exponential, minutes, pick, weights
from simulator.scenario import DESTINATIONS

if TYPE_CHECKING:
    from simulator.simulation import Simulation

BIRTH_YEARS = range(1930, 1960)  # simulated citizens' CPR numbers
DEPARTMENT = "Medicinsk afsnit"


class Hospital:
    """The hospital's side of every episode of one replication."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.h = sim.s.hospital
        self.policy, self.calendar, self.clock = sim.policy, sim.calendar, sim.clock
        self.cum_destination = np.cumsum(weights(self.h.destination_weights)).tolist()
        self.cum_ready_hour = np.cumsum(weights(sim.s.stay.ready_hour_weights)).tolist()
        self._due: dict[date, int] = {}  # CP-1's deadline by ready day

    def stay(self, case: Case) -> Generator[Any, Any, None]:
        """One patient's episode, as the hospital lives it."""
        sim, h, d, env = self.sim, self.h, case.patient.draws, self.sim.env
        name = case.name
        admitted = int(env._now)
        sim.emit(case, "admitted", cpr=_cpr(d.cpr, case.patient.number), municipality=case.municipality,
                 department=DEPARTMENT, somatic=d.somatic < sim.s.admissions.somatic_share)
        yield sim.after(minutes(h.admission_advice_minutes, d.advice))
        sim.emit(case, "admission_advice_sent", id=f"{name}-ADV")
        yield sim.municipality.admission_report(case)

        ready = self.ready_time(case, admitted)
        due = self.care_plan_due(ready)
        plan_at = self.plan_time(case, ready, due)
        yield sim.until(plan_at)
        conference = d.conference < h.conference_share
        sim.emit(case, "care_plan_sent", id=case.plan_id,
                 special_coordination="discharge_conference" if conference else None)

        # What keeps the patient here beyond the ready time; the municipality books the reception on that.
        not_before = ready
        conference_at = guardianship_at = None
        if conference:
            conference_at = self.conference_time(plan_at, d.conference_days)
            not_before = max(not_before, conference_at + int(h.discharge_after_conference_hours * HOUR))
        if d.guardianship < h.guardianship_share:
            guardianship_at = ready + int(exponential(h.guardianship_info_days, d.guardianship_days) * DAY)
            not_before = max(not_before, guardianship_at + int(h.discharge_after_guardianship_hours * HOUR))
        terminal = d.terminal < h.terminal_share
        if terminal:
            not_before = max(not_before, ready + int(exponential(h.terminal_stay_days, d.terminal_days) * DAY))
        reception = sim.start(sim.municipality.care_plan_received(case, plan_at, not_before))
        discharge_at: int = yield case.agreed

        last = discharge_at  # the latest of what the hospital has decided to send so far
        in_time = self.clock.weekday_before(plan_at, self.calendar, self.policy.acknowledgement.cutoff)
        if (plan_at > due or not in_time) and d.phone < h.phone_when_late_share:
            last = max(last, sim.send(plan_at + int(h.phone_after_plan_minutes * MINUTE), case, "phone_call",
                                      caller="hospital", topic="care plan"))
        sim.send(ready, case, "ready_for_discharge")
        if terminal:
            sim.send(ready, case, "terminal", wishes_to_stay=True)
        if self.clock.date(discharge_at) > self.clock.date(ready) and d.notice < h.completion_notice_share:
            last = max(last, sim.send(ready + minutes(h.completion_notice_minutes, d.notice_delay), case,
                                      "completion_notice_sent", id=f"{name}-FM",
                                      agreed_discharge_at=self.clock.instant(discharge_at)))
        if conference_at is not None:
            sim.send(conference_at, case, "conference_ready")
        if guardianship_at is not None:
            sim.send(guardianship_at, case, "guardianship_info_sent")

        yield sim.until(discharge_at)
        discharged = sim.emit(case, "discharged",
                              destination=DESTINATIONS[pick(self.cum_destination, d.destination)])
        last = max(last, sim.send(discharge_at + minutes(h.discharge_advice_minutes, d.advice), case,
                                  "discharge_advice_sent", id=f"{name}-DA"))
        report_at = discharge_at + self.report_delay(d.report_delay, d.report_late < h.discharge_report_late_share)
        yield sim.until(report_at)
        sim.emit(case, "discharge_report_sent", id=f"{name}-DR", extended_responsibility_until=add_elapsed(
            discharged.at, self.policy.extended_responsibility.window))
        if not self.clock.weekday_before(report_at, self.calendar, self.policy.discharge.phone_cutoff) \
                and d.must_act < sim.s.municipality.must_act_share:
            yield sim.until(report_at + int(h.report_phone_after_minutes * MINUTE))
            sim.emit(case, "phone_call", caller="hospital", topic="discharge report: act before the next weekday")
        yield reception  # the municipality is done with the episode (acknowledged, questions answered)
        # Close once the hospital's last message is out and every deadline the rules set has passed.
        yield sim.until(max(last, env._now) + sim.settle)
        sim.close(case)

    def answer(self, case: Case) -> Generator[Any, Any, None]:
        """The answer to the municipality's question about the care plan (ACK-3)."""
        delay = max(MINUTE, int(exponential(self.h.answer_hours, case.patient.draws.answer) * HOUR))
        yield self.sim.after(delay)
        self.sim.emit(case, "correspondence_sent", id=f"{case.name}-A", sender="hospital", reply_to=f"{case.name}-Q",
                      subject="Sv: Spørgsmål til plejeforløbsplan")

    # ---- decisions ---------------------------------------------------------------------------------------

    def ready_time(self, case: Case, admitted: int) -> int:
        """Admission plus the drawn stay, on that local day at the drawn hour of readiness (not before the
        scenario's earliest time after the admission)."""
        p, clock = case.patient, self.clock
        day = clock.date(admitted + p.stay_hours * HOUR)
        hour = pick(self.cum_ready_hour, p.draws.ready_hour)
        minute = int(p.draws.ready_minute * (HOUR // MINUTE)) if self.sim.s.admissions.process == "poisson" else 0
        ready = clock.on_clock(day, hour * HOUR + minute * MINUTE)
        return max(ready, admitted + int(self.sim.s.stay.ready_at_the_earliest_hours * HOUR))

    def care_plan_due(self, ready: int) -> int:
        """CP-1's deadline for a ready time (the rule's own function, once per ready day)."""
        day = self.clock.date(ready)
        due = self._due.get(day)
        if due is None:
            due = self._due[day] = self.clock.seconds(care_plan_due(self.calendar, self.policy,
                                                                     self.clock.instant(ready)))
        return due

    def plan_time(self, case: Case, ready: int, due: int) -> int:
        """When the care plan goes out: some time before the deadline, or (a share, and whenever the deadline
        is past) between the deadline and the ready time; not before the scenario's delay after the admission
        report, and inside the ward's day."""
        h, d = self.h, case.patient.draws
        earliest = int(self.sim.env._now) + int(h.care_plan_after_report_minutes * MINUTE)
        if d.plan_late < h.care_plan_late_share or due < earliest:
            plan_at = max(earliest, due + 1 + int(d.plan_when * max(0, ready - due - 1)))
        else:
            plan_at = max(earliest, due - int(d.plan_when * h.care_plan_lead_hours * HOUR))
        return min(self.ward_day(plan_at), max(earliest, ready))

    def ward_day(self, at: int) -> int:
        """`at`, or the start of the ward's next day when it falls outside the ward's day (plans go out by day)."""
        h, clock = self.h, self.clock
        day = clock.date(at)
        if at < clock.at(day, h.ward_day_start):
            return clock.at(day, h.ward_day_start)
        if at < clock.at(day, h.ward_day_end):
            return at
        return clock.at(day + timedelta(days=1), h.ward_day_start)

    def conference_time(self, plan_at: int, u: float) -> int:
        """The hospital is ready for the discharge conference at the scenario's hour, a drawn number of
        weekdays after the care plan."""
        weekdays = 1 + int(exponential(self.h.conference_after_weekdays, u))
        day = self.clock.date(plan_at)
        for _ in range(weekdays):
            day = self.calendar.next_weekday(day)
        return self.clock.at(day, self.h.conference_at)

    def report_delay(self, u: float, late: bool) -> int:
        """The discharge report's delay after the discharge (seconds): in time, within the policy's
        `discharge.report_within`; late, the scenario's range after it."""
        h = self.h
        within = self.policy.discharge.report_within.total_seconds() / MINUTE
        if late:
            low, high = h.discharge_report_late_minutes
            return int(within + low + u * (high - low + 1)) * MINUTE
        low, high = h.discharge_report_minutes
        high = min(high, math.floor(within))
        return minutes((min(low, high), high), u)


def _cpr(u: float, number: int) -> str:
    """A valid CPR number (no modulus 11 since 2007) for a citizen born in one of BIRTH_YEARS."""
    year = BIRTH_YEARS[int(u * len(BIRTH_YEARS))] % 100
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    return f"{day:02d}{month:02d}{year:02d}{int(u * 1e6) % 4}{number % 1000:03d}"
