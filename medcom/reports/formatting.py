"""Wording and numbers shared by the reports: one formatter for every figure a person reads.

Thousands are separated by a narrow no-break space (U+202F, as ISO 80000 and Danish typography do), which
also stands between a number and its unit ("99.6 %"). A mean and its confidence interval share one
precision, chosen from their size; nothing prints as "-0". DKK figures name the year of the prices they are
in ("DKK (2016 rates)"), because the agreement's rate table and a planner's cost figures need not be of the
same year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SEPARATOR = "\u202f"  # narrow no-break space


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 day', '2 days', '0 episodes'; `plural_form` where adding 's' is wrong."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def number(value: float, decimals: int = 0) -> str:
    """`value` to `decimals` places, thousands separated, never "-0"."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "-∞" if value < 0 else "n/a"
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # drops the sign of -0.0 and of a negative value that rounds to nothing
    return f"{rounded:,.{decimals}f}".replace(",", SEPARATOR)


def decimals_for(*values: float) -> int:
    """One precision for figures read together (a mean and its interval): none for whole numbers and for
    hundreds and more, else enough for three significant digits of the largest, at most three."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    if not finite or all(float(v).is_integer() for v in values if math.isfinite(v)):
        return 0
    largest = max(finite)
    if largest >= 100:
        return 0
    if largest >= 10:
        return 1
    return 2 if largest >= 1 else 3


def auto(value: float) -> str:
    """A single figure at the precision `decimals_for` gives it."""
    return number(value, decimals_for(value))


def percent(share: float, decimals: int = 1) -> str:
    """A share between 0 and 1 as a percentage: 0.9963 -> '99.6 %'."""
    return f"{number(share * 100, decimals)}{SEPARATOR}%"


def points(difference: float, decimals: int = 1) -> str:
    """A difference of two shares in percentage points: 0.004 -> '+0.4 pp'."""
    sign = "+" if round(difference * 100, decimals) > 0 else ""
    return f"{sign}{number(difference * 100, decimals)}{SEPARATOR}pp"


def dkk(value: float, prices: str | None = None) -> str:
    """'12 780 768 DKK (2016 rates)': whole kroner, with the year of the prices when known."""
    return f"{number(value)}{SEPARATOR}DKK" + (f" ({prices})" if prices else "")


def estimate(stat: Mapping[str, Any], kind: str = "number", difference: bool = False) -> str:
    """'mean [low; high]' for a {"mean", "ci95"} summary: one precision for the three figures; `kind`
    "share" prints percentages (percentage points for a difference); "dkk" whole kroner."""
    mean, (low, high) = float(stat["mean"]), (float(x) for x in stat["ci95"])
    if kind == "share":
        show = points if difference else percent
        return f"{show(mean)} [{show(low)}; {show(high)}]"
    decimals = 0 if kind == "dkk" else decimals_for(mean, low, high)
    sign = "+" if difference and round(mean, decimals) > 0 else ""
    return f"{sign}{number(mean, decimals)} [{number(low, decimals)}; {number(high, decimals)}]"


def per_horizon(horizon_days: int) -> str:
    """'per year' for a horizon of a year (52 weeks counts as one), else 'per N days'."""
    return "per year" if 364 <= horizon_days <= 366 else f"per {horizon_days} days"
