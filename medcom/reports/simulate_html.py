"""The simulation result as one self-contained HTML page: the variants side by side with CIs, and the charts.

The comparison table scrolls sideways inside its own box (the first column stays put) when the variants do
not fit the page; each variant is described; municipalities are named; the bill (when the scenario has
`[costs]`) and the model's own checks have sections of their own.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from medcom.reports.bill import bill_html
from medcom.reports.formatting import estimate
from medcom.reports.html_page import page
from medcom.reports.simulate import (
    CLIPPED_NOTE,
    METRICS,
    MODEL_CHECKS_NOTE,
    cell,
    label,
    municipality_label,
    per_horizon,
)

EXTRA_CSS = """
.scroll table { width: auto; min-width: 100%; }
#metrics th:first-child { position: sticky; left: 0; background: #f5f7fa; z-index: 1; min-width: 260px; }
#metrics td { white-space: nowrap; }
dl.variants dt { font-weight: 600; } dl.variants dd { margin: 0 0 6px 16px; }
"""


def _td(key: str, stat: dict, difference: bool = False) -> str:
    text = cell(key, stat, difference)
    mean, rest = text.split(" [", 1)
    return (f'<td class="num" data-mean="{stat["mean"]!r}"><b>{escape(mean)}</b><br>'
            f'<span class="muted">[{escape(rest)}</span></td>')


def _table(result: dict, keys: list[str], table_id: str) -> str:
    variants = list(result.get("variants") or {})
    horizon, rates = result["horizon_days"], result.get("completion_tax_rates", "")
    head = "".join(f'<th class="num">{escape(v)}</th><th class="num">{escape(v)} − base</th>' for v in variants)
    rows = []
    for key in keys:
        cells = _td(key, result["metrics"][key])
        for v in variants:
            cells += _td(key, result["variants"][v]["metrics"][key]) \
                + _td(key, result["comparison"][v]["difference"][key], True)
        rows.append(f'<tr data-metric="{escape(key)}"><th>{escape(label(key, horizon, rates))}</th>{cells}</tr>')
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr><th>metric</th><th class="num">base</th>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def to_html(result: dict, charts: list[Path]) -> str:
    """The page for `result` (as `ScenarioResult.as_dict()` made it), with `charts` (PNG files) embedded."""
    horizon, rates = result["horizon_days"], result.get("completion_tax_rates", "")
    per = per_horizon(horizon)
    metrics = result["metrics"]
    planner = [k for k in metrics if not (k in METRICS and METRICS[k].model_check)]
    checks = [k for k in metrics if k in METRICS and METRICS[k].model_check]
    body = [f"<h1>medcom simulate: {escape(result['scenario'])}</h1>",
            f"<p>{escape(result.get('description', ''))}</p>" if result.get("description") else "",
            f"<p class=\"muted\">{result['replications']} replications, seed {result['seed']}, "
            f"{horizon} days counted from {escape(result.get('horizon_start', ''))} ({per}). Mean and 95 % "
            f"confidence interval over replications ({CLIPPED_NOTE}); variants against the base as paired "
            f"differences (common random numbers: the same patients in both). DKK at the policy's {escape(rates)}."
            f"</p>"]
    variants = result.get("variants") or {}
    if variants:
        items = "".join(f'<dt>{escape(name)}</dt><dd data-variant="{escape(name)}">'
                        f'{escape(v.get("description") or "(no description in the scenario)")}</dd>'
                        for name, v in variants.items())
        body.append(f'<h2>Variants</h2><dl class="variants" id="variant-descriptions">{items}</dl>')
    body.append(_table(result, planner, "metrics"))
    if result.get("bill"):
        body.append(bill_html(result["bill"], per))
    by_rule = result.get("violations_by_rule") or {}
    if by_rule:
        body.append(f"<h2>Violations by rule (base, {per})</h2><table class=\"narrow\"><tbody>" + "".join(
            f'<tr><th>{escape(rule)}</th><td class="num">{escape(estimate(stat, "count"))}</td></tr>'
            for rule, stat in by_rule.items()) + "</tbody></table>")
    by_municipality = result.get("completion_tax_dkk_by_municipality") or {}
    if by_municipality:
        body.append(f"<h2>Completion tax by municipality, DKK ({escape(rates)}) {per} (base)</h2>"
                    f"<table class=\"narrow\" id=\"by-municipality\"><tbody>" + "".join(
                        f'<tr data-code="{escape(code)}"><th>{escape(municipality_label(code))}</th>'
                        f'<td class="num">{escape(estimate(stat, "dkk"))}</td></tr>'
                        for code, stat in by_municipality.items()) + "</tbody></table>")
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        body.append(f'<h2>{escape(chart.stem.replace("-", " "))}</h2>'
                    f'<img alt="{escape(chart.stem)}" src="data:image/png;base64,{data}">')
    if checks:
        body.append(f'<h2 id="model-checks">Model checks</h2><p class="muted">{escape(MODEL_CHECKS_NOTE)}</p>'
                    + _table(result, checks, "model-check-table"))
    return page(f"medcom simulate {result['scenario']}", "\n".join(b for b in body if b), extra_css=EXTRA_CSS)
