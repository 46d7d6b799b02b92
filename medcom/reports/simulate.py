"""The simulation result for people (a table) and for scripts (CONTRACT.md JSON)."""

from __future__ import annotations

import json

LABELS = {
    "completion_tax_days": "completion-tax days", "completion_tax_dkk": "completion tax, DKK",
    "episodes": "episodes (admitted in horizon)", "discharges": "discharges",
    "care_plans_late": "care plans late (CP-1)", "phone_calls": "phone calls",
    "acks_same_day_share": "same-day acknowledgements", "bed_days_ready_waiting": "bed-days ready but waiting",
    "bed_days": "bed-days", "disputable_days": "disputable days", "municipal_messages": "messages to municipalities",
    "occupancy_mean": "patients in hospital (L)", "arrival_rate_x_mean_stay": "arrival rate x mean stay (λW)",
}


def to_json(result: dict[str, object]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)


def _num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.3f}" if abs(x) <= 1 else f"{x:.1f}"


def _cell(stat: dict[str, object]) -> str:
    lo, hi = stat["ci95"]  # type: ignore[misc]
    return f"{_num(stat['mean'])} [{_num(lo)}; {_num(hi)}]"  # type: ignore[arg-type]


def to_text(result: dict[str, object]) -> str:
    metrics: dict[str, dict] = result["metrics"]  # type: ignore[assignment]
    lines = [f"scenario {result['scenario']}: {result['replications']} replications, seed {result['seed']}, "
             f"{result['horizon_days']} days counted; mean [95 % CI]", ""]
    width = max(len(v) for v in LABELS.values())
    lines.append(f"{'':{width}}  {'base':>34}")
    for key, stat in metrics.items():
        lines.append(f"{LABELS.get(key, key):{width}}  {_cell(stat):>34}")
    violations: dict[str, dict] = result["violations_by_rule"]  # type: ignore[assignment]
    if violations:
        lines += ["", "violations by rule (per replication): " + ", ".join(
            f"{rule} {_num(stat['mean'])}" for rule, stat in violations.items())]
    for name, block in (result.get("comparison") or {}).items():  # type: ignore[union-attr]
        variant = result["variants"][name]["metrics"]  # type: ignore[index]
        lines += ["", f"variant {name} (paired difference against base, common random numbers)",
                  f"{'':{width}}  {'variant':>34}  {'difference':>34}"]
        for key, diff in block["difference"].items():
            lines.append(f"{LABELS.get(key, key):{width}}  {_cell(variant[key]):>34}  {_cell(diff):>34}")
    return "\n".join(lines)
