"""The simulation result as one self-contained HTML page: the variants side by side with CIs, and the charts."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from medcom.reports.html_page import num, page
from medcom.reports.simulate import LABELS


def _cell(stat: dict) -> str:
    lo, hi = stat["ci95"]
    return (f'<td class="num" data-mean="{stat["mean"]!r}"><b>{num(stat["mean"])}</b><br>'
            f'<span class="muted">[{num(lo)}; {num(hi)}]</span></td>')


def to_html(result: dict, charts: list[Path]) -> str:
    """The page for `result` (as `ScenarioResult.as_dict()` made it), with `charts` (PNG files) embedded."""
    variants = list(result.get("variants") or {})
    head = "".join(f"<th class=\"num\">{escape(v)}</th><th class=\"num\">{escape(v)} − base</th>" for v in variants)
    rows = []
    for key, stat in result["metrics"].items():
        cells = _cell(stat)
        for v in variants:
            cells += _cell(result["variants"][v]["metrics"][key]) + _cell(result["comparison"][v]["difference"][key])
        rows.append(f'<tr data-metric="{escape(key)}"><th>{escape(LABELS.get(key, key))}</th>{cells}</tr>')
    body = [f"<h1>medcom simulate: {escape(result['scenario'])}</h1>",
            f"<p class=\"muted\">{result['replications']} replications, seed {result['seed']}, "
            f"{result['horizon_days']} days counted. Mean and 95 % confidence interval over replications; "
            f"variants against the base as paired differences (common random numbers).</p>",
            f'<table id="metrics"><thead><tr><th>metric</th><th class="num">base</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>']
    by_rule = result.get("violations_by_rule") or {}
    if by_rule:
        body.append("<h2>Violations by rule (base, per replication)</h2><table class=\"narrow\"><tbody>" + "".join(
            f"<tr><th>{escape(rule)}</th>{_cell(stat)}</tr>" for rule, stat in by_rule.items()) + "</tbody></table>")
    by_municipality = result.get("completion_tax_dkk_by_municipality") or {}
    if by_municipality:
        body.append("<h2>Completion tax by municipality, DKK (base)</h2><table class=\"narrow\"><tbody>" + "".join(
            f"<tr><th>{escape(code)}</th>{_cell(stat)}</tr>" for code, stat in by_municipality.items())
            + "</tbody></table>")
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        body.append(f'<h2>{escape(chart.stem.replace("-", " "))}</h2>'
                    f'<img alt="{escape(chart.stem)}" src="data:image/png;base64,{data}">')
    return page(f"medcom simulate {result['scenario']}", "\n".join(body))
