"""The rule catalogue (medcom/catalogue.py): every rule id the code can emit is in it, every entry's implementation
exists and names its rule, every example breaks its rule, docs/RULES.md is generated from it, and `medcom rules`
explains it."""

from __future__ import annotations

import ast
import codecs
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback

from medcom.catalogue import BY_ID, ORIGINS, RULES, RuleInfo, close_matches
from medcom.engine.rules import ALL_RULES
from medcom.policy import load_policy
from medcom.reports.rules import example_findings, markdown, policy_value

RULE_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z0-9]+$")


def _is_encoding(text: str) -> bool:
    if text in ("UCS-4", "UCS-2"):  # libxml2's names, which Python's codecs do not know
        return True
    try:
        codecs.lookup(text)
    except LookupError:
        return False
    return True


def rule_literals() -> dict[str, set[str]]:
    """Every string literal of rule-id shape in medcom/ and simulator/ (outside the catalogue), with its files."""
    found: dict[str, set[str]] = {}
    for package in ("medcom", "simulator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "medcom" / "catalogue.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and RULE_SHAPE.match(node.value) and not _is_encoding(node.value):
                    found.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
    return found


def implementation(info: RuleInfo) -> object:
    module, _, qualname = info.implementation.partition(":")
    obj: object = importlib.import_module(module)
    for part in qualname.split(".") if qualname else []:
        obj = getattr(obj, part)
    return obj


def test_every_rule_id_the_code_can_emit_is_catalogued() -> None:
    literals = rule_literals()
    assert {"CP-1", "M-XML", "F-PROFILE", "DIS-3"} <= set(literals)  # the scan sees the code
    missing = {rule: sorted(files) for rule, files in literals.items() if rule not in BY_ID}
    assert not missing, f"add these to medcom/catalogue.py (and regenerate docs/RULES.md): {missing}"


def test_every_engine_rule_class_is_catalogued_as_its_implementation() -> None:
    named = {info.implementation for info in RULES}
    for cls in ALL_RULES:
        assert cls.id in BY_ID
        assert f"{cls.__module__}:{cls.__qualname__}" in named, cls


@pytest.mark.parametrize("info", RULES, ids=lambda info: info.id)
def test_every_entry_is_complete_and_its_implementation_names_it(info: RuleInfo) -> None:
    assert info.origin in ORIGINS
    assert info.title and info.checks and info.source
    assert set(info.severities) <= {"error", "warning", "info"}
    assert set(info.commands) <= {"validate", "replay", "simulate"}
    if info.origin == "medcom":
        assert "added by medcom" in info.source
    source = inspect.getsource(implementation(info))  # type: ignore[arg-type]
    assert info.id in source or info.id.replace("-", "_") in source, info.implementation
    policy = load_policy()
    for key in info.policy:
        policy_value(policy, key)  # every key it names is one the policy has


def test_ids_are_unique_and_in_catalogue_order() -> None:
    assert len(BY_ID) == len(RULES)


@pytest.mark.parametrize("info", [r for r in RULES if r.timeline], ids=lambda info: info.id)
def test_every_example_timeline_breaks_its_rule(info: RuleInfo) -> None:
    found = example_findings(info, load_policy())
    assert found and all(f["rule"] == info.id for f in found)


def test_every_reported_rule_has_an_example() -> None:
    """A rule that replay or simulate reports (not a count) says how it is broken: a timeline or a sentence."""
    for info in RULES:
        if info.severities and info.commands:
            assert info.timeline or info.example, info.id


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    assert (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8") == markdown(), (
        "docs/RULES.md is stale: regenerate it with `medcom rules --format markdown > docs/RULES.md`")


def test_medcom_rules_lists_every_id() -> None:
    run = no_traceback(invoke("rules"))
    assert run.exit_code == 0
    listed = [line.split()[0] for line in run.stdout.splitlines()]
    assert listed == [info.id for info in RULES]


def test_medcom_rules_explains_one_with_the_values_in_force(tmp_path: Path) -> None:
    run = no_traceback(invoke("rules", "CP-1"))
    assert run.exit_code == 0
    assert "care_plan.cutoff = 14:00" in run.stdout and "§4B.1-4B.4" in run.stdout
    assert "warning CP-1: first care plan due Tue 2025-03-25 14:00" in run.stdout  # the example, replayed
    policy = tmp_path / "policy.toml"
    policy.write_text("[care_plan]\ncutoff = 12:00:00\n", encoding="utf-8")
    run = no_traceback(invoke("rules", "cp-1", "--policy", policy))
    assert "care_plan.cutoff = 12:00" in run.stdout
    assert "first care plan due Tue 2025-03-25 12:00" in run.stdout


def test_medcom_rules_json() -> None:
    run = no_traceback(invoke("rules", "M-RESEND", "--format", "json"))
    data = json.loads(run.stdout)
    (rule,) = data["rules"]
    assert rule["id"] == "M-RESEND"
    assert rule["policy"] == {"messages.receipt_timeout": "30m", "messages.max_resends": "2"}
    everything = json.loads(no_traceback(invoke("rules", "--format", "json")).stdout)
    assert [r["id"] for r in everything["rules"]] == [info.id for info in RULES]


def test_an_unknown_rule_id_is_a_usage_error_naming_close_matches() -> None:
    run = no_traceback(invoke("rules", "CP-9"))
    assert run.exit_code == 2
    assert "CP-1" in run.stderr and "Traceback" not in run.stderr
    assert "ACK-1" in close_matches("ACK-7")
    run = no_traceback(invoke("rules", "--format", "markdown", "CP-1"))
    assert run.exit_code == 2
