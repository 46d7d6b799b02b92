"""Local days and clock times on the simulation's clock (whole seconds since the origin, UTC-based).

The simulated hospital and municipality decide in local time (a ward's day, an office's opening, a
reception window) many times per patient. The calendar's `at_local` gives the instant of a local clock time
on a day, DST included; this keeps those instants, and the local midnights, as clock seconds so that a
decision compares integers instead of converting datetimes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta

from medcom.calendar import BusinessCalendar, at_local

MIDNIGHT = time(0)
DAY_SECONDS = int(timedelta(days=1).total_seconds())
HOUR_SECONDS = int(timedelta(hours=1).total_seconds())


class LocalClock:
    """Copenhagen days and clock times as clock seconds since `origin` (an instant in UTC)."""

    def __init__(self, origin: datetime, first_day: date) -> None:
        self.origin = origin.astimezone(UTC)
        self.first_day = first_day - timedelta(days=1)
        self._midnights: list[int] = []  # clock seconds of each local midnight from first_day on
        self._days: list[date] = []  # the local day each of those midnights begins (asked of `date` many times)
        self._at: dict[tuple[date, time], int] = {}

    def instant(self, seconds: float) -> datetime:
        """The instant (UTC) of a clock reading."""
        return self.origin + timedelta(0, seconds)  # positional: twice as fast as seconds=

    def seconds(self, at: datetime) -> int:
        """The clock reading of an instant, rounded up to a whole second."""
        return math.ceil((at - self.origin).total_seconds())

    def at(self, day: date, clock: time) -> int:
        """The clock reading when a Copenhagen clock shows `clock` on `day` (past a DST gap if need be)."""
        key = (day, clock)
        found = self._at.get(key)
        if found is None:
            found = self._at[key] = self.seconds(at_local(day, clock))
        return found

    def on_clock(self, day: date, seconds: int) -> int:
        """`at` for a clock time given as seconds past midnight (0 <= seconds < 86400), moved past a DST gap
        as `at` is. Copenhagen's offset changes only at whole local hours (every change from 1900 on: tested),
        so the reading is that of the whole hour plus the minutes and seconds after it."""
        hour, rest = divmod(seconds, HOUR_SECONDS)
        return self.at(day, time(hour)) + rest

    def weekday_before(self, seconds: int, calendar: BusinessCalendar, clock: time) -> bool:
        """`calendar.weekday_before_clock` for a clock reading, by comparing clock seconds: on a weekday and
        strictly before `clock` that day. The same answer on every local day of exactly 24 hours (no DST change:
        Copenhagen never had two in one day); on a day of 23 or 25 hours it is asked of the calendar."""
        index = self._day(seconds)
        day = self._days[index]
        if self._midnights[index + 1] - self._midnights[index] != DAY_SECONDS:
            return calendar.weekday_before_clock(self.instant(seconds), clock)
        return calendar.is_weekday(day) and seconds < self.at(day, clock)

    def date(self, seconds: float) -> date:
        """The local date of a clock reading."""
        return self._days[self._day(seconds)]

    def _day(self, seconds: float) -> int:
        """The index of a clock reading's local day from `first_day`; the next day's midnight is known after."""
        midnights = self._midnights
        while not midnights or seconds >= midnights[-1]:
            day = self.first_day + timedelta(days=len(midnights))
            midnights.append(self.at(day, MIDNIGHT))
            self._days.append(day)
        index = bisect_right(midnights, seconds) - 1
        if index < 0:
            raise ValueError(f"clock reading {seconds} is before {self.first_day}")
        return index
