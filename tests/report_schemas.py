"""Every JSON report the test suite reads is checked against the schema it names (tests/conftest.py wraps
json.loads with `checked_loads`), and every rule id it prints must be in the rule catalogue."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator

from medcom.catalogue import BY_ID
from medcom.reports.schemas import schema_of

_RULE_TABLES = ("violations_by_rule", "findings_by_rule", "suppressed_by_rule", "not_checked")


@functools.cache
def _validator(uri: str) -> Draft202012Validator:
    schema = schema_of(uri)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def rule_ids(value: Any) -> Iterator[str]:
    """Every rule id a report prints: `rule` fields and the keys of its per-rule tables."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "rule" and isinstance(item, str):
                yield item
            elif key in _RULE_TABLES and isinstance(item, dict):
                yield from item
            yield from rule_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from rule_ids(item)


def is_report(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("$schema", "")).startswith("urn:medcom:report:")


def check_report(report: dict) -> dict:
    """Fail when `report` does not validate against the schema it names, or prints an uncatalogued rule id."""
    errors = sorted(_validator(report["$schema"]).iter_errors(report), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{report['$schema']} at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
                                 for e in errors[:10])
    unknown = sorted(set(rule_ids(report)) - set(BY_ID))
    assert not unknown, f"rule ids not in medcom/catalogue.py: {unknown}"
    wrong = sorted({(f["rule"], f["severity"]) for f in findings(report)
                    if f["severity"] not in BY_ID[f["rule"]].severities})
    assert not wrong, f"severities medcom/catalogue.py does not give these rules: {wrong}"
    return report


def findings(value: Any) -> Iterator[dict]:
    """Every finding and violation of a report (a dict with a rule and a severity)."""
    if isinstance(value, dict):
        if isinstance(value.get("rule"), str) and isinstance(value.get("severity"), str):
            yield value
        for item in value.values():
            yield from findings(item)
    elif isinstance(value, list):
        for item in value:
            yield from findings(item)


def checked_loads(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def loads(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        if is_report(value):
            check_report(value)
        return value
    return loads


def install() -> None:
    json.loads = checked_loads(json.loads)  # json.load reads through it too
