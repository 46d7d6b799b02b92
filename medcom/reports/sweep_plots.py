"""PNG charts of a sweep: for one varied key a line with its 95 % CI band per metric (the level and the paired
difference against the base), for two a heatmap per metric; none for more."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from medcom.reports.formatting import estimate  # noqa: E402
from medcom.reports.plots import figures_axis, save  # noqa: E402
from medcom.reports.simulate import METRICS, label  # noqa: E402

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def positions(texts: list[str]) -> list[float]:
    """Where a key's values sit on an axis: numbers and clock times (in hours) as themselves, anything else in
    the order given."""
    numbers: list[float] = []
    for t in texts:
        clock = _CLOCK.match(t)
        if clock:
            numbers.append(int(clock[1]) + int(clock[2]) / 60)
            continue
        try:
            numbers.append(float(t))
        except ValueError:
            return [float(i) for i in range(len(texts))]
    return numbers


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _series(sweep: dict, key: str, part: str) -> tuple[list[float], list[float], list[float]]:
    stats = [p[part][key] for p in sweep["points"]]
    return [s["mean"] for s in stats], [s["ci95"][0] for s in stats], [s["ci95"][1] for s in stats]


def _kind(key: str) -> str:
    return METRICS[key].kind if key in METRICS else "number"


def axis_label(key: str) -> str:
    """'discharge window end (municipality.discharge_window_end)': the varied key in words, then as written."""
    return f"{key.rsplit('.', 1)[-1].replace('_', ' ')} ({key})"


def lines(sweep: dict, metrics: tuple[str, ...], out: Path) -> list[Path]:
    axis = sweep["axes"][0]
    xs = positions([p["values"][axis["key"]] for p in sweep["points"]])
    ticks = [p["values"][axis["key"]] for p in sweep["points"]]
    rates = sweep.get("completion_tax_rates") or ""
    written = []
    for key in metrics:
        fig, (level, diff) = plt.subplots(1, 2, figsize=(11, 4))
        for ax, part, title in ((level, "metrics", "mean"), (diff, "difference", "point − base (paired)")):
            mean, low, high = _series(sweep, key, part)
            ax.fill_between(xs, low, high, alpha=0.25, color="tab:blue", label="95 % CI")
            ax.plot(xs, mean, marker="o", color="tab:blue", label="mean")
            if part == "difference":
                ax.axhline(0, color="black", linewidth=0.8)
            ax.set(title=title, xlabel=axis_label(axis["key"]), xticks=xs)
            ax.set_xticklabels(ticks)
            figures_axis(ax.yaxis, _kind(key), part == "difference")
            ax.legend()
        fig.suptitle(label(key, sweep["horizon_days"], rates))
        written.append(save(fig, out / f"sweep-{_slug(key)}.png"))
    if sweep.get("bill"):
        written.append(bill_chart(sweep, xs, ticks, axis["key"], out))
    return written


def _bill_series(sweep: dict) -> list[tuple[str, list[dict]]]:
    """The bill's lines, each labelled with its price year: a net only where both its sides share one year."""
    prices = sweep["bill"]["prices"]
    bills = [p["bill"] for p in sweep["points"]]
    fixed = [{"mean": b["municipality_total"]["extra_staffing_dkk"]} for b in bills]
    out: list[tuple[str, list[dict]]] = []
    if all(b["municipality_total"]["net_dkk"] is not None for b in bills):
        out.append((f"municipal net: tax saved − staffing ({prices['reception']})",
                    [b["municipality_total"]["net_dkk"] for b in bills]))
    else:
        out += [(f"municipal tax saved ({prices['completion_tax']})",
                 [b["municipality_total"]["tax_saved_dkk"] for b in bills]),
                (f"extra reception staffing ({prices['reception']})", fixed)]
    if all(b["region"]["net_dkk"] is not None for b in bills):
        out.append((f"region net: bed-days' value − tax income ({prices['bed_day']})",
                    [b["region"]["net_dkk"] for b in bills]))
    else:
        out.append((f"region: bed-days' value ({prices['bed_day']})", [b["region"]["bed_days_value_dkk"]
                                                                       for b in bills]))
    return out


def bill_chart(sweep: dict, xs: list[float], ticks: list[str], key: str, out: Path) -> Path:
    """Both sides of the bill per point; kroner of different price years are drawn apart, never netted."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, stats in _bill_series(sweep):
        (line,) = ax.plot(xs, [s["mean"] for s in stats], marker="o", label=name)
        if "ci95" in stats[0]:
            ax.fill_between(xs, [s["ci95"][0] for s in stats], [s["ci95"][1] for s in stats], alpha=0.2,
                            color=line.get_color())
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(title="Both sides of the bill, each point against the base: DKK (mean, 95 % CI)", xlabel=axis_label(key),
           xticks=xs)
    ax.set_xticklabels(ticks)
    figures_axis(ax.yaxis, "dkk")
    ax.legend(fontsize=8)
    return save(fig, out / "sweep-bill.png")


def heatmaps(sweep: dict, metrics: tuple[str, ...], out: Path) -> list[Path]:
    rows_axis, cols_axis = sweep["axes"]
    rows, cols = rows_axis["values"], cols_axis["values"]
    by = {(p["values"][rows_axis["key"]], p["values"][cols_axis["key"]]): p for p in sweep["points"]}
    rates = sweep.get("completion_tax_rates") or ""
    written = []
    for key in metrics:
        kind = METRICS[key].kind if key in METRICS else "number"
        grid = [[by[(r, c)]["metrics"][key]["mean"] for c in cols] for r in rows]
        fig, ax = plt.subplots(figsize=(max(6, 1.9 * len(cols) + 2), max(3, 0.8 * len(rows) + 1.5)))
        image = ax.imshow(grid, cmap="viridis", aspect="auto")
        bar = fig.colorbar(image, ax=ax)
        figures_axis(bar.ax.yaxis, _kind(key))
        ax.set(xticks=range(len(cols)), yticks=range(len(rows)), xlabel=axis_label(cols_axis["key"]),
               ylabel=axis_label(rows_axis["key"]),
               title=f"{label(key, sweep['horizon_days'], rates)}\nmean [95 % CI]")
        ax.set_xticklabels(cols)
        ax.set_yticklabels(rows)
        low, high = min(min(g) for g in grid), max(max(g) for g in grid)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                text = estimate(by[(r, c)]["metrics"][key], kind).replace(" [", "\n[")
                light = high > low and (grid[i][j] - low) / (high - low) < 0.5
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if light else "black")
        written.append(save(fig, out / f"sweep-{_slug(key)}.png"))
    return written


def write_sweep_plots(sweep: dict, metrics: tuple[str, ...], out: Path) -> list[Path]:
    """Charts for a sweep of one or two keys (none for more), into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    if len(sweep["axes"]) == 1:
        return lines(sweep, metrics, out)
    if len(sweep["axes"]) == 2:
        return heatmaps(sweep, metrics, out)
    return []
