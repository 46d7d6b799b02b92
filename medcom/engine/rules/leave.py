"""LEAVE-1: leave periods and trial discharges (§7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from medcom.calendar import add_elapsed, elapsed, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm, leave_periods
from medcom.events import Event


class Leave(Rule):
    """LEAVE-1: a leave period lasts at most 72 hours (two consecutive periods allowed around public
    holidays); a planned re-admission soon after a discharge should have been a leave.

    Read: periods are consecutive when one starts at most an hour after the previous ended. A planned
    re-admission is an `admitted` event with `planned: true` of the same patient (CPR number) at most the
    policy's `leave.readmission_window` (elapsed) after the discharge of another episode; it is reported on
    the re-admission's episode when it arrives, against the patient's episodes the engine knows (the
    discharge came earlier in time, so it is known by then).
    """

    id = "LEAVE-1"
    kinds = frozenset({"admitted"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.data.get("planned") is not True:
            return
        window = ctx.policy.leave.readmission_window
        for other in ctx.patient_episodes():
            discharged = other.first("discharged")
            if discharged is not None and discharged.at <= event.at and elapsed(discharged.at, event.at) <= window:
                ctx.violation(self.id, "warning", f"planned re-admission {hm(event.at)}, "
                              f"{_hours(elapsed(discharged.at, event.at))} after the discharge of episode "
                              f"{other.name} ({hm(discharged.at)}): a trial discharge of up to "
                              f"{_hours(ctx.policy.leave.max_period)} is registered as leave (§7)",
                              actual=event.at)

    def on_close(self, ctx: Context) -> None:
        if not ctx.episode.of("leave_started"):
            return  # no leave period (most episodes): nothing to walk
        limit = ctx.policy.leave.max_period
        discharged = discharge_event(ctx)
        periods = leave_periods(ctx.episode.events, discharged.at if discharged else ctx.now)
        chain: list[tuple[datetime, datetime]] = []
        for start, end in periods:
            if elapsed(start, end) > limit:
                ctx.violation(self.id, "warning", f"leave from {hm(start)} to {hm(end)} is longer than "
                              f"{limit}", due=add_elapsed(start, limit), actual=end)
            if chain and elapsed(chain[-1][1], start) <= timedelta(hours=1):
                chain.append((start, end))
            else:
                chain = [(start, end)]
            if len(chain) == 2 and not self._holiday_between(ctx, chain[0][0], end):
                ctx.violation(self.id, "warning", "two consecutive leave periods without a public holiday",
                              actual=start)
            elif len(chain) > 2:
                ctx.violation(self.id, "warning", "more than two consecutive leave periods", actual=start)

    @staticmethod
    def _holiday_between(ctx: Context, start: datetime, end: datetime) -> bool:
        day, last = local_date(start), local_date(end)
        while day <= last:
            if day.weekday() < 5 and not ctx.calendar.is_weekday(day):
                return True
            day += timedelta(days=1)
        return False


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"
