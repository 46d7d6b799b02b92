"""A sweep (simulator/sweep.py) for people: per metric a table of the grid's points with mean and 95 % CI and
the paired difference against the base; the bill per point when the scenario has `[costs]`; an HTML page with
the charts (a line with its CI band for one varied key, a heatmap for two)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from medcom.reports.bill import figure_text, verdict
from medcom.reports.formatting import estimate, number
from medcom.reports.html_page import page
from medcom.reports.simulate import CLIPPED_NOTE, cell, label, per_horizon

DEFAULT_METRICS = ("completion_tax_days", "completion_tax_dkk", "bed_days_ready_waiting", "care_plans_late",
                   "acks_same_day_share")


def _values(point: dict, keys: list[str]) -> list[str]:
    return [point["values"][k] for k in keys]


def _head(sweep: dict) -> list[str]:
    keys = [a["key"] for a in sweep["axes"]]
    size = len(sweep["points"])
    return [f"sweep of {sweep['scenario']}" + (f": {sweep['description']}" if sweep.get("description") else ""),
            f"{size} grid point{'s' if size != 1 else ''} x {sweep['replications']} replications, seed "
            f"{sweep['seed']}, {sweep['horizon_days']} days counted ({per_horizon(sweep['horizon_days'])})",
            *(f"varied: {a['key']} = {', '.join(a['values'])} (base: {sweep['base']['values'][a['key']]})"
              for a in sweep["axes"]),
            f"mean [95 % CI] over replications; point − base: paired difference, the same patients at every point "
            f"(common random numbers); {CLIPPED_NOTE}"] if keys else []


def _bill_rows(sweep: dict) -> tuple[list[str], list[list[str]]]:
    """The bill per point: both sides with their price years; a net only where its sides share one year."""
    prices, per = sweep["bill"]["prices"], per_horizon(sweep["horizon_days"])
    head = [f"tax saved, DKK ({prices['completion_tax']}) {per}", f"extra staffing, DKK ({prices['reception']}) {per}",
            "municipal net", f"bed-days freed {per}", f"their value, DKK ({prices['bed_day']})", "region net"]
    rows = []
    for p in sweep["points"]:
        b = p["bill"]
        t, r = b["municipality_total"], b["region"]
        rows.append([estimate(t["tax_saved_dkk"], "dkk"), number(t["extra_staffing_dkk"]), _net(t),
                     estimate(r["bed_days_freed"]), estimate(r["bed_days_value_dkk"], "dkk"), _net(r)])
    return head, rows


def _net(block: dict) -> str:
    if block["net_dkk"] is None:
        return "not netted (price years differ)"
    return f"{estimate(block['net_dkk'], 'dkk')} ({verdict(block['net_dkk'])})"


def to_text(sweep: dict, metrics: tuple[str, ...] = DEFAULT_METRICS) -> str:
    keys = [a["key"] for a in sweep["axes"]]
    horizon, rates = sweep["horizon_days"], sweep.get("completion_tax_rates")
    lines = _head(sweep)
    short = [k.rsplit(".", 1)[-1] for k in keys]
    widths = [max(len(s), *(len(v) for v in a["values"]), len(sweep["base"]["values"][k]) + 7)
              for s, a, k in zip(short, sweep["axes"], keys, strict=True)]
    for key in metrics:
        lines += ["", label(key, horizon, rates or ""),
                  "  " + "  ".join(f"{s:<{w}}" for s, w in zip(short, widths, strict=True))
                  + f"  {'mean':>34}  {'point − base':>34}",
                  "  " + "  ".join(f"{'base (' + v + ')':<{w}}" for v, w in
                                   zip(_values(sweep["base"], keys), widths, strict=True))
                  + f"  {cell(key, sweep['base']['metrics'][key]):>34}"]
        for p in sweep["points"]:
            lines.append("  " + "  ".join(f"{v:<{w}}" for v, w in zip(_values(p, keys), widths, strict=True))
                         + f"  {cell(key, p['metrics'][key]):>34}  {cell(key, p['difference'][key], True):>34}")
    if sweep.get("bill"):
        head, rows = _bill_rows(sweep)
        cols = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        lines += ["", "both sides of the bill, each point against the base (municipalities together)",
                  "  " + "  ".join(f"{s:<{w}}" for s, w in zip(short, widths, strict=True)) + "  "
                  + "  ".join(f"{h:>{c}}" for h, c in zip(head, cols, strict=True))]
        for p, row in zip(sweep["points"], rows, strict=True):
            lines.append("  " + "  ".join(f"{v:<{w}}" for v, w in zip(_values(p, keys), widths, strict=True)) + "  "
                         + "  ".join(f"{x:>{c}}" for x, c in zip(row, cols, strict=True)))
        lines += ["", "the figures the bill rests on:", *(f"  {figure_text(f)}" for f in sweep["bill"]["figures"])]
    return "\n".join(lines)


def to_html(sweep: dict, charts: list[Path], metrics: tuple[str, ...] = DEFAULT_METRICS) -> str:
    keys = [a["key"] for a in sweep["axes"]]
    horizon, rates = sweep["horizon_days"], sweep.get("completion_tax_rates") or ""
    head = _head(sweep)
    body = [f"<h1>medcom sweep: {escape(sweep['scenario'])}</h1>",
            *(f'<p class="muted">{escape(line)}</p>' for line in head[1:])]
    key_heads = "".join(f"<th>{escape(k)}</th>" for k in keys)
    for key in metrics:
        rows = [f'<tr class="base"><th colspan="{len(keys)}">base ({escape(", ".join(_values(sweep["base"], keys)))})'
                f'</th><td class="num">{escape(cell(key, sweep["base"]["metrics"][key]))}</td><td></td></tr>']
        rows += [f'<tr data-point="{escape(p["name"])}">' + "".join(f"<td>{escape(v)}</td>" for v in _values(p, keys))
                 + f'<td class="num" data-mean="{p["metrics"][key]["mean"]!r}">{escape(cell(key, p["metrics"][key]))}'
                 f'</td><td class="num" data-mean="{p["difference"][key]["mean"]!r}">'
                 f'{escape(cell(key, p["difference"][key], True))}</td></tr>' for p in sweep["points"]]
        body.append(f'<h2>{escape(label(key, horizon, rates))}</h2><div class="scroll"><table class="sweep" '
                    f'data-metric="{escape(key)}"><thead><tr>{key_heads}<th class="num">mean [95 % CI]</th>'
                    f'<th class="num">point − base</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    if sweep.get("bill"):
        head_cells, rows = _bill_rows(sweep)
        body.append('<h2 id="bill">Both sides of the bill</h2><p class="muted">Each point against the base, the '
                    'municipalities together; staffing is the same in every replication.</p><div class="scroll">'
                    '<table class="bill"><thead><tr>' + key_heads + "".join(
                        f'<th class="num">{escape(h)}</th>' for h in head_cells) + "</tr></thead><tbody>" + "".join(
                        f'<tr data-point="{escape(p["name"])}">' + "".join(f"<td>{escape(v)}</td>" for v in
                                                                          _values(p, keys))
                        + "".join(f'<td class="num">{escape(x)}</td>' for x in row) + "</tr>"
                        for p, row in zip(sweep["points"], rows, strict=True)) + "</tbody></table></div>")
        body.append('<p class="muted">The figures the bill rests on:</p><ul id="bill-sources">' + "".join(
            f"<li>{escape(figure_text(f))}</li>" for f in sweep["bill"]["figures"]) + "</ul>")
    if not charts:
        body.append('<p class="muted">No charts: they are drawn for one varied key (lines) or two (heatmaps).</p>')
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        body.append(f'<h2>{escape(chart.stem.replace("-", " "))}</h2>'
                    f'<img alt="{escape(chart.stem)}" src="data:image/png;base64,{data}">')
    return page(f"medcom sweep {sweep['scenario']}", "\n".join(body))
