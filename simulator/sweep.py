"""A grid of variants of a scenario (`medcom sweep`): every combination of the values given per key, run with
common random numbers against the scenario's base.

Each `--vary KEY=V1,V2,...` names a key as a scenario file spells it (`municipality.discharge_window_end`,
`policy.care_plan.cutoff`) and values as TOML writes them (`14:00:00`, `25.5`, `true`, `[1, 10]`; a clock
time may also be written `14:00`). The grid's points become the scenario's variants (its own variants are
left out) and are checked as a file's variants are, one value at a time first, so that a bad key or value is
named as the user wrote it. Replication r of every point draws the same patients as replication r of the
base, so a point that changes nothing differs from the base by exactly zero, and the paired differences are
as narrow as common random numbers make them.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, fields
from datetime import time
from typing import Any

from medcom.policy import PolicyError, TomlSyntaxError, load_policy, parse_toml
from simulator.run import METRICS, ScenarioResult
from simulator.scenario import MAX_VARIANTS, SETTINGS_TABLES, Scenario, ScenarioError, scenario_from_raw

_CHECK = "checking"  # the name of the one-value variant each value is checked in


class SweepError(ValueError):
    """A grid that cannot be run; the message names the --vary option and the key or value."""


@dataclass(frozen=True)
class Axis:
    key: str  # dotted, as in a scenario file
    texts: tuple[str, ...]  # the values as written
    values: tuple[Any, ...]  # as TOML reads them


def _split(values: str) -> list[str]:
    """Comma-separated values, commas inside brackets or quotes kept: '[1, 2],[3, 4]' -> two."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(values):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(values[start:i].strip())
            start = i + 1
    out.append(values[start:].strip())
    return out


def _value(text: str) -> Any:
    """A value as a scenario file would hold it: TOML, or else the text itself (a name, a clock time '14:00')."""
    try:
        return parse_toml(f"value = {text}", "value")["value"]
    except TomlSyntaxError:
        return text


def parse_vary(spec: str) -> Axis:
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SweepError(f"--vary {spec!r}: expected KEY=VALUE,VALUE,... (e.g. "
                         f"municipality.preparation_hours=2,4,8)")
    texts = _split(values)
    if any(not t for t in texts):
        raise SweepError(f"--vary {spec!r}: an empty value")
    if len(set(texts)) != len(texts):
        raise SweepError(f"--vary {key}: a value is given twice")
    try:
        return Axis(key, tuple(texts), tuple(_value(t) for t in texts))
    except PolicyError as exc:  # nested too deep, or a number of more digits than Python converts
        raise SweepError(f"--vary {key}: {str(exc).removeprefix('value: ')}") from None


def _nested(key: str, value: Any) -> dict[str, Any]:
    parts = key.split(".")
    table: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        table = {part: table}
    return table


