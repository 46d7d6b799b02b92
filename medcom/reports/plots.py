"""PNG charts of a simulation result (matplotlib, no display needed).

Axes print figures as the reports do (thousands separated, never "1e8"), with as many decimals as the ticks'
spacing needs (so 0.995 and 1.000 never both read "1.00"); shares print as percentages and their differences
as percentage points; DKK axes name the rate table's year, and time axes are dates. The variant comparison
draws each variant as a point with its interval and its figure written beside it, so a variant with a small
effect stays visible next to one with a large effect. Charts are saved with their titles whole.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axis import Axis  # noqa: E402
from matplotlib.ticker import Formatter, MaxNLocator  # noqa: E402

from medcom.reports.formatting import estimate, number  # noqa: E402
from simulator.costs import tax_rates_label  # noqa: E402
from simulator.run import ScenarioResult  # noqa: E402


class FigureFormatter(Formatter):
    """Tick labels as the reports print figures, with the decimals the ticks' spacing needs: a share (0..1) as a
    percentage ('99.5 %'), a difference of shares in percentage points ('+0.2 pp'), kroner from a million up in
    millions ('2.5 M': seven-digit ticks run into each other), anything else thousands separated."""

    def __init__(self, kind: str = "number", difference: bool = False) -> None:
        self.kind, self.difference = kind, difference

    def format_ticks(self, values: list[float]) -> list[str]:
        """All ticks at once: their spacing sets the decimals."""
        scale = 100 if self.kind == "share" else 1
        self.millions = self.kind == "dkk" and max((abs(float(v)) for v in values), default=0) >= 1_000_000
        if self.millions:
            scale = 1e-6
        scaled = [float(v) * scale for v in values]
        decimals = next((d for d in range(5) if all(abs(v * 10 ** d - round(v * 10 ** d)) < 1e-6 * max(1.0, abs(v))
                                                    for v in scaled)), 4)
        return [self.text(v, decimals) for v in values]

    def __call__(self, value: float, pos: int | None = None) -> str:
        return self.text(value, 2)

    def text(self, value: float, decimals: int) -> str:
        if getattr(self, "millions", False):
            return f"{number(value / 1e6, decimals)}\u202fM"
        scale = 100 if self.kind == "share" else 1
        text = number(value * scale, decimals)
        if self.kind == "share":
            sign = "+" if self.difference and round(value * scale, decimals) > 0 else ""
            return f"{sign}{text}\u202f{'pp' if self.difference else '%'}"
        return text


def figures_axis(axis: Axis, kind: str = "number", difference: bool = False) -> None:
    """Tick labels as the reports print figures (see FigureFormatter), at most 7 ticks."""
    axis.set_major_locator(MaxNLocator(nbins=6, integer=kind in ("count", "dkk")))
    axis.set_major_formatter(FigureFormatter(kind, difference))


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
    ax.set(title="Completion-tax days per week (mean per replication)\nof patients admitted in the counted days: "
                 "the first week is low, as those admitted before it are not counted",
           xlabel="week beginning", ylabel="tax days")
    ax.title.set_fontsize(10)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    figures_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
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
    written.append(save(fig, out / "discharges-by-hour.png"))

    fig = tax_days_per_week_figure(result)
    written.append(save(fig, out / "tax-days-per-week.png"))

    comparison = result.as_dict().get("comparison") or {}
    if comparison:
        fig = comparison_figure(comparison, rates, run.horizon_days)
        written.append(save(fig, out / "variant-comparison.png"))
    return written


def comparison_figure(comparison: dict, rates: str, horizon_days: int) -> plt.Figure:
    """Per metric a panel: each variant's paired difference against the base as a point with its 95 % CI and
    the figure written beside it (a variant with a small effect is as visible as one with a large one)."""
    from medcom.reports.simulate import per_horizon

    variants = list(comparison)
    panels = (("completion_tax_days", "completion-tax days", "count"),
              ("completion_tax_dkk", f"completion tax, DKK ({rates})", "dkk"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 1.6 + 0.7 * len(variants)), sharey=True)
    for ax, (key, title, kind) in zip(axes, panels, strict=True):
        stats = [comparison[v]["difference"][key] for v in variants]
        ys = list(range(len(variants)))[::-1]
        for y, stat in zip(ys, stats, strict=True):
            low, high = stat["ci95"]
            ax.plot([low, high], [y, y], color="tab:orange", linewidth=3, solid_capstyle="butt")
            ax.plot([stat["mean"]], [y], "o", color="tab:red", markersize=7)
            ax.annotate(("+" if stat["mean"] > 0 else "") + estimate(stat, kind).lstrip("+"), (stat["mean"], y),
                        xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(ys, variants)
        ax.set_ylim(-0.7, len(variants) - 0.3)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"variant − base, {per_horizon(horizon_days)}")
        figures_axis(ax.xaxis, kind)
        ax.margins(x=0.15)
    fig.suptitle("Each variant against the base: mean and 95 % CI (paired, common random numbers)", fontsize=11)
    return fig


def save(fig: plt.Figure, path: Path) -> Path:
    """The chart as PNG, cropped to what is drawn (titles and labels whole, never cut)."""
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    return path
