"""PNG charts of a simulation result (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simulator.run import BASE, ScenarioResult  # noqa: E402


def _mean(rows: list[list[int]]) -> list[float]:
    return [sum(col) / len(rows) for col in zip(*rows, strict=True)]


def write_plots(result: ScenarioResult, out: Path) -> list[Path]:
    """discharges-by-hour.png, tax-days-per-week.png and, with variants, variant-comparison.png."""
    out.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(result.runs)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        hours = _mean([m.discharges_by_hour for m in result.runs[name]])
        ax.bar([h + i * width for h in range(24)], hours, width=width, label=name)
    ax.set(title="Discharges by hour of day (mean per replication)", xlabel="hour (Europe/Copenhagen)",
           ylabel="discharges", xticks=range(24))
    ax.legend()
    written.append(_save(fig, out / "discharges-by-hour.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    for name in names:
        weeks = _mean([m.tax_days_by_week for m in result.runs[name]])
        ax.plot(range(1, len(weeks) + 1), weeks, marker=".", label=name)
    ax.set(title="Completion-tax days per week (mean per replication)", xlabel="week of the horizon",
           ylabel="tax days")
    ax.legend()
    written.append(_save(fig, out / "tax-days-per-week.png"))

    comparison = result.as_dict().get("comparison") or {}
    if comparison:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key, label in ((axes[0], "completion_tax_days", "tax days"),
                               (axes[1], "completion_tax_dkk", "DKK")):
            variants = list(comparison)
            means = [comparison[v]["difference"][key]["mean"] for v in variants]
            errors = [[m - comparison[v]["difference"][key]["ci95"][0] for v, m in zip(variants, means, strict=True)],
                      [comparison[v]["difference"][key]["ci95"][1] - m for v, m in zip(variants, means, strict=True)]]
            ax.barh(variants, means, xerr=errors, capsize=4, color="tab:orange")
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set(title=f"{label}: variant - {BASE} (95 % CI)", xlabel=label)
        written.append(_save(fig, out / "variant-comparison.png"))
    return written


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
