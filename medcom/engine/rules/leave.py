"""LEAVE-1: leave periods and trial discharges (§7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from medcom.calendar import add_elapsed, elapsed, local_date
from medcom.engine.engine import Context, Rule
from medcom.engine.rules.facts import discharge_event, hm, leave_periods


class Leave(Rule):
    """LEAVE-1: a leave period lasts at most 72 hours (two consecutive periods allowed around public
    holidays); a planned re-admission soon after a discharge should have been a leave.

    Read: periods are consecutive when one starts at most an hour after the previous ended; a planned
    re-admission is an `admitted` event with `planned: true` for the same CPR number (see the engine note).
    """

    id = "LEAVE-1"

    def on_close(self, ctx: Context) -> None:
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
