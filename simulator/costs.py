"""The money in a scenario: the optional `[costs]` table and the price level of the completion tax.

`[costs]` prices what the simulation counts but the agreement does not: the municipality's reception staff
and the region's bed-days. Reception staffing is priced per hour of the discharge window per reception day,
per municipality: widening the window by `h` hours costs `rate x h x reception days`. That unit takes a
figure given per year (Frederikshavn's 1.6 million DKK a year for 12:00 -> 14:00) as
`1,600,000 / (2 hours x 365 reception days)`, and it follows a variant that receives on fewer days (no
weekends, no holidays) or over a horizon that is not a year. It is linear: every hour of the window costs the
same, which is an assumption the scenario states. Each figure carries its price year and its source (a text
starting SOURCE, ASSUMPTION or FITTED), and the reports print both.

    [costs]
    reception_dkk_per_window_hour_day = 2191.78   # or a table by municipality code: { "813" = 2191.78 }
    reception_price_year = 2024
    reception_source = "SOURCE: ..."
    bed_day_dkk = 5928.0
    bed_day_price_year = 2016
    bed_day_source = "ASSUMPTION: ..."
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from medcom.calendar import EARLIEST_YEAR, LATEST_YEAR, BusinessCalendar
from medcom.policy import Policy, PolicyError

if TYPE_CHECKING:
    from simulator.scenario import Municipality, Run

PROVENANCE = ("SOURCE", "ASSUMPTION", "FITTED")
KEYS = ("reception_dkk_per_window_hour_day", "reception_price_year", "reception_source", "bed_day_dkk",
        "bed_day_price_year", "bed_day_source")


@dataclass(frozen=True)
class Costs:
    reception_dkk_per_window_hour_day: dict[str, float]  # municipality code -> DKK per window-hour per reception day
    reception_price_year: int
    reception_source: str
    bed_day_dkk: float  # the region's cost of one bed-day
    bed_day_price_year: int
    bed_day_source: str

    def reception_rate(self, municipality: str) -> float:
        return self.reception_dkk_per_window_hour_day[municipality]


def parse_costs(table: Any, municipalities: Iterable[str], source: str) -> Costs:
    """The `[costs]` table, every key required; errors name the file and the dotted key."""

    def fail(key: str, why: str) -> PolicyError:
        return PolicyError(f"{source}: costs.{key}: {why}".replace("costs.: ", "costs: "))

    if not isinstance(table, dict):
        raise fail("", f"expected a table, got {table!r}")
    for key in table:
        if key not in KEYS:
            raise fail(str(key), "unknown key")
    for key in KEYS:
        if key not in table:
            raise fail(key, "missing")

    def money(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise fail(key, f"expected a finite number of DKK >= 0, got {value!r}")
        return float(value)

    def year(key: str) -> int:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or not EARLIEST_YEAR <= value <= LATEST_YEAR:
            raise fail(key, f"expected a year like 2024, got {value!r}")
        return value

    def provenance(key: str) -> str:
        value = table[key]
        if not isinstance(value, str) or not value.strip().startswith(PROVENANCE):
            raise fail(key, f"expected a text starting with {', '.join(PROVENANCE)} that says where the figure "
                            f"comes from, got {value!r}")
        return " ".join(value.split())

    codes = list(municipalities)
    rate = table["reception_dkk_per_window_hour_day"]
    if isinstance(rate, dict):
        rates = {str(code): money(f"reception_dkk_per_window_hour_day.{code}", v) for code, v in rate.items()}
        for code in rates:
            if code not in codes:
                raise fail(f"reception_dkk_per_window_hour_day.{code}", "not a municipality of the scenario "
                                                                         f"({', '.join(codes)})")
        for code in codes:
            if code not in rates:
                raise fail("reception_dkk_per_window_hour_day", f"no figure for municipality {code}")
    else:
        one = money("reception_dkk_per_window_hour_day", rate)
        rates = dict.fromkeys(codes, one)
    return Costs(rates, year("reception_price_year"), provenance("reception_source"),
                 money("bed_day_dkk", table["bed_day_dkk"]), year("bed_day_price_year"), provenance("bed_day_source"))


def horizon_days(run: Run) -> list[date]:
    """The days whose admissions a run counts."""
    first = run.start + timedelta(days=run.warmup_days)
    return [first + timedelta(days=n) for n in range(run.horizon_days)]


def window_hours(m: Municipality) -> float:
    """Length of the discharge window in hours (local clock times, the same every day)."""
    start, end = (datetime.combine(date.min, t) for t in (m.discharge_window_start, m.discharge_window_end))
    return (end - start).total_seconds() / 3600


def reception_days(m: Municipality, calendar: BusinessCalendar, days: Iterable[date]) -> int:
    return sum(1 for day in days if m.receives_on(day, calendar))


def staffing_dkk(costs: Costs, municipality: str, m: Municipality, policy: Policy, run: Run) -> float:
    """Reception staffing of `municipality` over the run's horizon: rate x window hours x reception days."""
    return costs.reception_rate(municipality) * window_hours(m) * reception_days(
        m, policy.business_calendar, horizon_days(run))


def tax_rates_label(policy: Policy, run: Run) -> str:
    """Which of the policy's completion-tax rate tables price the run's days: '2016 rates'."""
    last = run.start + timedelta(days=run.warmup_days + run.horizon_days + run.cooldown_days)
    years = sorted({policy.completion_tax.rates_year(y) for y in range(run.start.year, last.year + 1)})
    return " and ".join(str(y) for y in years) + " rates"


def price_years(label: str) -> set[str]:
    """The years a price label names: '2016 rates' -> {'2016'}, '2016 and 2025 rates' -> both."""
    return {word for word in label.split() if word.isdigit()}
