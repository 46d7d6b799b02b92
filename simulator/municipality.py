"""The simulated municipality: its admission report, its reception capacity, and what it does with a care plan.

When the hospital's admission advice arrives it answers with the automatic admission report. When a care
plan arrives it books the patient's reception: the first reception day (weekends and holidays as the
scenario says) with capacity left, inside the discharge window, after its preparation time and not before
the hospital can let the patient go; the agreed time goes back to the hospital at once. It then acknowledges
the plan (accepting, with the agreed time, at the latest the scenario's minutes before the discharge) and
asks a question about it for a share of patients, which the hospital answers. Behaviour figures come from
the scenario's `[municipality]`, the cutoff for the same-day acknowledgement from the policy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import simpy

from simulator.clock import MIDNIGHT
from simulator.patients import HOUR, MINUTE, Case, exponential, minutes, weights

if TYPE_CHECKING:
    from simulator.simulation import Simulation


class Municipality:
    """The municipalities of one replication: reception capacity shared by population, one process per
    admission report and per care plan."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.m = sim.s.municipality
        self.policy, self.calendar, self.clock = sim.policy, sim.calendar, sim.clock
        a = sim.s.admissions
        shares = weights(a.municipality_weights)
        capacity = self.m.reception_capacity_per_day
        self.capacity = {code: capacity * share for code, share in zip(a.municipalities, shares, strict=True)}
        self.booked: Counter[tuple[str, date]] = Counter()

    def admission_report(self, case: Case) -> simpy.Event:
        """The automatic admission report, after the scenario's delay (the event of its being sent)."""
        at = self.sim.env._now + minutes(self.m.admission_report_minutes, case.patient.draws.admission_report)
        return self.sim.sending(at, case, "admission_report_sent", id=f"{case.name}-REP")

    def care_plan_received(self, case: Case, plan_at: int, not_before: int) -> Generator[Any, Any, None]:
        """Book the reception (the agreed discharge goes to the hospital through `case.agreed`), then
        acknowledge the plan and perhaps ask about it."""
        sim, m, d = self.sim, self.m, case.patient.draws
        earliest = max(not_before, plan_at + int(m.preparation_hours * HOUR))
        discharge_at = self.book(case.municipality, earliest, d.reception_spread)
        case.agreed.succeed(discharge_at)
        # The acceptance carries the discharge time, so it comes before the discharge (at the latest the
        # scenario's minutes before); a plan so late that there is no time left was acknowledged by phone alone.
        ack_at = max(plan_at + MINUTE, min(self.ack_time(plan_at, d.ack),
                                           discharge_at - int(m.ack_before_discharge_minutes * MINUTE)))
        if ack_at >= discharge_at:
            return
        yield sim.until(ack_at)
        sim.emit(case, "care_plan_ack_sent", id=f"{case.name}-ACK", ref=case.plan_id, decision="accept",
                 discharge_at=self.clock.instant(discharge_at))
        if d.question < sim.s.hospital.question_share:
            yield sim.until(ack_at + int(m.question_after_ack_minutes * MINUTE))
            sim.emit(case, "correspondence_sent", id=f"{case.name}-Q", sender="municipality", reply_to=case.plan_id,
                     subject="Spørgsmål til plejeforløbsplan")
            yield sim.start(sim.hospital.answer(case))

    def reception_day(self, day: date) -> bool:
        return self.m.receives_on(day, self.calendar)

    def book(self, municipality: str, earliest: int, u_spread: float) -> int:
        """The first reception at or after `earliest` (clock seconds) inside the window, on a reception day
        with capacity left; booked."""
        m, clock = self.m, self.clock
        at = earliest
        day = clock.date(at)
        capacity = self.capacity[municipality]
        while True:
            if self.reception_day(day) and self.booked[(municipality, day)] < capacity:
                opens, closes = clock.at(day, m.discharge_window_start), clock.at(day, m.discharge_window_end)
                if at < closes:
                    start = max(at, opens)
                    spread = min(u_spread * m.reception_spread_minutes * MINUTE, closes - start) \
                        if start == opens else 0.0
                    self.booked[(municipality, day)] += 1
                    return start + int(spread)
            day += timedelta(days=1)
            at = clock.at(day, MIDNIGHT)

    def ack_time(self, plan_at: int, u: float) -> int:
        """The electronic acknowledgement: an exponential delay after the plan arrives (from the office's
        opening if it came in the night), or after the next weekday's opening when it came after the cutoff
        or on a non-weekday."""
        m, clock = self.m, self.clock
        delay = max(MINUTE, int(exponential(m.ack_delay_hours, u) * HOUR))
        day = clock.date(plan_at)
        if clock.weekday_before(plan_at, self.calendar, self.policy.acknowledgement.cutoff):
            return max(plan_at, clock.at(day, m.office_opens)) + delay
        return clock.at(self.calendar.next_weekday(day), m.office_opens) + delay
