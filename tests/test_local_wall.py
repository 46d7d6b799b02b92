"""`local_wall`: the Copenhagen date and clock time of an instant from a table of each UTC date's offset, against
the zone itself (zoneinfo), across every DST change from 1900 to 2199 and Danish holidays (RULES.md T-1..T-4)."""

from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from medcom.calendar import TZ, BusinessCalendar, before_clock, local_date, local_wall

CAL = BusinessCalendar([date(2025, 12, 24)])
SECOND = timedelta(seconds=1)


def _changes_of_offset() -> list[datetime]:
    """The instant (UTC, to the second) of every change of Copenhagen's offset from 1900 to 2199: found a day at
    a time, then narrowed down by halving."""
    changes, noon = [], datetime(1900, 1, 1, 12, tzinfo=UTC)
    offset = noon.astimezone(TZ).utcoffset()
    while noon.year < 2200:
        following = (noon + timedelta(days=1)).astimezone(TZ).utcoffset()
        if following != offset:
            low, high = noon, noon + timedelta(days=1)  # the offset is `offset` at low, `following` at high
            while high - low > SECOND:
                middle = low + (high - low) / 2
                middle -= timedelta(microseconds=middle.microsecond)
                if middle.astimezone(TZ).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            changes.append(high)
        noon, offset = noon + timedelta(days=1), following
    return changes


def _same(instant: datetime) -> None:
    local = instant.astimezone(TZ)
    wall = local_wall(instant)
    assert (wall.date(), wall.time()) == (local.date(), local.time()), instant
    assert local_date(instant) == local.date()
    assert before_clock(instant, time(14)) == (local.time() < time(14))
    assert CAL.weekday_before_clock(instant, time(14)) == (CAL.is_weekday(local.date()) and local.time() < time(14))


def test_every_change_of_offset_is_on_a_whole_hour_and_read_exactly_around_it() -> None:
    """The table reads a UTC date's offset at its whole hours: right only while every change lies on a whole hour
    (UTC) and none is undone within a day. Every change from 1900 to 2199 is checked for both, and the instants
    around it (the day before and after, every 21 min 41 s, and the seconds either side) against the zone."""
    changes = _changes_of_offset()
    assert len(changes) > 300  # 1916, the 1940s, and twice a year since 1980
    for change in changes:
        assert (change.minute, change.second) == (0, 0), change
    assert all(later - earlier > timedelta(days=1) for earlier, later in zip(changes, changes[1:], strict=False))
    for change in changes:
        for instant in (change - SECOND, change, change + SECOND, change - timedelta(microseconds=1)):
            _same(instant)
        start = datetime.combine(change.date() - timedelta(days=1), time(0), UTC)
        for seconds in range(0, 3 * 86400, 1301):
            _same(start + timedelta(seconds=seconds))


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC)))
def test_local_wall_is_the_zones_reading_in_utc(instant: datetime) -> None:
    _same(instant)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30),
                    timezones=st.sampled_from([TZ, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])))
def test_local_wall_of_instants_in_other_zones(instant: datetime) -> None:
    _same(instant)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
       st.integers(0, 86399))
def test_weekday_before_clock_across_holidays_and_dst(day: date, seconds: int) -> None:
    """Local days of all kinds (holidays, Easter, the DST days, the policy's closed day), at every clock time:
    local midnights and 14:00 of any day included by drawing the seconds after the day's UTC start."""
    _same(datetime.combine(day, time(0), UTC) + timedelta(seconds=seconds))
    _same(datetime.combine(day, time(14), TZ).astimezone(UTC) - SECOND * (seconds % 3))


def test_the_hard_days() -> None:
    """Easter 2025, the Monday after each change of 2025 (the first instants of the day after the spring change
    read either way), Christmas Eve closed by the policy."""
    for text, weekday_before_2pm in [("2025-04-17T12:59:59+00:00", False), ("2025-04-16T11:59:59+00:00", True),
                                     ("2025-04-16T12:00:00+00:00", False), ("2025-03-31T11:59:59+00:00", True),
                                     ("2025-10-27T12:59:59+00:00", True), ("2025-10-27T13:00:00+00:00", False),
                                     ("2025-12-24T10:00:00+00:00", False), ("2025-03-30T22:00:00+00:00", True),
                                     ("2025-03-30T22:00:00+02:00", False)]:
        instant = datetime.fromisoformat(text)
        assert CAL.weekday_before_clock(instant, time(14)) is weekday_before_2pm, text
        _same(instant)
