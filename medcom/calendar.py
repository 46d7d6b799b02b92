"""Danish business calendar for the discharge agreement (RULES.md T-1..T-4).

Local time is Europe/Copenhagen. Durations are added in elapsed (UTC) time, never wall-clock time.
A *weekday* (hverdag) is Monday-Friday that is not a Danish public holiday (the `holidays` package's
public category, which drops Store Bededag from 2024) and not one of the policy's extra closed days.
"""

from __future__ import annotations

import enum
import importlib.util
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Copenhagen")
END_OF_DAY = time(23, 59, 59)
# Times medcom accepts from its inputs and options. Nothing the agreement governs lies outside these years, and
# the rules add durations of up to a year to times (Python's datetimes end at the year 9999, and begin at 1).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199


class LocalTimeKind(enum.Enum):
    """How a wall-clock time maps onto the Copenhagen time line (T-2)."""

    NORMAL = "normal"
    AMBIGUOUS = "ambiguous"  # autumn fold: occurs twice; read as the first occurrence
    NONEXISTENT = "nonexistent"  # spring gap: never shown on a Danish clock


class NonexistentLocalTime(ValueError):
    """A local time inside the spring DST gap (T-2): an error in a message."""


class TimeOutOfRange(ValueError):
    """A time outside the years medcom works with (EARLIEST_YEAR..LATEST_YEAR)."""


def check_year(moment: date, what: str = "time") -> None:
    """`TimeOutOfRange` unless `moment` (a date or datetime) lies in EARLIEST_YEAR..LATEST_YEAR."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise TimeOutOfRange(f"{what} {moment.isoformat()} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR} "
                             "that medcom works with")


def classify_local(naive: datetime) -> LocalTimeKind:
    """Say whether a naive Copenhagen wall time is normal, ambiguous or nonexistent (T-2)."""
    if naive.year >= 1980 and naive.hour != 2:  # every DST change since 1980 happens in local hour 02
        return LocalTimeKind.NORMAL
    first = naive.replace(tzinfo=TZ, fold=0)
    second = naive.replace(tzinfo=TZ, fold=1)
    if first.utcoffset() == second.utcoffset():
        return LocalTimeKind.NORMAL
    # In the gap, the time does not survive a round trip through UTC.
    try:
        round_trip = first.astimezone(UTC).astimezone(TZ).replace(tzinfo=None)
    except OverflowError:  # the first or last hours of the year 1 or 9999: no DST change there
        return LocalTimeKind.NORMAL
    if round_trip != naive:
        return LocalTimeKind.NONEXISTENT
    return LocalTimeKind.AMBIGUOUS


def localize(naive: datetime, *, strict: bool = True) -> datetime:
    """Attach Copenhagen time to a naive wall time (T-1, T-2).

    Ambiguous times are read as the first occurrence. A nonexistent time raises
    `NonexistentLocalTime` when `strict`; otherwise it is moved forward past the gap
    (02:30 on the spring change becomes 03:30 CEST), which is what a clock would show.
    """
    if naive.tzinfo is not None:
        raise ValueError("localize() takes a naive datetime")
    if classify_local(naive) is LocalTimeKind.NONEXISTENT:
        if strict:
            raise NonexistentLocalTime(f"{naive.isoformat()} does not exist in Europe/Copenhagen (DST gap)")
        return naive.replace(tzinfo=TZ, fold=0).astimezone(UTC).astimezone(TZ)
    return naive.replace(tzinfo=TZ, fold=0)


def to_local(instant: datetime) -> datetime:
    """The same instant expressed in Copenhagen time."""
    if instant.tzinfo is None:
        raise ValueError("to_local() takes an aware datetime")
    return instant.astimezone(TZ)


def parse_instant(text: str) -> tuple[datetime, LocalTimeKind]:
    """Read ISO 8601 text: with an offset as given, without one as Copenhagen local time (T-1).

    Returns the instant in Copenhagen time and how the local reading went; raises
    `NonexistentLocalTime` for a time in the spring gap, `TimeOutOfRange` for one outside the years medcom
    works with, and ValueError for malformed text.
    """
    parsed = datetime.fromisoformat(text)
    check_year(parsed)
    if parsed.tzinfo is not None:
        return parsed.astimezone(TZ), LocalTimeKind.NORMAL
    kind = classify_local(parsed)
    return localize(parsed), kind


def add_elapsed(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta` in elapsed time (T-1): 72 h after 2025-03-29 10:00 is 2025-04-01 11:00 local."""
    if instant.tzinfo is None:
        raise ValueError("add_elapsed() takes an aware datetime")
    return (instant.astimezone(UTC) + delta).astimezone(TZ)


def add_elapsed_utc(instant: datetime, delta: timedelta) -> datetime:
    """`add_elapsed` as an instant in UTC: for a deadline the engine holds in UTC anyway (`Context.expect`),
    which would convert `add_elapsed`'s local time back; two zone conversions fewer for each."""
    if instant.tzinfo is None:
        raise ValueError("add_elapsed_utc() takes an aware datetime")
    return instant.astimezone(UTC) + delta


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Elapsed time from start to end (negative when end is earlier)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


