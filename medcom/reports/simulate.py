"""The simulation result for people (a table) and for scripts (CONTRACT.md JSON).

Every figure says what it is per (the year, or the horizon when it is not one), every DKK figure the year of
the rate table or prices it is in, shares print as percentages, and the model's own checks (Little's law)
stand apart from the planners' figures.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

from medcom.identifiers import municipality_name
from medcom.reports.bill import bill_text
from medcom.reports.formatting import estimate, per_horizon
from medcom.reports.glossary import glossary
from medcom.reports.glossary import text_lines as glossary_lines
from medcom.reports.headline import headlines, uncertainty
from medcom.reports.schemas import SIMULATE


@dataclass(frozen=True)
class Metric:
    label: str
    kind: str  # count, share, dkk, number (formatting.estimate's kinds)
    per_horizon: bool  # a total over the counted days (printed "per year" or "per N days")
    model_check: bool = False


METRICS = {
    "completion_tax_days": Metric("completion-tax days", "count", True),
    "completion_tax_dkk": Metric("completion tax", "dkk", True),
    "episodes": Metric("episodes (admitted in horizon)", "count", True),
    "discharges": Metric("discharges", "count", True),
    "care_plans_late": Metric("care plans late (CP-1)", "count", True),
    "phone_calls": Metric("phone calls", "count", True),
    "acks_same_day_share": Metric("same-day acknowledgements", "share", False),
    "bed_days_ready_waiting": Metric("bed-days ready but waiting", "count", True),
    "bed_days": Metric("bed-days", "count", True),
    "disputable_days": Metric("disputable tax days", "count", True),
    "municipal_messages": Metric("messages to municipalities", "count", True),
    "occupancy_mean": Metric("patients in hospital, time average (L)", "number", False, True),
    "arrival_rate_x_mean_stay": Metric("arrival rate × mean stay (λW)", "number", False, True),
}
MODEL_CHECKS_NOTE = ("Little's law: the time-average number of patients in hospital (L) equals the arrival rate "
                     "times the mean stay (λW) in a steady state; L's interval should hold λW's mean. A check of "
                     "the model, not a planner's figure.")
CLIPPED_NOTE = "intervals of counts are clipped at 0 and of shares at 0 and 100 %"


def label(key: str, horizon_days: int, rates: str | None = None) -> str:
    """A metric's name with its unit: 'completion tax, DKK (2016 rates) per year'."""
    metric = METRICS.get(key)
    if metric is None:
        return key
    text = metric.label + (f", DKK ({rates})" if metric.kind == "dkk" and rates else ", DKK" if metric.kind == "dkk"
                           else "")
    return f"{text} {per_horizon(horizon_days)}" if metric.per_horizon else text


def cell(key: str, stat: dict, difference: bool = False) -> str:
    metric = METRICS.get(key)
    return estimate(stat, metric.kind if metric else "number", difference)


def municipality_label(code: str) -> str:
    name = municipality_name(code)
    return f"{code} {name}" if name else code


CHART_HEADINGS = {"discharges-by-hour": "Discharges by hour of day",
                  "tax-days-per-week": "Completion-tax days per week",
                  "variant-comparison": "Each variant against the base", "sweep-bill": "Both sides of the bill",
                  "sensitivity": "Which assumptions move the answer"}


def chart_heading(stem: str) -> str:
    """A chart's heading from its file name: a metric's label for a sweep's chart of it."""
    if stem in CHART_HEADINGS:
        return CHART_HEADINGS[stem]
    key = stem.removeprefix("sweep-").replace("-", "_")
    return METRICS[key].label[:1].upper() + METRICS[key].label[1:] if key in METRICS else stem.replace("-", " ")


def with_reading_aids(result: dict) -> dict:
    """`result` with what a reader needs first and last: the headline per variant, what the intervals cover,
    and the glossary (added once; every format prints these same fields)."""
    if "headlines" not in result:
        result = {**result, "headlines": headlines(result), "uncertainty": uncertainty(result),
                  "glossary": glossary(result)}
    return result


def to_json(result: dict[str, object]) -> str:
    return json.dumps({"$schema": SIMULATE, **with_reading_aids(result)}, indent=2, ensure_ascii=False)


def _rows(keys: list[str], columns: list[tuple[dict, bool]], horizon: int, rates: str, width: int) -> list[str]:
    return [f"{label(key, horizon, rates):{width}}" + "".join(
        f"  {cell(key, col[key], diff):>40}" for col, diff in columns) for key in keys]


def to_text(result: dict) -> str:
    result = with_reading_aids(result)
    horizon, rates = result["horizon_days"], result.get("completion_tax_rates", "")
    metrics: dict[str, dict] = result["metrics"]
    planner = [k for k in metrics if not (k in METRICS and METRICS[k].model_check)]
    checks = [k for k in metrics if k in METRICS and METRICS[k].model_check]
    width = max(len(label(k, horizon, rates)) for k in metrics)
    lines = [f"scenario {result['scenario']}" + (f": {result['description']}" if result.get("description") else ""),
             "", *(line for h in result["headlines"] for line in textwrap.wrap(h["sentence"], 116,
                                                                                initial_indent="* ",
                                                                                subsequent_indent="  ")),
             *textwrap.wrap(result["uncertainty"], 116), "",
             f"{result['replications']} replications, seed {result['seed']}, {horizon} days counted "
             f"({per_horizon(horizon)}); mean [95 % CI] over replications; {CLIPPED_NOTE}", "",
             f"{'':{width}}  {'base':>40}"]
    lines += _rows(planner, [(metrics, False)], horizon, rates, width)
    violations: dict[str, dict] = result.get("violations_by_rule") or {}
    if violations:
        lines += ["", f"violations by rule, base, {per_horizon(horizon)}: " + ", ".join(
            f"{rule} {estimate(stat, 'count')}" for rule, stat in violations.items())]
    by_municipality: dict[str, dict] = result.get("completion_tax_dkk_by_municipality") or {}
    if by_municipality:
        lines += ["", f"completion tax by municipality, base, DKK ({rates}) {per_horizon(horizon)}:"]
        lines += [f"  {municipality_label(code):<32} {estimate(stat, 'dkk')}" for code, stat in by_municipality.items()]
    for name, block in (result.get("comparison") or {}).items():
        variant = result["variants"][name]
        about = f": {variant['description']}" if variant.get("description") else ""
        lines += ["", f"variant {name}{about}", "  (paired difference against base: the same patients in both, "
                  "common random numbers)", f"{'':{width}}  {'variant':>40}  {'variant − base':>40}"]
        lines += [f"{label(key, horizon, variant.get('completion_tax_rates', rates)):{width}}"
                  f"  {cell(key, variant['metrics'][key]):>40}  {cell(key, block['difference'][key], True):>40}"
                  for key in planner]
    if checks:
        lines += ["", "model checks (base)", *textwrap.wrap(MODEL_CHECKS_NOTE, 116, initial_indent="  ",
                                                             subsequent_indent="  ")]
        lines += _rows(checks, [(metrics, False)], horizon, rates, width)
    if result.get("bill"):
        lines += ["", *bill_text(result["bill"], per_horizon(horizon))]
    if result.get("sensitivity"):
        from medcom.reports.sensitivity import text_lines as sensitivity_lines

        lines += ["", *sensitivity_lines(result["sensitivity"])]
    lines += ["", *glossary_lines(result)]
    return "\n".join(lines)
