"""Scenario and policy files with hostile values (item 7) and options checked before the work (item 8):
each is exit 2 with one line naming the file and the dotted key, or the option; never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback

SMALL = ROOT / "examples" / "small-scenario.toml"
LOG = ROOT / "examples" / "log"


def _scenario(tmp_path: Path, key: str, literal: str) -> Path:
    """The small example scenario with `key` (dotted: table.key) set to the TOML `literal`."""
    table, name = key.rsplit(".", 1)
    text = SMALL.read_text(encoding="utf-8")
    section = text.index(f"[{table}]")
    line = re.compile(rf"^{name} = .*$", re.M).search(text, section)
    assert line is not None, key
    text = text[:line.start()] + f"{name} = {literal}" + text[line.end():]
    path = tmp_path / "bad-scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


SCENARIO_VALUES = [
    ("admissions.per_day", "nan"), ("admissions.per_day", "inf"), ("stay.ready_after_sigma", "nan"),
    ("stay.ready_after_median_hours", "inf"), ("hospital.answer_hours", "-inf"),
    ("admissions.hour_weights", "[nan, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"),
    ("admissions.weekday_weights", "[1e308, 1e308, 1, 1, 1, 1, 1]"),
    ("municipality.reception_capacity_per_day", "nan"), ("municipality.reception_capacity_per_day", "0"),
    ("run.horizon_days", "0"), ("run.start", "9999-12-01"), ("run.start", "2199-12-01"),
    ("run.start", "1000-01-01"), ("run.start", "2025-01-06T00:00:00"), ("run.replications", "1000000000"),
    ("run.replications", "1"), ("run.warmup_days", "100000000"), ("admissions.per_day", "1e9"),
    ("stay.ready_after_sigma", "40.0"), ("stay.ready_after_median_hours", "1e12"),
    ("admissions.municipalities", '["9999"]'), ("municipality.reception_spread_minutes", "1e300"),
]


@pytest.mark.parametrize(("key", "literal"), SCENARIO_VALUES)
def test_a_hostile_scenario_value_exits_2_naming_file_and_key(tmp_path: Path, key: str, literal: str) -> None:
    path = _scenario(tmp_path, key, literal)
    result = no_traceback(invoke("simulate", str(path)))
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and (key in result.stderr or key.split(".")[0] in result.stderr), result.stderr


@pytest.mark.parametrize(("text", "key"), [
    ("policy = 5\n", "policy"),
    ("variants = []\n", "variants"),
    ('[policy]\nleave = { max_period = "99999999999h" }\n', "policy.leave.max_period"),
    ('[variants.v]\npolicy = 5\n', "variants.v.policy"),
    ("[variants.base]\nmunicipality = { weekend_reception = false }\n", "variants.base"),
])
def test_hostile_scenario_tables_exit_2(tmp_path: Path, text: str, key: str) -> None:
    base = SMALL.read_text(encoding="utf-8")
    if text.startswith(("policy =", "variants =")):  # a key where a table was: replace the table
        table = text.split(" ")[0]
        base = re.sub(rf"^\[{table}(\.[^\]]*)?\]\n(?:(?!\[).*\n)*", "", base, flags=re.M)
        base = text + base
    else:
        base = base.replace("[policy]\n", "[policy-old]\n") if text.startswith("[policy]") else base
        base = base.replace("[policy-old]\n", "") + "\n" + text
    path = tmp_path / "bad.toml"
    path.write_text(base, encoding="utf-8")
    result = no_traceback(invoke("simulate", str(path)))
    assert result.exit_code == 2 and str(path) in result.stderr and key in result.stderr, result.stderr


def test_a_scenario_in_invalid_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(SMALL.read_bytes().replace(b"Frederikshavn Kommune", "Frederikshavn Kommune æ".encode("latin-1")))
    result = no_traceback(invoke("simulate", str(path)))
    assert result.exit_code == 2 and str(path) in result.stderr and "not UTF-8" in result.stderr


@pytest.mark.parametrize("seed", ["-1"])
def test_a_negative_seed_is_a_usage_error(seed: str) -> None:
    assert no_traceback(invoke("simulate", str(SMALL), "--seed", seed)).exit_code == 2


@pytest.mark.parametrize(("text", "key"), [
    ('[leave]\nmax_period = "99999999999h"\n', "leave.max_period"),
    ('[leave]\nmax_period = "9' + "9" * 400 + 'h"\n', "leave.max_period"),
    ('[completion_tax.rates."²"]\nfirst_days = 2\nfirst_rate = 1\nlater_rate = 1\n', "completion_tax.rates.²"),
    ("[completion_tax.rates.twenty]\nfirst_days = 2\nfirst_rate = 1\nlater_rate = 1\n", "completion_tax.rates"),
    ("[completion_tax.rates.99999]\nfirst_days = 2\nfirst_rate = 1\nlater_rate = 1\n", "completion_tax.rates"),
    ("[risk]\nyellow_error_rate = nan\n", "risk.yellow_error_rate"),
    ("[risk]\nred_error_rate = inf\n", "risk.red_error_rate"),
    ('[calendar]\nextra_closed_days = ["9999-12-31"]\n', "calendar.extra_closed_days[0]"),
    ("care_plan = 5\n", "care_plan"),
])
def test_a_hostile_policy_value_exits_2_naming_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    for command in (["validate", str(LOG)], ["replay", str(LOG)]):
        result = no_traceback(invoke(*command, "--policy", str(path)))
        assert result.exit_code == 2 and key in result.stderr and str(path) in result.stderr, result.stderr


def test_a_policy_in_invalid_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes("# r\xe6kkef\xf8lge\n[care_plan]\ncutoff = 12:00:00\n".encode("latin-1"))
    result = no_traceback(invoke("replay", str(LOG), "--policy", str(path)))
    assert result.exit_code == 2 and str(path) in result.stderr and "not UTF-8" in result.stderr


# ---- options ----------------------------------------------------------------------------------------------


def _exits_2_naming(result, option: str) -> None:
    no_traceback(result)
    assert result.exit_code == 2, result.output
    assert option in result.stderr, result.stderr


def test_out_in_a_missing_directory_is_refused_before_the_work(tmp_path: Path) -> None:
    for command in ("validate", "replay"):
        _exits_2_naming(invoke(command, str(LOG), "--out", str(tmp_path / "missing" / "r.json")), "--out")
    assert not (tmp_path / "missing").exists()


def test_out_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    _exits_2_naming(invoke("replay", str(LOG), "--out", str(tmp_path)), "--out")


def test_receipts_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    _exits_2_naming(invoke("validate", str(LOG), "--receipts", str(tmp_path / "file" / "receipts")), "--receipts")


def test_build_out_somewhere_unwritable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    timeline = ROOT / "tests" / "timelines" / "clean.jsonl"
    _exits_2_naming(invoke("build", str(timeline), "--out", str(tmp_path / "file" / "log")), "--out")
    _exits_2_naming(invoke("build", str(timeline), "--out", "/proc/medcom-cannot-be-here"), "--out")


def test_simulate_out_and_emit_log_under_a_file_are_refused_before_the_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    _exits_2_naming(invoke("simulate", str(SMALL), "--out", str(tmp_path / "file" / "out")), "--out")
    _exits_2_naming(invoke("simulate", str(SMALL), "--emit-log", str(tmp_path / "file" / "log")), "--emit-log")


def test_a_suppression_file_in_invalid_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accepted.txt"
    path.write_bytes("M-CPR  # k\xf8 123\n".encode("latin-1"))
    result = invoke("validate", str(LOG), "--suppress", str(path))
    _exits_2_naming(result, "--suppress")
    assert f"{path}:1" in result.stderr


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "1800-01-01"])
def test_since_and_until_that_overflow_are_refused(when: str) -> None:
    _exits_2_naming(invoke("replay", str(LOG), "--since", when), "--since")
    _exits_2_naming(invoke("replay", str(LOG), "--until", when), "--until")


@pytest.mark.parametrize("command", [
    ["validate", "{missing}"], ["validate", str(LOG), "{missing}"], ["replay", "{missing}"],
    ["build", "{missing}", "--out", "{tmp}/out"], ["simulate", "{missing}"],
    ["validate", str(LOG), "--policy", "{missing}"], ["validate", str(LOG), "--suppress", "{missing}"],
])
def test_a_path_that_does_not_exist_is_exit_2_in_every_command(tmp_path: Path, command: list[str]) -> None:
    args = [a.format(missing=tmp_path / "no-such-thing.xml", tmp=tmp_path) for a in command]
    result = no_traceback(invoke(*args))
    assert result.exit_code == 2 and "no-such-thing.xml" in result.stderr, result.output


def test_validate_show_cpr(tmp_path: Path) -> None:
    invalid = tmp_path / "hyphen.xml"  # the schema error quotes the value
    invalid.write_bytes(next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes().replace(b"2509479989", b"250947-9989"))
    masked = no_traceback(invoke("validate", str(invalid)))
    shown = no_traceback(invoke("validate", str(invalid), "--show-cpr"))
    assert "250947-9989" not in masked.stdout and "250947-****" in masked.stdout
    assert "250947-9989" in shown.stdout
