"""A sweep (simulator/sweep.py) for people: per metric a table of the grid's points with mean and 95 % CI and
the paired difference against the base; the bill per point when the scenario has `[costs]`; an HTML page with
the charts (a line with its CI band for one varied key, a heatmap for two)."""

from __future__ import annotations

import textwrap
from html import escape
from pathlib import Path

from medcom.reports.bill import figure_text, verdict
from medcom.reports.formatting import estimate, number
from medcom.reports.glossary import glossary
from medcom.reports.glossary import text_lines as glossary_lines
from medcom.reports.headline import headlines, uncertainty
from medcom.reports.html_page import estimate_html, image, page
from medcom.reports.simulate import CLIPPED_NOTE, cell, chart_heading, label, per_horizon
from medcom.reports.simulate_html import EXTRA_CSS, glossary_html, headline_html

DEFAULT_METRICS = ("completion_tax_days", "completion_tax_dkk", "bed_days_ready_waiting", "care_plans_late",
                   "acks_same_day_share")


def _values(point: dict, keys: list[str]) -> list[str]:
    return [point["values"][k] for k in keys]


def _base_is_a_point(sweep: dict, keys: list[str]) -> bool:
    """Whether a grid point is the base itself (then the base is not printed twice: that point says so)."""
    return any(_values(p, keys) == _values(sweep["base"], keys) for p in sweep["points"])


def _point_values(sweep: dict, point: dict, keys: list[str]) -> list[str]:
    values = _values(point, keys)
    if keys and values == _values(sweep["base"], keys):
        values[-1] += " (base)"
    return values


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
    """The bill per point: both sides with their price years; a net only where its sides share one year (a
    column of nets that are all left out is dropped, and `_bill_note` says why)."""
    prices, per = sweep["bill"]["prices"], per_horizon(sweep["horizon_days"])
    bills = [p["bill"] for p in sweep["points"]]
    municipal = any(b["municipality_total"]["net_dkk"] is not None for b in bills)
    region = any(b["region"]["net_dkk"] is not None for b in bills)
    head = [f"tax saved, DKK ({prices['completion_tax']}) {per}", f"extra staffing, DKK ({prices['reception']}) {per}",
            *(["municipal net"] if municipal else []), f"bed-days freed {per}",
            f"their value, DKK ({prices['bed_day']})", *(["region net"] if region else [])]
    rows = []
    for b in bills:
        t, r = b["municipality_total"], b["region"]
        rows.append([estimate(t["tax_saved_dkk"], "dkk"), number(t["extra_staffing_dkk"]),
                     *([_net(t)] if municipal else []), estimate(r["bed_days_freed"]),
                     estimate(r["bed_days_value_dkk"], "dkk"), *([_net(r)] if region else [])])
    return head, rows


def _bill_note(sweep: dict) -> str:
    """Why a net is missing (kroner of different price years), or ''."""
    for p in sweep["points"]:
        for side in ("municipality_total", "region"):
            if p["bill"][side]["net_dkk"] is None:
                return "No net where its two sides are in different price years: " + \
                    p["bill"][side]["net_not_computed"].removeprefix("not computed: ") + "."
    return ""


def _net(block: dict) -> str:
    if block["net_dkk"] is None:
        return "not netted (price years differ)"
    return f"{estimate(block['net_dkk'], 'dkk')} ({verdict(block['net_dkk'])})"


def to_text(sweep: dict, metrics: tuple[str, ...] = DEFAULT_METRICS) -> str:
    sweep = with_reading_aids(sweep)
    keys = [a["key"] for a in sweep["axes"]]
    horizon, rates = sweep["horizon_days"], sweep.get("completion_tax_rates")
    lines = _head(sweep)
    lines[1:1] = ["", *(line for h in sweep["headlines"] for line in textwrap.wrap(
        h["sentence"], 116, initial_indent="* ", subsequent_indent="  ")), *textwrap.wrap(sweep["uncertainty"], 116),
        ""]
    short = [k.rsplit(".", 1)[-1] for k in keys]
    widths = [max(len(s), *(len(v) for v in a["values"]), len(sweep["base"]["values"][k]) + 7)
              for s, a, k in zip(short, sweep["axes"], keys, strict=True)]
    for key in metrics:
        lines += ["", label(key, horizon, rates or ""),
                  "  " + "  ".join(f"{s:<{w}}" for s, w in zip(short, widths, strict=True))
                  + f"  {'mean':>34}  {'point − base':>34}"]
        if not _base_is_a_point(sweep, keys):
            lines.append("  " + "  ".join(f"{'base (' + v + ')':<{w}}" for v, w in
                                          zip(_values(sweep["base"], keys), widths, strict=True))
                         + f"  {cell(key, sweep['base']['metrics'][key]):>34}")
        for p in sweep["points"]:
            lines.append("  " + "  ".join(f"{v:<{w}}" for v, w in zip(_point_values(sweep, p, keys), widths,
                                                                        strict=True))
                         + f"  {cell(key, p['metrics'][key]):>34}  {cell(key, p['difference'][key], True):>34}")
    if sweep.get("bill"):
        head, rows = _bill_rows(sweep)
        width = max(len(h) for h in head)
        lines += ["", "both sides of the bill, each point against the base (municipalities together)"]
        for p, row in zip(sweep["points"], rows, strict=True):
            lines.append("  " + ", ".join(f"{k.rsplit('.', 1)[-1]} = {v}" for k, v in p["values"].items()))
            lines += [f"    {h:<{width}}  {x}" for h, x in zip(head, row, strict=True)]
        if note := _bill_note(sweep):
            lines += textwrap.wrap(note, 116, initial_indent="  ", subsequent_indent="  ")
        lines += ["", "the figures the bill rests on:", *(f"  {figure_text(f)}" for f in sweep["bill"]["figures"])]
    lines += ["", *glossary_lines(sweep)]
    return "\n".join(lines)


