"""Means and 95 % confidence intervals over replications (Student t), plain and paired."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats


def summary(values: Sequence[float]) -> dict[str, object]:
    """Mean and the 95 % confidence interval of the mean of independent replications."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "ci95": [mean, mean]}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "ci95": [mean - half, mean + half]}


def paired(base: Sequence[float], variant: Sequence[float]) -> dict[str, object]:
    """Mean and 95 % CI of the per-replication difference variant - base (common random numbers make the
    pairs correlated, which is what narrows this interval)."""
    return summary([v - b for b, v in zip(base, variant, strict=True)])
