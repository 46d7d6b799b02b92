"""The JSON Schemas of the reports (medcom/schemas/reports/, docs/CONTRACT.md): shipped, valid draft 2020-12, named
by every JSON report, and strict enough to catch a missing or renamed field. (Every JSON report any test reads is
checked against its schema as well: tests/report_schemas.py, installed by tests/conftest.py.)"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback
from jsonschema import Draft202012Validator
from report_schemas import check_report
from test_sweep import small

from medcom.catalogue import BY_ID
from medcom.reports.schemas import REPORTS, VERSION, schema_of

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One JSON report of each kind, as the command line writes it (read without the suite's json.loads check)."""
    tmp = tmp_path_factory.mktemp("reports")
    scenario = small(tmp)
    runs = {
        "validate": ("validate", EXAMPLES / "log", EXAMPLES / "invalid", "--by-sender", "--format", "json"),
        "replay": ("replay", EXAMPLES / "log", "--format", "json"),
        "simulate": ("simulate", scenario, "--format", "json"),
        "sweep": ("sweep", scenario, "--vary", "municipality.discharge_window_end=12:00,14:00", "--format", "json"),
        "calibrate": ("calibrate", EXAMPLES / "log", "--out", tmp / "fitted.toml", "--format", "json"),
        # medcom plays the hospital against a system under test that never answers: steps missing, deadlines broken;
        # with --grace 0 medcom's own steps come later than the grace, so the report lists them (exit 2, not judged)
        "counterpart": ("counterpart", "admission-care-plan-discharge", "--play", "hospital", "--outbox", tmp / "out",
                        "--inbox", tmp / "in", "--log", tmp / "exchange", "--speed", "1000000", "--grace", "0",
                        "--format", "json"),
    }
    out = {}
    for kind, args in runs.items():
        run = no_traceback(invoke(*args))
        assert run.exit_code in ((0, 1, 2) if kind == "counterpart" else (0, 1)), (kind, run.stderr)
        out[kind] = json.JSONDecoder().decode(run.stdout)
    return out


@pytest.mark.parametrize("kind", REPORTS)
def test_each_schema_is_shipped_valid_and_named_by_its_report(kind: str, reports: dict[str, dict]) -> None:
    shipped = resources.files("medcom").joinpath("schemas", "reports", f"{kind}.schema.json")
    schema = json.JSONDecoder().decode(shipped.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    report = reports[kind]
    assert report["$schema"] == schema["$id"] == f"urn:medcom:report:{kind}:1"
    assert schema_of(report["$schema"]) == schema
    check_report(report)


@pytest.mark.parametrize("kind", REPORTS)
def test_a_missing_or_renamed_field_fails_the_schema(kind: str, reports: dict[str, dict]) -> None:
    report = reports[kind]
    validator = Draft202012Validator(schema_of(report["$schema"]))
    for key in schema_of(report["$schema"])["required"]:
        broken = copy.deepcopy(report)
        broken[f"{key}_renamed"] = broken.pop(key)
        assert not validator.is_valid(broken), (kind, key)


def test_nested_fields_are_checked_too(reports: dict[str, dict]) -> None:
    replay = copy.deepcopy(reports["replay"])
    validator = Draft202012Validator(schema_of(replay["$schema"]))
    replay["episodes"][0]["completion_tax_days"] = "0"
    assert not validator.is_valid(replay)
    validate = copy.deepcopy(reports["validate"])
    del validate["files"][0]["findings"]
    assert not Draft202012Validator(schema_of(validate["$schema"])).is_valid(validate)
    simulate = copy.deepcopy(reports["simulate"])
    del simulate["metrics"]["completion_tax_days"]
    assert not Draft202012Validator(schema_of(simulate["$schema"])).is_valid(simulate)


def test_an_unknown_schema_name_is_refused() -> None:
    for uri in ("urn:medcom:report:replay:2", "urn:medcom:report:other:1", "https://example.org/x"):
        with pytest.raises(KeyError):
            schema_of(uri)


def _rule_patterns(value: object) -> list[str]:
    """Every `pattern` a schema gives a `rule` member."""
    if isinstance(value, dict):
        found = [value["rule"]["pattern"]] if isinstance(value.get("rule"), dict) and "pattern" in value["rule"] else []
        return found + [p for item in value.values() for p in _rule_patterns(item)]
    if isinstance(value, list):
        return [p for item in value for p in _rule_patterns(item)]
    return []


def test_every_catalogued_rule_id_fits_the_reports_rule_pattern() -> None:
    """A finding's rule is any catalogued id (F-EVENT-STATUS and F-EVENT-CLASS have two hyphens: a validate or
    replay report holding one did not validate against its own shipped schema)."""
    checked = 0
    for kind in REPORTS:
        for pattern in _rule_patterns(schema_of(f"urn:medcom:report:{kind}:{VERSION}")):
            assert [rule for rule in BY_ID if not re.search(pattern, rule)] == [], (kind, pattern)
            checked += 1
    assert checked >= 3
