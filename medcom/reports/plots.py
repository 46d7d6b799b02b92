"""PNG charts of a simulation result (matplotlib, no display needed).

Axes print figures as the reports do (thousands separated, never "1e8"), DKK axes name the rate table's
year, and time axes are dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axis import Axis  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from medcom.reports.formatting import number  # noqa: E402
from simulator.costs import tax_rates_label  # noqa: E402
from simulator.run import BASE, ScenarioResult  # noqa: E402


def figures_axis(axis: Axis, decimals: int = 0) -> None:
    """Tick labels as the reports print figures: thousands separated, no scientific notation."""
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: number(value, decimals)))


def _mean(rows: list[list[int]]) -> list[float]:
    return [sum(col) / len(rows) for col in zip(*rows, strict=True)]


def week_starts(start: date, weeks: int) -> list[date]:
    """The first day of each week of the horizon."""
    return [start + timedelta(days=7 * w) for w in range(weeks)]


def tax_days_per_week_figure(result: ScenarioResult) -> plt.Figure:
    """Completion-tax days per week of the horizon, each week at the date it begins."""
    run = result.scenario.run
    fig, ax = plt.subplots(figsize=(8, 4))
    horizon_start = run.start + timedelta(days=run.warmup_days)
    for name in result.runs:
        weeks = _mean([m.tax_days_by_week for m in result.runs[name]])
        ax.plot(week_starts(horizon_start, len(weeks)), weeks, marker=".", label=name)
    ax.set(title="Completion-tax days per week (mean per replication)", xlabel="week beginning",
           ylabel="tax days")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    figures_axis(ax.yaxis, 1)
    ax.legend()
    return fig


def write_plots(result: ScenarioResult, out: Path) -> list[Path]:
    """discharges-by-hour.png, tax-days-per-week.png and, with variants, variant-comparison.png."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    run = result.scenario.run
    rates = tax_rates_label(result.scenario.base.policy, run)

    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(result.runs)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        hours = _mean([m.discharges_by_hour for m in result.runs[name]])
        ax.bar([h + i * width for h in range(24)], hours, width=width, label=name)
    ax.set(title="Discharges by hour of day (mean per replication)", xlabel="hour (Europe/Copenhagen)",
           ylabel="discharges", xticks=range(24))
    figures_axis(ax.yaxis)
    ax.legend()
    written.append(_save(fig, out / "discharges-by-hour.png"))

    fig = tax_days_per_week_figure(result)
    written.append(_save(fig, out / "tax-days-per-week.png"))

    comparison = result.as_dict().get("comparison") or {}
    if comparison:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key, unit in ((axes[0], "completion_tax_days", "tax days"),
                              (axes[1], "completion_tax_dkk", f"DKK ({rates})")):
            variants = list(comparison)
            means = [comparison[v]["difference"][key]["mean"] for v in variants]
            errors = [[m - comparison[v]["difference"][key]["ci95"][0] for v, m in zip(variants, means, strict=True)],
                      [comparison[v]["difference"][key]["ci95"][1] - m for v, m in zip(variants, means, strict=True)]]
            ax.barh(variants, means, xerr=errors, capsize=4, color="tab:orange")
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set(title=f"{unit}: variant - {BASE} (95 % CI)", xlabel=unit)
            figures_axis(ax.xaxis)
            ax.tick_params(axis="x", labelrotation=20)
        written.append(_save(fig, out / "variant-comparison.png"))
    return written


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
