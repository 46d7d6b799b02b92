"""TOML and the values in it (issue 19, classes 9 and 10; walkthrough G2): every policy, scenario, calibrate
--base and sweep --vary text is read by one function, durations are parsed in linear time, and any value ends
in exit 2 with one line naming the file or key, never a traceback or a hang."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback
from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.policy import PolicyError, parse_duration, parse_toml
from simulator.scenario import limits_of

EXAMPLES = ROOT / "examples"
TWELVE = ROOT / "scenarios" / "discharge-window-12-vs-14.toml"

# The duration pattern before issue 19 (O(n^4) on a run of blanks before a bad character): the language the
# linear one must keep.
OLD_DURATION = re.compile(r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?"
                          r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?\s*$", re.ASCII)


def _old_parse(text: str) -> timedelta | None:
    match = OLD_DURATION.match(text)
    if text.strip().startswith("-") or not match or not any(match.groupdict().values()):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    seconds = parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    return timedelta(seconds=seconds) if seconds <= 366 * 86400 else None


def _new_parse(text: str) -> timedelta | None:
    try:
        return parse_duration(text, "k")
    except PolicyError:
        return None


DURATION_PIECES = st.sampled_from(["1", "72", "0.5", "1.", ".5", "h", "m", "min", "mi", "s", " ", "  ", "\t", "\n",
                                   "-", "x", "1h", "30m", "45s", "1h30m", "2 h 5 min 3 s", "\u00a0", "٣"])


@settings(max_examples=500, deadline=None, database=None)
@given(st.lists(DURATION_PIECES, max_size=8).map("".join))
def test_durations_parse_as_the_old_pattern_did(text: str) -> None:
    assert _new_parse(text) == _old_parse(text), repr(text)


@pytest.mark.parametrize("text", [" " * 5000 + "x", "1h" + " " * 5000 + "x", "1" * 5000 + "x",
                                  "1h " * 2000 + "x", "1h" + "\t" * 3000 + "1m" + " " * 3000 + "q"])
def test_a_long_bad_duration_is_refused_at_once(text: str) -> None:
    # Before: O(n^4) backtracking, 400 blanks took 23 s, 5,000 would take days (the test run hangs).
    with pytest.raises(PolicyError, match="expected a duration"):
        parse_duration(text, "messages.receipt_timeout")


DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_TABLE = "{a = " * 3000 + "1" + "}" * 3000
LONG_INT = "9" * 5000
NEST_40 = "[" * 40 + "]" * 40


@pytest.mark.parametrize("literal", [DEEP_ARRAY, DEEP_TABLE, LONG_INT, NEST_40])
def test_toml_that_python_cannot_hold_is_a_policy_error(literal: str) -> None:
    with pytest.raises(PolicyError, match="^where: "):
        parse_toml(f"x = {literal}\n", "where")


def _policy(tmp_path: Path, literal: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(f"[messages]\nreceipt_timeout = {literal}\n", encoding="utf-8")
    return path


def _scenario(tmp_path: Path, key: str, literal: str) -> Path:
    """The 12-vs-14 scenario over one day (should a value pass, the run is short) with `key` set to `literal`."""
    text = TWELVE.read_text(encoding="utf-8")
    for name, value in {"warmup_days": "0", "horizon_days": "1", "cooldown_days": "0", key: literal}.items():
        text, n = re.subn(rf"^{name} = .*$", lambda _m, n=name, v=value: f"{n} = {v}", text, count=1, flags=re.M)
        assert n == 1
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("literal", [DEEP_ARRAY, DEEP_TABLE, LONG_INT, '"' + " " * 1000 + 'x"'])
@pytest.mark.parametrize("where", ["validate --policy", "replay --policy", "simulate", "calibrate --base",
                                   "calibrate --policy", "sweep scenario", "sweep --vary"])
def test_bad_toml_anywhere_exits_2_in_one_line(tmp_path: Path, where: str, literal: str) -> None:
    out = tmp_path / "fitted.toml"
    if where.endswith("--policy") and not where.startswith("calibrate"):
        args = [where.split()[0], EXAMPLES / "log", "--policy", _policy(tmp_path, literal)]
    elif where == "calibrate --policy":
        args = ["calibrate", EXAMPLES / "timeline.jsonl", "--out", out, "--policy", _policy(tmp_path, literal)]
    elif where == "calibrate --base":
        args = ["calibrate", EXAMPLES / "timeline.jsonl", "--out", out, "--base",
                _scenario(tmp_path, "ready_after_sigma", literal)]
    elif where == "sweep --vary":
        args = ["sweep", TWELVE, "--vary", f"stay.ready_after_sigma={literal}"]
    else:
        args = [where.split()[0], _scenario(tmp_path, "ready_after_sigma", literal)]
        args += ["--vary", "municipality.preparation_hours=2"] if where.startswith("sweep") else []
    run = no_traceback(invoke(*args))
    assert run.exit_code == 2, (run.exit_code, run.stderr[-500:])
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr[-2000:]
    assert not out.exists()


# Every numeric key of a scenario table, with a value past any sensible bound (G2: 1e308 ended simulate in an
# OverflowError traceback).
def _numeric_keys() -> list[str]:
    text = TWELVE.read_text(encoding="utf-8")
    table, keys = "", []
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]$", line):
            table = m[1]
        elif (m := re.match(r"^(\w+) = -?[0-9.]+(\s|$)", line)) and table in ("stay", "hospital", "municipality",
                                                                              "admissions"):
            keys.append(f"{table}.{m[1]}")
    return [k for k in keys if limits_of(k)[1] < math.inf]  # reception capacity: inf means no limit


@pytest.mark.parametrize("key", _numeric_keys())
@pytest.mark.parametrize("literal", ["1e308", "1e30"])
def test_every_scenario_number_is_range_checked(tmp_path: Path, key: str, literal: str) -> None:
    run = no_traceback(invoke("simulate", _scenario(tmp_path, key.split(".")[1], literal), "--replications", "2"))
    assert run.exit_code == 2 and key in run.stderr, (key, run.exit_code, run.stderr[-500:])
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