def with_reading_aids(sweep: dict) -> dict:
    """The sweep with a headline per point (as simulate's per variant), what the intervals cover, and the
    glossary; added once, printed alike by every format."""
    if "headlines" in sweep:
        return sweep
    bill = sweep.get("bill")
    as_result = {
        **sweep, "metrics": sweep["base"]["metrics"],
        "variants": {p["name"]: {"description": "", "completion_tax_rates": sweep.get("completion_tax_rates")}
                     for p in sweep["points"]},
        "comparison": {p["name"]: {"difference": p["difference"]} for p in sweep["points"]},
        "bill": {"prices": bill["prices"], "variants": {p["name"]: p["bill"] for p in sweep["points"]}}
        if bill else None,
    }
    return {**sweep, "headlines": headlines(as_result), "uncertainty": uncertainty(as_result),
            "glossary": glossary(as_result)}


def to_html(sweep: dict, charts: list[Path], metrics: tuple[str, ...] = DEFAULT_METRICS) -> str:
    sweep = with_reading_aids(sweep)
    keys = [a["key"] for a in sweep["axes"]]
    horizon, rates = sweep["horizon_days"], sweep.get("completion_tax_rates") or ""
    head = _head(sweep)
    body = [f"<h1>medcom sweep: {escape(sweep['scenario'])}</h1>", headline_html(sweep),
            *(f'<p class="muted">{escape(line)}</p>' for line in head[1:])]
    key_heads = "".join(f"<th>{escape(k)}</th>" for k in keys)
    for key in metrics:
        rows = [] if _base_is_a_point(sweep, keys) else [
            f'<tr class="base"><th colspan="{len(keys)}">base ({escape(", ".join(_values(sweep["base"], keys)))})'
            f'</th><td class="num">{estimate_html(cell(key, sweep["base"]["metrics"][key]))}</td><td></td></tr>']
        rows += [f'<tr data-point="{escape(p["name"])}">'
                 + "".join(f"<td>{escape(v)}</td>" for v in _point_values(sweep, p, keys))
                 + f'<td class="num" data-mean="{p["metrics"][key]["mean"]!r}">'
                 f'{estimate_html(cell(key, p["metrics"][key]))}</td><td class="num" '
                 f'data-mean="{p["difference"][key]["mean"]!r}">{estimate_html(cell(key, p["difference"][key], True))}'
                 f'</td></tr>' for p in sweep["points"]]
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
                        + "".join(f'<td class="num">{estimate_html(x)}</td>' for x in row) + "</tr>"
                        for p, row in zip(sweep["points"], rows, strict=True)) + "</tbody></table></div>"
                    + (f'<p class="muted" id="bill-note">{escape(note)}</p>' if (note := _bill_note(sweep)) else ""))
        body.append('<p class="muted">The figures the bill rests on:</p><ul id="bill-sources">' + "".join(
            f"<li>{escape(figure_text(f))}</li>" for f in sweep["bill"]["figures"]) + "</ul>")
    if not charts:
        body.append('<p class="muted">No charts: they are drawn for one varied key (lines) or two (heatmaps).</p>')
    for chart in charts:
        body.append(f"<h2>{escape(chart_heading(chart.stem))}</h2>{image(chart)}")
    body.append(glossary_html(sweep))
    return page(f"medcom sweep {sweep['scenario']}", "\n".join(body), extra_css=EXTRA_CSS)
