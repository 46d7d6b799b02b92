"""The simulation's local clock answers the calendar's questions by comparing clock seconds: the same answers as
the calendar gives for the instants, DST days and holidays included."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.calendar import TZ, at_local, local_date
from medcom.policy import load_policy
from simulator.clock import LocalClock

CALENDAR = load_policy().business_calendar
FIRST = date(2025, 1, 6)
ORIGIN = at_local(FIRST, time(0)).astimezone(UTC)
YEAR = 400 * 86400  # the DST changes of 2025 and 2026, Easter and Christmas


@settings(max_examples=400, deadline=None)
@given(st.integers(0, YEAR), st.integers(0, 23), st.sampled_from([0, 30]))
def test_weekday_before_is_the_calendars_answer(seconds: int, hour: int, minute: int) -> None:
    clock = LocalClock(ORIGIN, FIRST)
    cutoff = time(hour, minute)
    instant = ORIGIN + timedelta(seconds=seconds)
    assert clock.weekday_before(seconds, CALENDAR, cutoff) == CALENDAR.weekday_before_clock(instant, cutoff)


def test_weekday_before_around_the_dst_changes_and_a_holiday() -> None:
    clock = LocalClock(ORIGIN, FIRST)
    for day, hours in ((date(2025, 3, 30), range(24)), (date(2025, 10, 26), range(24)), (date(2025, 4, 17), [13])):
        for hour in hours:
            for cutoff in (time(2, 30), time(3), time(14)):
                at = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(hours=hour)
                seconds = int((at - ORIGIN).total_seconds())
                assert clock.weekday_before(seconds, CALENDAR, cutoff) == CALENDAR.weekday_before_clock(at, cutoff)


def test_weekday_before_on_a_weekday_of_a_dst_change() -> None:
    """Since 1980 Copenhagen's clocks change on Sundays, where every answer is no; in the 1940s they changed on
    weekdays at midnight and at 02:00-03:00 (1940-05-15, a Wednesday; 1942-11-02, a Monday): there clock seconds
    and the local clock part company, and the calendar's answer is the one given."""
    for first in (date(1940, 5, 13), date(1942, 10, 31)):
        clock = LocalClock(at_local(first, time(0)).astimezone(UTC), first)
        for day in (first + timedelta(days=1), first + timedelta(days=2), first + timedelta(days=3)):
            start = at_local(day, time(0)).astimezone(UTC)
            for half_hours in range(52):
                at = start + timedelta(minutes=30 * half_hours)
                seconds = clock.seconds(at)
                for cutoff in (time(0, 30), time(1, 30), time(2, 30), time(3), time(14)):
                    assert clock.weekday_before(seconds, CALENDAR, cutoff) == \
                        CALENDAR.weekday_before_clock(at, cutoff), (at, cutoff)


def _changes_of_offset() -> list[date]:
    """Every local day from 1900 to 2199 on which Copenhagen's UTC offset changes (read at each day's noon UTC,
    so a change is found on its day or the day after)."""
    days, noon = [], datetime(1900, 1, 1, 12, tzinfo=UTC)
    offset = noon.astimezone(TZ).utcoffset()
    while noon.year < 2200:
        following = (noon + timedelta(days=1)).astimezone(TZ).utcoffset()
        if following != offset:
            days.append(noon.date())
        noon, offset = noon + timedelta(days=1), following
    return days


def test_on_clock_is_the_calendars_instant_on_every_day_the_offset_changes() -> None:
    """`on_clock` adds the minutes and seconds to the whole hour's reading: right only while Copenhagen changes
    its offset at whole local hours, so every change from 1900 to 2199 is checked (the 1940s' at midnight too),
    on its day and the next, every 40 min 11 s (readings in each hour, the gap's and the fold's)."""
    clock = LocalClock(ORIGIN, FIRST)
    changes = _changes_of_offset()
    assert len(changes) > 300  # the 1916 change, the 1940s, and twice a year since 1980
    for change in changes:
        for day in (change, change + timedelta(days=1)):
            for seconds in range(0, 86400, 2411):
                hour, rest = divmod(seconds, 3600)
                expected = clock.seconds(at_local(day, time(hour, rest // 60, rest % 60)))
                assert clock.on_clock(day, seconds) == expected, (day, seconds)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, YEAR // 86400), st.integers(0, 86399))
def test_on_clock_is_the_calendars_instant(days: int, seconds: int) -> None:
    clock = LocalClock(ORIGIN, FIRST)
    day = FIRST + timedelta(days=days)
    expected = clock.seconds(at_local(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60)))
    assert clock.on_clock(day, seconds) == expected


def test_date_is_the_local_date_of_the_instant() -> None:
    """The local day of clock readings asked in any order (the clock learns the days as it is asked): every six
    hours over 400 days, shuffled, and the seconds either side of the DST changes' midnights."""
    clock = LocalClock(ORIGIN, FIRST)
    readings = list(range(0, YEAR, 6 * 3600))
    random.Random(7).shuffle(readings)
    midnights = [clock.seconds(at_local(day, time(0))) for day in (date(2025, 3, 30), date(2025, 10, 27))]
    for seconds in readings + [m + d for m in midnights for d in (-1, 0, 1)]:
        assert clock.date(seconds) == local_date(clock.instant(seconds)), seconds
