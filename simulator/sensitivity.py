"""How much the headline rests on the scenario's guesses (`medcom simulate SCENARIO --sensitivity`).

Each chosen key (by default every number marked ASSUMPTION or unmarked in the behaviour tables; simulator/marks.py
reads the marks) is set to a low and a high value, its nominal value times (1 - f) and (1 + f) (f = 25 % by
default; a share is held at most 1, a value to the range a scenario allows), while every other key stays. The
base and every variant are simulated again at each level with the same patients as the nominal run (common
random numbers: replication r draws the same patients), so a key that does not touch the headline moves it by
exactly 0. The headline is what the reports put first: per variant the completion tax's paired difference
(variant - base, DKK); without variants the base's completion tax. All levels of all keys run as one scenario
on the executor the main run uses, so `--workers` and dask spread them like any other run.

Keys that are not one number (weights, clock times, yes/no) are listed as not varied, with why; a range
[a, b] of minutes is moved as a whole (both ends times 1 - f, then 1 + f).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from simulator.costs import tax_rates_label
from simulator.marks import TABLES, UNMARKED
from simulator.run import BASE, BOUNDS, ScenarioResult
from simulator.scenario import LIMITS, Scenario, ScenarioError, scenario_from_raw
from simulator.statistics import paired, summary

FRACTION = 0.25
VARIED_MARKS = ("ASSUMPTION", UNMARKED)
FIGURE = "completion_tax_dkk"
# What a message log cannot show (simulator/calibrate.py copies them from the base): local figures settle them.
NOT_IN_A_LOG = {"admissions.process", "municipality.reception_capacity_per_day"}


class SensitivityError(ValueError):
    """A key that cannot be varied as asked (the message names it)."""


@dataclass(frozen=True)
class Level:
    key: str  # dotted
    mark: str
    nominal: Any
    low: Any
    high: Any


def _moved(key: str, value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [round(v * factor) for v in value]
    moved = value * factor
    if key.endswith("_share"):
        moved = min(moved, 1.0)
    if key in LIMITS:
        low, high = LIMITS[key]
        moved = min(max(moved, low), high)
    return moved


def _why_not(value: Any) -> str | None:
    """Why a value is not varied by a percentage (None: it is)."""
    if isinstance(value, bool):
        return "yes/no, not a number"
    if isinstance(value, int | float):
        return "0: a percentage of it is still 0" if value == 0 else None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value) and \
            not isinstance(value[0], bool):
        return None if any(value) else "0: a percentage of it is still 0"
    if isinstance(value, list):
        return "a list of relative weights or names, not one number"
    return "a clock time or a text, not a number"


def choose(raw: dict[str, Any], marks: dict[str, str], keys: list[str] | None = None,
           fraction: float = FRACTION) -> tuple[list[Level], dict[str, str]]:
    """The keys to vary (those asked for, else every number marked ASSUMPTION or unmarked) with their low and
    high values, and the candidates left out with why."""
    if not 0 < fraction < 1:
        raise SensitivityError(f"--sensitivity-range: a fraction between 0 and 1 (0.1 is ±10 %), got {fraction}")
    if keys:
        for key in keys:
            table, _, name = key.partition(".")
            if table not in TABLES or name not in raw.get(table, {}):
                raise SensitivityError(f"--sensitivity-keys {key}: not a key of the scenario's "
                                       f"{', '.join(TABLES)} tables")
        candidates = list(dict.fromkeys(keys))
    else:
        candidates = [k for k, m in marks.items() if m in VARIED_MARKS]
    chosen, skipped = [], {}
    for key in candidates:
        table, name = key.split(".")
        value = raw[table][name]
        if (why := _why_not(value)) is not None:
            skipped[key] = why
            continue
        low, high = _moved(key, value, 1 - fraction), _moved(key, value, 1 + fraction)
        if low == high:
            skipped[key] = "its range allows no other value"
            continue
        chosen.append(Level(key, marks.get(key, UNMARKED), value, low, high))
    return chosen, skipped


def _with(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    table, name = key.split(".")
    out[table][name] = value
    return out


def run_name(key: str, level: str, variant: str = BASE) -> str:
    return f"{key}@{level}" + ("" if variant == BASE else f"|{variant}")


def scenario(raw: dict[str, Any], nominal: Scenario, levels: list[Level]) -> tuple[Scenario, dict[str, str]]:
    """One scenario holding the nominal base and variants and, for every level of every key, the base and the
    variants again with that key moved; and keys whose moved value the scenario refuses, with why."""
    variants = dict(nominal.variants)
    refused: dict[str, str] = {}
    for level in levels:
        moved = {}
        try:
            for name, value in (("low", level.low), ("high", level.high)):
                moved[name] = scenario_from_raw(_with(raw, level.key, value), nominal.source)
        except ScenarioError as exc:
            refused[level.key] = str(exc).replace(f"{nominal.source}: ", "")
            continue
        for name, s in moved.items():
            variants[run_name(level.key, name)] = s.base
            for v, settings in s.variants.items():
                variants[run_name(level.key, name, v)] = settings
    return replace(nominal, variants=variants), refused


def _figure(result: ScenarioResult, base: str, variant: str | None) -> dict[str, object]:
    """The headline in one level's runs: the variant's paired difference against its base, or (no variant) the
    base's own figure."""
    values = [m.values[FIGURE] for m in result.runs[base]]
    if variant is None:
        return summary(values, *BOUNDS.get(FIGURE, (0.0, None)))  # as the result's own metrics are clipped
    return paired(values, [m.values[FIGURE] for m in result.runs[variant]])