@lru_cache(maxsize=65_536)  # days x the policy's few clock times: deadlines are computed again and again
def at_local(day: date, clock: time) -> datetime:
    """The instant a Copenhagen clock shows `clock` on `day` (moved past a DST gap if need be)."""
    return localize(datetime.combine(day, clock), strict=False)


def local_date(instant: datetime) -> date:
    """The Copenhagen calendar date of an instant."""
    if instant.tzinfo is None:
        raise ValueError("local_date() takes an aware datetime")
    return instant.astimezone(TZ).date()


def end_of_day(day: date) -> datetime:
    """The last second of a local day, 23:59:59: the inclusive deadline 'by the end of the day'."""
    return at_local(day, END_OF_DAY)


def move_into_window(instant: datetime, opens: time, closes: time) -> datetime:
    """Move an instant outside the daily local window [opens, closes] to the next opening (TAX-1 b)."""
    local = to_local(instant)
    clock = local.time()
    if clock < opens:
        return at_local(local.date(), opens)
    if clock > closes:
        return at_local(local.date() + timedelta(days=1), opens)
    return local


def before_clock(instant: datetime, clock: time) -> bool:
    """Strictly earlier than `clock` local time on its own day: 'inden kl. 14' (T-4)."""
    return to_local(instant).time() < clock


DENMARK_MODULE = "holidays.countries.denmark"


@lru_cache(maxsize=1)
def _denmark() -> Callable[..., dict[date, str]]:
    """The `holidays` package's Denmark class, from its own module only.

    `holidays.country_holidays("DK")` imports `holidays.countries`, whose `__init__` imports all ~250 countries
    (about 75 ms of CPU a process: every replay and simulation worker paid it). The Denmark module needs none of
    them, so its file is loaded the way importlib's documentation loads a source file directly, under its own
    name (a later `import holidays.countries` finds it there); the package's own way where the file is not found.
    """
    import holidays  # here, not above: ~215 M instructions that a run which asks for no holiday (validate) saves

    found = sys.modules.get(DENMARK_MODULE)
    if found is None:
        source = Path(holidays.__file__).parent / "countries" / "denmark.py"
        spec = importlib.util.spec_from_file_location(DENMARK_MODULE, source) if source.is_file() else None
        if spec is None or spec.loader is None:
            return lambda **kw: holidays.country_holidays("DK", **kw)
        found = importlib.util.module_from_spec(spec)
        sys.modules[DENMARK_MODULE] = found
        try:
            spec.loader.exec_module(found)
        except BaseException:
            del sys.modules[DENMARK_MODULE]
            raise
    return found.Denmark  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(_denmark()(years=year, categories=("public",)))


class BusinessCalendar:
    """Weekdays (hverdage), holidays and weekday arithmetic, with a policy's extra closed days."""

    def __init__(self, extra_closed_days: Iterable[date] = ()) -> None:
        self.extra_closed_days = frozenset(extra_closed_days)
        # Asked for the same days again and again (every episode's deadlines): answered once per day.
        self._weekdays: dict[date, bool] = {}
        self._next: dict[date, date] = {}
        self._previous: dict[date, date] = {}

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name, 'closed by policy', or None."""
        if day in self.extra_closed_days:
            return "closed by policy"
        return _public_holidays(day.year).get(day)

    def is_weekday(self, day: date) -> bool:
        """Monday-Friday and neither a public holiday nor closed by the policy (T-3)."""
        found = self._weekdays.get(day)
        if found is None:
            found = self._weekdays[day] = day.weekday() < 5 and self.holiday_name(day) is None
        return found

    def next_weekday(self, day: date) -> date:
        """The first weekday strictly after `day`."""
        found = self._next.get(day)
        if found is None:
            found = day + timedelta(days=1)
            while not self.is_weekday(found):
                found += timedelta(days=1)
            self._next[day] = found
        return found

    def previous_weekday(self, day: date) -> date:
        """The last weekday strictly before `day`."""
        found = self._previous.get(day)
        if found is None:
            found = day - timedelta(days=1)
            while not self.is_weekday(found):
                found -= timedelta(days=1)
            self._previous[day] = found
        return found

    def last_weekday_before_at(self, day: date, clock: time) -> datetime:
        """`clock` local time on the last weekday strictly before `day` (CP-1's deadline shape)."""
        return at_local(self.previous_weekday(day), clock)

    def weekday_before_clock(self, instant: datetime, clock: time) -> bool:
        """Sent on a weekday and strictly before `clock` local time (T-4 'inden kl.')."""
        local = to_local(instant)
        return self.is_weekday(local.date()) and local.time() < clock

    def handled_by(self, instant: datetime, cutoff: time) -> datetime:
        """Deadline for something received at `instant` under a cutoff rule (COR-1, ACK-1 shape).

        On a weekday strictly before the cutoff: the end of that day; otherwise the end of the
        next weekday after the local date of `instant`.
        """
        day = local_date(instant)
        if self.weekday_before_clock(instant, cutoff):
            return end_of_day(day)
        return end_of_day(self.next_weekday(day))

    def end_of_next_weekday(self, instant: datetime) -> datetime:
        """The end of the first weekday after the local date of `instant` (ACK-3, CONF-1)."""
        return end_of_day(self.next_weekday(local_date(instant)))
