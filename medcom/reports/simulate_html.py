"""The simulation result as one self-contained HTML page: the answer first, then each variant against the base.

The headline (one sentence per variant with its CI, and what the CI covers) comes first, above the fold of a
small window. Each variant then has a table of its own (metric, base, variant, difference): four columns fit
any window from 800 px, however many variants there are, and the intervals wrap at their separator instead
of being cut. Municipalities are named; the bill (when the scenario has `[costs]`), the sensitivity analysis
(when run), the charts, the model's own checks and the glossary have sections of their own.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from medcom.reports.bill import bill_html
from medcom.reports.formatting import estimate
from medcom.reports.html_page import image, page
from medcom.reports.simulate import (
    CLIPPED_NOTE,
    METRICS,
    MODEL_CHECKS_NOTE,
    cell,
    chart_heading,
    label,
    municipality_label,
    per_horizon,
    with_reading_aids,
)

EXTRA_CSS = """
table.compare { table-layout: fixed; width: 100%; }
table.compare col.metric { width: 34%; }
table.compare caption { text-align: left; font-weight: 600; padding: 6px 0; }
#headline { border-left: 4px solid var(--hospital); background: #f2f7fc; padding: 8px 14px; margin: 12px 0; }
#headline li { font-size: 15px; margin: 4px 0; } #headline ul { padding-left: 18px; margin: 4px 0; }
dl.variants dt, dl.glossary dt { font-weight: 600; } dl.variants dd, dl.glossary dd { margin: 0 0 6px 16px; }
"""


def _td(key: str, stat: dict, difference: bool = False) -> str:
    text = cell(key, stat, difference)
    mean, rest = text.split(" [", 1)
    low, high = rest.rstrip("]").split("; ", 1)
    return (f'<td class="num" data-mean="{stat["mean"]!r}"><b>{escape(mean)}</b><br>'
            f'<span class="muted">[{escape(low)};</span> <span class="muted">{escape(high)}]</span></td>')


def _table(result: dict, keys: list[str], variant: str | None, table_id: str | None = None) -> str:
    """Metric, base and (with `variant`) the variant and its paired difference: four columns at most."""
    horizon = result["horizon_days"]
    rates = result.get("completion_tax_rates", "")
    head = (f'<th class="num">{escape(variant)}</th><th class="num">{escape(variant)} − base</th>'
            if variant else "")
    rows = []
    for key in keys:
        cells = _td(key, result["metrics"][key])
        if variant:
            cells += _td(key, result["variants"][variant]["metrics"][key]) \
                + _td(key, result["comparison"][variant]["difference"][key], True)
        rows.append(f'<tr data-metric="{escape(key)}"><th>{escape(label(key, horizon, rates))}</th>{cells}</tr>')
    about = (result["variants"][variant].get("description") or "") if variant else ""
    caption = f"<caption>{escape(variant)}{': ' + escape(about) if about else ''}</caption>" if variant else ""
    ident = f' id="{table_id}"' if table_id else ""
    data = f' data-variant="{escape(variant)}"' if variant else ""
    return (f'<table class="compare"{ident}{data}>{caption}<colgroup><col class="metric"></colgroup><thead><tr>'
            f'<th>metric</th><th class="num">base</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _tables(result: dict, keys: list[str], box_id: str) -> str:
    """One table per variant (or the base's alone), in a box with `box_id`."""
    variants = list(result.get("variants") or {}) or [None]
    return f'<div id="{box_id}">' + "".join(_table(result, keys, v) for v in variants) + "</div>"


def headline_html(result: dict) -> str:
    """The answer first: each variant's sentence and what the intervals cover."""
    items = "".join(f'<li data-variant="{escape(h["variant"])}">{escape(h["sentence"])}</li>'
                    for h in result["headlines"])
    return (f'<section id="headline"><ul>{items}</ul><p class="how-sure">{escape(result["uncertainty"])}</p>'
            f"</section>")


def glossary_html(result: dict) -> str:
    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in result["glossary"].items())
    return f'<h2 id="terms">Terms</h2><dl class="glossary" id="glossary">{items}</dl>'


def to_html(result: dict, charts: list[Path]) -> str:
    """The page for `result` (as `ScenarioResult.as_dict()` made it), with `charts` (PNG files) embedded."""
    result = with_reading_aids(result)
    horizon, rates = result["horizon_days"], result.get("completion_tax_rates", "")
    per = per_horizon(horizon)
    metrics = result["metrics"]
    planner = [k for k in metrics if not (k in METRICS and METRICS[k].model_check)]
    checks = [k for k in metrics if k in METRICS and METRICS[k].model_check]
    body = [f"<h1>medcom simulate: {escape(result['scenario'])}</h1>",
            f"<p>{escape(result.get('description', ''))}</p>" if result.get("description") else "",
            headline_html(result),
            f"<p class=\"muted\">{result['replications']} replications, seed {result['seed']}, "
            f"{horizon} days counted from {escape(result.get('horizon_start', ''))} ({per}). Mean and 95 % "
            f"confidence interval over replications ({CLIPPED_NOTE}); variants against the base as paired "
            f"differences (common random numbers: the same patients in both). DKK at the policy's {escape(rates)}."
            f"</p>"]
    body.append(_tables(result, planner, "metrics"))
    if result.get("bill"):
        body.append(bill_html(result["bill"], per))
    if result.get("sensitivity"):
        from medcom.reports.sensitivity import html_section

        body.append(html_section(result["sensitivity"], [c for c in charts if c.stem == "sensitivity"]))
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
        if chart.stem == "sensitivity":
            continue
        body.append(f"<h2>{escape(chart_heading(chart.stem))}</h2>{image(chart)}")
    if checks:
        body.append(f'<h2 id="model-checks">Model checks</h2><p class="muted">{escape(MODEL_CHECKS_NOTE)}</p>'
                    + _tables(result, checks, "model-check-table"))
    body.append(glossary_html(result))
    return page(f"medcom simulate {result['scenario']}", "\n".join(b for b in body if b), extra_css=EXTRA_CSS)
