"""Scenario files for tests: a shipped scenario with some keys changed, edited as TOML (tomlkit, so that every
comment and SOURCE / ASSUMPTION mark stays) and read back by medcom's own scenario reader, instead of regular
expressions over the text (which changed whichever table's key came first and let a typo pass unnoticed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomlkit

from helpers import SCENARIOS
from simulator.scenario import load_scenario

SHIPPED = {"nordjylland": SCENARIOS / "nordjylland-2024.toml", "twelve": SCENARIOS / "discharge-window-12-vs-14.toml"}
# A short run: a week after a week's warm-up, two replications (enough for a confidence interval).
WEEK = {"run.warmup_days": 7, "run.horizon_days": 7, "run.cooldown_days": 0, "run.replications": 2}


def scenario_file(out: Path, base: Path, changes: Mapping[str, Any] = {}, *, variants: Mapping[str, Any] | None = None,
                  more_variants: Mapping[str, Any] = {}, drop: Iterable[str] = (), check: bool = True) -> Path:
    """`base` written to `out` with each dotted key of `changes` set ('run.horizon_days': 7, 'municipality.
    discharge_window_end': time(12)), the dotted keys of `drop` deleted, and its [variants] replaced by `variants`
    when given ({} keeps the base alone; a variant is a table, e.g. {'municipality': {...}}), then `more_variants`
    added to them. A key that is not in
    the base is an error here, as a typo must not silently test the base. The file is then loaded as medcom
    loads a scenario (`check=False` for a test of what the loader refuses)."""
    doc = tomlkit.parse(base.read_text(encoding="utf-8"))
    for key, value in changes.items():
        table, name = _table(doc, key)
        if name not in table:
            raise KeyError(f"{base.name}: no key {key}")
        table[name] = value
    for key in drop:
        table, name = _table(doc, key)
        del table[name]
    if variants is not None:
        doc.pop("variants", None)
    for name, tables in {**(variants or {}), **more_variants}.items():
        if "variants" not in doc:
            doc["variants"] = tomlkit.table(is_super_table=True)
        doc["variants"][name] = tables
    out.write_text(tomlkit.dumps(doc), encoding="utf-8")
    if check:
        load_scenario(out)
    return out


def _table(doc: Any, key: str) -> tuple[Any, str]:
    *tables, name = key.split(".")
    table = doc
    for part in tables:
        table = table[part]
    return table, name
