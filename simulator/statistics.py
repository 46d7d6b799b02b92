"""Means and 95 % confidence intervals over replications (Student t), plain and paired.

A count or a share cannot leave its range, but a t interval around a mean of few replications can: the
interval is then clipped at the bound (a count's 0, a share's 0 and 1) and says so (`"ci95_clipped": true`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats


def summary(values: Sequence[float], low: float | None = None, high: float | None = None) -> dict[str, object]:
    """Mean and the 95 % confidence interval of the mean of independent replications, clipped to
    [`low`, `high`] where the quantity cannot go beyond (None: unbounded)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "ci95": [mean, mean]}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    lo, hi = mean - half, mean + half
    clipped_lo = max(lo, low) if low is not None else lo
    clipped_hi = min(hi, high) if high is not None else hi
    out: dict[str, object] = {"mean": mean, "ci95": [clipped_lo, clipped_hi]}
    if (clipped_lo, clipped_hi) != (lo, hi):
        out["ci95_clipped"] = True
    return out


def paired(base: Sequence[float], variant: Sequence[float]) -> dict[str, object]:
    """Mean and 95 % CI of the per-replication difference variant - base (common random numbers make the
    pairs correlated, which is what narrows this interval)."""
    return summary([v - b for b, v in zip(base, variant, strict=True)])
