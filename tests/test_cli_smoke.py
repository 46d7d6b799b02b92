"""One run of each command as a process of its own, through the installed console script: the entry point, the
real stdout and stderr (masked by the group), the exit code the shell sees. Every other CLI test runs in-process
(helpers.cli.medcom); the counterpart's tests run it as processes already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import EXAMPLES
from helpers.scenarios import scenario_file
from helpers.timelines import clean_episode, write_timeline

SCRIPT = Path(sys.executable).parent / "medcom"
TINY = {"run.warmup_days": 0, "run.horizon_days": 1, "run.cooldown_days": 0, "run.replications": 2,
        "admissions.per_day": 2.0}


def console(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "medcom"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_validate(tmp_path: Path) -> None:
    run = console("validate", EXAMPLES / "invalid" / "M-CPR-no-such-date.xml", cwd=tmp_path)
    assert run.returncode == 1 and "M-CPR" in run.stdout and "3102471234" not in run.stdout + run.stderr


def test_replay(tmp_path: Path) -> None:
    run = console("replay", EXAMPLES / "log", "--format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["violations_by_rule"] == {"CP-1": 1}
    assert "2509479989" not in run.stdout and "250947-****" in run.stdout


def test_build(tmp_path: Path) -> None:
    timeline = write_timeline(tmp_path / "t.jsonl", clean_episode())
    run = console("build", timeline, "--out", "log", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout == "" and "wrote" in run.stderr
    assert (tmp_path / "log" / "events.jsonl").is_file()


@pytest.mark.parametrize("command", ["simulate", "sweep"])
def test_simulate_and_sweep(tmp_path: Path, command: str) -> None:
    scenario = scenario_file(tmp_path / "tiny.toml", EXAMPLES / "small-scenario.toml", TINY, variants={})
    vary = ["--vary", "municipality.discharge_window_end=12:00,14:00"] if command == "sweep" else []
    run = console(command, scenario, *vary, "--format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["$schema"].startswith("urn:medcom:report:")


def test_calibrate(tmp_path: Path) -> None:
    run = console("calibrate", EXAMPLES / "log", "--out", "fitted.toml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "FITTED from the log" in run.stdout and (tmp_path / "fitted.toml").is_file()


def test_rules_and_a_usage_error(tmp_path: Path) -> None:
    run = console("rules", "CP-1", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("CP-1: ")
    usage = console("rules", "CP-99", cwd=tmp_path)
    assert usage.returncode == 2 and "CP-1" in usage.stderr and "Traceback" not in usage.stderr