def analyse(result: ScenarioResult, nominal: Scenario, levels: list[Level], skipped: dict[str, str],
            fraction: float) -> dict[str, Any]:
    """Per headline (variant, or the base without variants) every key's effect at its low and high value,
    ranked by the larger of the two moves; the JSON the reports print."""
    headlines = list(nominal.variants) or [BASE]
    prices = tax_rates_label(nominal.base.policy, nominal.run)
    out: dict[str, Any] = {
        "figure": FIGURE, "fraction": fraction, "replications": len(result.runs[BASE]), "prices": prices,
        "what": (f"variant − base, completion tax, DKK ({prices}), paired" if nominal.variants
                 else f"completion tax, DKK ({prices})"),
        "headlines": {}, "not_varied": skipped,
    }
    for variant in headlines:
        alone = variant == BASE
        middle = _figure(result, BASE, None if alone else variant)
        rows = []
        for level in levels:
            low, high = (_figure(result, run_name(level.key, side),
                                 None if alone else run_name(level.key, side, variant)) for side in ("low", "high"))
            change = [float(low["mean"]) - float(middle["mean"]), float(high["mean"]) - float(middle["mean"])]
            rows.append({"key": level.key, "mark": level.mark, "nominal": level.nominal, "low": level.low,
                         "high": level.high, "at_low": low, "at_high": high, "change": change,
                         "swing": max(abs(c) for c in change),
                         "settled_by": "local figures (a message log does not show it)" if level.key in NOT_IN_A_LOG
                         else "medcom calibrate fits it from a message log"})
        rows.sort(key=lambda r: (-r["swing"], r["key"]))
        out["headlines"][variant] = {"nominal": middle, "keys": rows}
    return out


@dataclass
class Plan:
    """What a sensitivity run will do: checked before any simulation, so a bad key is a usage error."""

    raw: dict[str, Any]
    levels: list[Level]
    skipped: dict[str, str]
    fraction: float


def plan(raw: dict[str, Any], nominal: Scenario, keys: list[str] | None, fraction: float = FRACTION) -> Plan:
    levels, skipped = choose(raw, nominal.marks, keys, fraction)
    return Plan(raw, levels, skipped, fraction)


def run(p: Plan, nominal: Scenario, **executor: Any) -> dict[str, Any]:
    """Simulate every level of every key (one scenario on `executor`: run_scenario's keyword arguments) and
    analyse; `nominal` is the scenario as run (its replications and seed)."""
    from simulator.run import run_scenario

    combined, refused = scenario(p.raw, nominal, p.levels)
    levels = [level for level in p.levels if level.key not in refused]
    result = run_scenario(combined, **executor)
    return analyse(result, nominal, levels, {**p.skipped, **refused}, p.fraction)
