"""The Danish business calendar on its hard days (RULES.md T-1..T-4)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from medcom.calendar import (
    TZ,
    BusinessCalendar,
    LocalTimeKind,
    NonexistentLocalTime,
    add_elapsed,
    add_elapsed_utc,
    before_clock,
    classify_local,
    elapsed,
    end_of_day,
    localize,
    move_into_window,
    parse_instant,
)

CAL = BusinessCalendar()
TWO = time(14, 0)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize("day", ["2025-04-17", "2025-04-18", "2025-04-20", "2025-04-21",  # Easter 2025
                                 "2026-04-02", "2026-04-03", "2026-04-05", "2026-04-06",  # Easter 2026
                                 "2025-05-29", "2025-06-08", "2025-06-09",  # Kristi himmelfart, Pinse
                                 "2023-05-05",  # Store Bededag, last time
                                 "2025-01-01", "2025-12-25", "2025-12-26"])
def test_public_holidays_are_not_weekdays(day: str) -> None:
    assert not CAL.is_weekday(date.fromisoformat(day))
    assert CAL.holiday_name(date.fromisoformat(day))


@pytest.mark.parametrize("day", ["2024-04-26",  # the Friday Store Bededag would have been: abolished
                                 "2025-05-01", "2025-06-05", "2025-12-24", "2025-12-31",  # open by default
                                 "2025-04-16", "2025-04-22"])
def test_days_that_are_weekdays(day: str) -> None:
    assert CAL.is_weekday(date.fromisoformat(day))


def test_policy_can_close_extra_days() -> None:
    closed = BusinessCalendar([date(2025, 12, 24), date(2025, 12, 31)])
    assert not closed.is_weekday(date(2025, 12, 24))
    assert closed.holiday_name(date(2025, 12, 24)) == "closed by policy"
    assert closed.next_weekday(date(2025, 12, 23)) == date(2025, 12, 29)


def test_weekends_are_not_weekdays() -> None:
    assert not CAL.is_weekday(date(2025, 3, 29)) and not CAL.is_weekday(date(2025, 3, 30))


def test_easter_2025_next_and_previous_weekday() -> None:
    assert CAL.next_weekday(date(2025, 4, 16)) == date(2025, 4, 22)
    assert CAL.previous_weekday(date(2025, 4, 22)) == date(2025, 4, 16)


def test_easter_2026() -> None:
    assert CAL.next_weekday(date(2026, 4, 1)) == date(2026, 4, 7)


def test_store_bededag_2023_vs_2024() -> None:
    # Ready Monday 8 May 2023: the Friday before was Store Bededag, so the deadline is Thursday 4 May.
    assert CAL.last_weekday_before_at(date(2023, 5, 8), TWO) == local("2023-05-04T14:00")
    # Ready Monday 29 April 2024: Friday 26 April is an ordinary weekday.
    assert CAL.last_weekday_before_at(date(2024, 4, 29), TWO) == local("2024-04-26T14:00")


def test_monday_ready_day_deadline_is_previous_friday() -> None:
    assert CAL.last_weekday_before_at(date(2025, 3, 31), TWO) == local("2025-03-28T14:00")


def test_new_year_across_years() -> None:
    assert CAL.next_weekday(date(2025, 12, 31)) == date(2026, 1, 2)
    assert CAL.previous_weekday(date(2026, 1, 2)) == date(2025, 12, 31)
    assert CAL.handled_by(local("2025-12-31T15:00"), TWO) == end_of_day(date(2026, 1, 2))


def test_72_hours_across_spring_dst_is_elapsed_time() -> None:
    start = local("2025-03-29T10:00")
    end = add_elapsed(start, timedelta(hours=72))
    assert end == datetime.fromisoformat("2025-04-01T11:00:00+02:00")
    assert end.hour == 11 and end.utcoffset() == timedelta(hours=2)
    assert elapsed(start, end) == timedelta(hours=72)


def test_72_hours_across_autumn_dst() -> None:
    end = add_elapsed(local("2025-10-24T10:00"), timedelta(hours=72))
    assert end == datetime.fromisoformat("2025-10-27T09:00:00+01:00")


def test_nonexistent_and_ambiguous_local_times() -> None:
    assert classify_local(datetime(2025, 3, 30, 2, 30)) is LocalTimeKind.NONEXISTENT
    assert classify_local(datetime(2025, 10, 26, 2, 30)) is LocalTimeKind.AMBIGUOUS
    assert classify_local(datetime(2025, 10, 26, 3, 30)) is LocalTimeKind.NORMAL
    with pytest.raises(NonexistentLocalTime):
        localize(datetime(2025, 3, 30, 2, 30))
    assert localize(datetime(2025, 3, 30, 2, 30), strict=False) == datetime.fromisoformat(
        "2025-03-30T03:30:00+02:00")
    # The fold is read as the first occurrence: summer time.
    assert localize(datetime(2025, 10, 26, 2, 30)).utcoffset() == timedelta(hours=2)


def test_parse_instant_with_and_without_offset() -> None:
    assert parse_instant("2025-03-29T10:00")[0] == datetime(2025, 3, 29, 9, 0, tzinfo=UTC)
    assert parse_instant("2025-03-29T10:00:00+00:00")[0] == datetime(2025, 3, 29, 10, 0, tzinfo=UTC)
    assert parse_instant("2025-10-26T02:30")[1] is LocalTimeKind.AMBIGUOUS
    with pytest.raises(NonexistentLocalTime):
        parse_instant("2025-03-30T02:30")


def test_before_14_is_strict() -> None:
    assert before_clock(local("2025-03-27T13:59:59"), TWO)
    assert not before_clock(local("2025-03-27T14:00:00"), TWO)


def test_handled_by_cutoff_both_sides() -> None:
    thursday = date(2025, 3, 27)
    assert CAL.handled_by(local("2025-03-27T13:59:59"), TWO) == end_of_day(thursday)
    assert CAL.handled_by(local("2025-03-27T14:00:00"), TWO) == end_of_day(date(2025, 3, 28))
    # Friday after the cutoff and Saturday both go to Monday.
    assert CAL.handled_by(local("2025-03-28T14:00"), TWO) == end_of_day(date(2025, 3, 31))
    assert CAL.handled_by(local("2025-03-29T09:00"), TWO) == end_of_day(date(2025, 3, 31))


def test_midnight_and_end_of_day() -> None:
    assert end_of_day(date(2025, 3, 27)) == local("2025-03-27T23:59:59")
    midnight = local("2025-03-28T00:00")
    assert CAL.handled_by(midnight, TWO) == end_of_day(date(2025, 3, 28))


def test_move_into_contact_window() -> None:
    opens, closes = time(8), time(21)
    assert move_into_window(local("2025-03-24T22:00"), opens, closes) == local("2025-03-25T08:00")
    assert move_into_window(local("2025-03-24T07:59"), opens, closes) == local("2025-03-24T08:00")
    assert move_into_window(local("2025-03-24T21:00"), opens, closes) == local("2025-03-24T21:00")
    assert move_into_window(local("2025-03-24T08:00"), opens, closes) == local("2025-03-24T08:00")


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)))
def test_next_weekday_is_a_later_weekday(day: date) -> None:
    nxt = CAL.next_weekday(day)
    assert nxt > day and CAL.is_weekday(nxt)
    assert all(not CAL.is_weekday(day + timedelta(days=i)) for i in range(1, (nxt - day).days))
    prev = CAL.previous_weekday(day)
    assert prev < day and CAL.is_weekday(prev)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2050, 1, 1), timezones=st.just(TZ)),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
@example(datetime(2000, 10, 20, 2, 0, tzinfo=TZ), timedelta(days=9))  # ends at 02:00 in the autumn fold
def test_elapsed_addition_is_exact_in_utc(start: datetime, delta: timedelta) -> None:
    end = add_elapsed(start, delta)
    assert end.astimezone(UTC) - start.astimezone(UTC) == delta
    assert elapsed(start, end) == delta
    assert end.tzinfo is TZ
    in_utc = add_elapsed_utc(start, delta)
    # (compared in UTC: Python's == between zones is always False for a time in the autumn fold, PEP 495)
    assert in_utc == end.astimezone(UTC) and in_utc.tzinfo is UTC
    assert add_elapsed_utc(start.astimezone(UTC), delta) == end.astimezone(UTC)


def test_danish_holidays_are_the_packages_own_for_every_year() -> None:
    """The Denmark module loaded on its own (calendar._denmark) gives what `holidays.country_holidays` gives."""
    import holidays

    from medcom.calendar import EARLIEST_YEAR, LATEST_YEAR, _public_holidays

    for year in range(EARLIEST_YEAR, LATEST_YEAR + 1):
        assert _public_holidays(year) == dict(holidays.country_holidays("DK", years=year, categories=("public",)))


def test_the_calendar_does_not_import_every_country() -> None:
    """Asking for a Danish holiday imports the Denmark module, not `holidays.countries`' ~250 (~75 ms a process)."""
    import subprocess
    import sys

    code = ("import sys; from datetime import date; from medcom.calendar import BusinessCalendar\n"
            "assert BusinessCalendar().holiday_name(date(2025, 12, 25))\n"
            "print(sorted(m for m in sys.modules if m.startswith('holidays.countries')))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "['holidays.countries.denmark']"