def _merge(into: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for k, v in over.items():
        into[k] = _merge(dict(into.get(k, {})), v) if isinstance(v, dict) else v
    return into


def _check_key(key: str) -> None:
    parts = key.split(".")
    table = parts[0]
    if table in ("run", "costs", "variants"):
        raise SweepError(f"--vary {key}: a sweep varies the scenario's behaviour and policy; {table} keys cannot "
                         f"vary within one (use --replications and --seed for the run)")
    if table == "policy":
        if len(parts) < 3:
            raise SweepError(f"--vary {key}: a policy key names its table and key, e.g. policy.care_plan.cutoff")
        return
    if table not in SETTINGS_TABLES:
        raise SweepError(f"--vary {key}: unknown table {table!r}; expected one of "
                         f"{', '.join([*SETTINGS_TABLES, 'policy'])}")
    names = {f.name for f in fields(SETTINGS_TABLES[table])}
    if len(parts) != 2 or parts[1] not in names:
        raise SweepError(f"--vary {key}: unknown key")


def base_value(raw: dict[str, Any], key: str) -> str:
    """The base scenario's value of `key`, as the reports print grid values."""
    parts = key.split(".")
    node: Any = raw
    if parts[0] == "policy":
        node = _merge(copy.deepcopy(load_policy().raw), raw.get("policy", {}))
        parts = parts[1:]
    for part in parts:
        node = node[part]
    return show(node)


def show(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M") if not value.second else value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Grid:
    scenario: Scenario  # the base with one variant per point
    axes: list[Axis]
    points: dict[str, tuple[str, ...]]  # variant name -> the value (text) of each axis
    base_values: tuple[str, ...]


def grid(raw: dict[str, Any], source: str, specs: list[str]) -> Grid:
    """The scenario (its parsed TOML `raw`) with the grid's points as its variants, every value checked."""
    axes = [parse_vary(s) for s in specs]
    keys = [a.key for a in axes]
    for key in keys:
        _check_key(key)
    if len(set(keys)) != len(keys):
        raise SweepError("--vary: a key is given twice")
    size = 1
    for a in axes:
        size *= len(a.values)
    if size > MAX_VARIANTS:
        raise SweepError(f"--vary: the grid has {size} points; at most {MAX_VARIANTS}")
    plain = {k: v for k, v in raw.items() if k != "variants"}
    for a in axes:
        for text, value in zip(a.texts, a.values, strict=True):
            try:
                scenario_from_raw({**plain, "variants": {_CHECK: _nested(a.key, value)}}, source)
            except (ScenarioError, PolicyError) as exc:
                why = str(exc).replace(f"{source}: ", "").replace(f"variants.{_CHECK}.", "")
                why = why.replace(f" (in {source})", "")
                raise SweepError(f"--vary {a.key}={text}: {why}") from None
    short = {a.key: a.key.rsplit(".", 1)[-1] for a in axes}
    if len(set(short.values())) < len(short):
        short = {a.key: a.key for a in axes}
    variants, points = {}, {}
    for combo in itertools.product(*(range(len(a.values)) for a in axes)):
        over: dict[str, Any] = {}
        texts = tuple(a.texts[i] for a, i in zip(axes, combo, strict=True))
        for a, i in zip(axes, combo, strict=True):
            _merge(over, _nested(a.key, a.values[i]))
        name = ", ".join(f"{short[a.key]}={t}" for a, t in zip(axes, texts, strict=True))
        over["description"] = "; ".join(f"{a.key} = {t}" for a, t in zip(axes, texts, strict=True))
        variants[name] = over
        points[name] = texts
    try:
        scenario = scenario_from_raw({**plain, "variants": variants}, source)
    except (ScenarioError, PolicyError) as exc:  # a combination of good values that does not hold together
        raise SweepError(f"--vary: {str(exc).replace(f'{source}: ', '')}") from None
    return Grid(scenario, axes, points, tuple(base_value(plain, a.key) for a in axes))


def result_dict(g: Grid, result: ScenarioResult, bill: dict[str, Any] | None) -> dict[str, Any]:
    """The sweep for reports and scripts: per point its values, metrics, paired differences (and bill)."""
    data = result.as_dict()
    out: dict[str, Any] = {
        "scenario": data["scenario"], "description": data.get("description", ""), "source": g.scenario.source,
        "replications": data["replications"], "seed": data["seed"], "horizon_days": data["horizon_days"],
        "completion_tax_rates": data.get("completion_tax_rates"), "metrics_order": list(METRICS),
        **{k: data[k] for k in ("warmup_days", "cooldown_days", "episodes_simulated", "key_marks") if k in data},
        "axes": [{"key": a.key, "values": list(a.texts)} for a in g.axes],
        "base": {"values": dict(zip([a.key for a in g.axes], g.base_values, strict=True)),
                 "metrics": data["metrics"]},
        "points": [],
    }
    for name, texts in g.points.items():
        point = {"name": name, "values": dict(zip([a.key for a in g.axes], texts, strict=True)),
                 "metrics": data["variants"][name]["metrics"], "difference": data["comparison"][name]["difference"]}
        if bill is not None:
            point["bill"] = bill["variants"][name]
        out["points"].append(point)
    if bill is not None:
        out["bill"] = {"prices": bill["prices"], "figures": bill["figures"]}
    return out

