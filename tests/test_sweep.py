"""medcom sweep: the grid, common random numbers, errors that name the key or value, the outputs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from helpers.cli import invoke, medcom, no_traceback
from helpers.scenarios import SHIPPED, WEEK, scenario_file

from simulator.run import BASE, run_scenario
from simulator.scenario import load_scenario
from simulator.sweep import SweepError, grid, parse_vary

TWELVE = SHIPPED["twelve"]


def small(tmp_path: Path, **run: object) -> Path:
    """The 12-vs-14 scenario (with its [costs]) over a week, two replications."""
    return scenario_file(tmp_path / "small.toml", TWELVE, {**WEEK, **{f"run.{k}": v for k, v in run.items()}})


def test_values_are_split_and_read_as_a_scenario_file_reads_them() -> None:
    axis = parse_vary("hospital.admission_advice_minutes=[1, 10],[2, 20]")
    assert axis.values == ([1, 10], [2, 20])
    assert parse_vary("municipality.discharge_window_end=12:00,14:00:00").values[1].isoformat() == "14:00:00"
    assert parse_vary("municipality.weekend_reception=true,false").values == (True, False)
    assert parse_vary("municipality.reception_capacity_per_day=25.5,inf").values == (25.5, float("inf"))


def test_a_point_equal_to_the_base_differs_by_exactly_zero_and_every_point_sees_the_same_patients(
        tmp_path: Path) -> None:
    path = small(tmp_path)
    g = grid(tomllib.loads(path.read_text(encoding="utf-8")), str(path),
             ["municipality.discharge_window_end=12:00,14:00"])
    assert list(g.points) == ["discharge_window_end=12:00", "discharge_window_end=14:00"]
    assert g.base_values == ("12:00",)
    result = run_scenario(g.scenario, progress=False)
    same, wider = result.runs["discharge_window_end=12:00"], result.runs["discharge_window_end=14:00"]
    assert [m.values for m in same] == [m.values for m in result.runs[BASE]]
    difference = result.as_dict()["comparison"]["discharge_window_end=12:00"]["difference"]
    assert all(d == {"mean": 0, "ci95": [0, 0]} for d in difference.values())
    # The 14:00 point is the scenario's own window-14 variant: the same numbers, replication by replication.
    own = run_scenario(load_scenario(path), progress=False).runs["window-14"]
    assert [m.values for m in wider] == [m.values for m in own]
    assert [m.values["episodes"] for m in wider] == [m.values["episodes"] for m in same]


def test_a_grid_of_two_keys_is_every_combination(tmp_path: Path) -> None:
    path = small(tmp_path)
    g = grid(tomllib.loads(path.read_text(encoding="utf-8")), str(path),
             ["municipality.discharge_window_end=12:00,13:00,14:00", "policy.care_plan.cutoff=12:00,14:00"])
    assert len(g.points) == 6
    assert g.base_values == ("12:00", "14:00")  # the policy key's base from the shipped default policy
    settings = g.scenario.variants["discharge_window_end=13:00, cutoff=12:00"]
    assert str(settings.municipality.discharge_window_end) == "13:00:00"
    assert str(settings.policy.care_plan.cutoff) == "12:00:00"


@pytest.mark.parametrize(("vary", "message"), [
    ("municipality.discharge_window_ends=12:00", "--vary municipality.discharge_window_ends: unknown key"),
    ("municipality.discharge_window_end=noon", "--vary municipality.discharge_window_end=noon: "),
    ("municipality.discharge_window_end=07:00", "must be before discharge_window_end"),
    ("policy.care_plan.cutof=12:00", "--vary policy.care_plan.cutof=12:00: policy.care_plan.cutof: unknown key"),
    ("stay.ready_after_sigma=0.5,-1", "--vary stay.ready_after_sigma=-1:"),
    ("hospital.care_plan_late_share=1.5", "expected a value from 0 to 1"),
    ("run.seed=1,2", "run keys cannot vary"),
    ("wards.size=3", "unknown table 'wards'"),
    ("municipality.discharge_window_end", "expected KEY=VALUE"),
    ("municipality.discharge_window_end=12:00,12:00", "given twice"),
])
def test_bad_keys_and_values_exit_2_naming_them(vary: str, message: str) -> None:
    run = no_traceback(invoke("sweep", TWELVE, "--vary", vary))
    assert run.exit_code == 2, run.stderr
    assert message in run.stderr, run.stderr


def test_a_grid_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = small(tmp_path)
    values = ",".join(str(x) for x in range(1, 12))
    with pytest.raises(SweepError, match="at most 100"):
        grid(tomllib.loads(path.read_text(encoding="utf-8")), str(path),
             [f"municipality.reception_capacity_per_day={values}", f"municipality.preparation_hours={values}"])


def test_sweep_command_line_writes_the_table_the_bill_and_the_charts(tmp_path: Path) -> None:
    path = small(tmp_path)
    out = tmp_path / "out"
    run = medcom("sweep", str(path), "--vary", "municipality.discharge_window_end=12:00,14:00", "--format", "json",
                 "--out", str(out))
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    assert [p["values"] for p in data["points"]] == [{"municipality.discharge_window_end": "12:00"},
                                                     {"municipality.discharge_window_end": "14:00"}]
    wide = data["points"][1]
    # The bill at the 14:00 point: two more window-hours on the 7 reception days of the horizon.
    assert wide["bill"]["municipality_total"]["extra_staffing_dkk"] == pytest.approx(2191.78 * 2 * 7)
    assert data["points"][0]["bill"]["municipality_total"]["tax_saved_dkk"]["mean"] == 0
    assert data["points"][0]["bill"]["municipality_total"]["net_dkk"] is None  # 2016 rates, 2024 prices: not netted
    assert sorted(p.name for p in out.iterdir()) == [
        ".medcom-output", "report.html", "sweep-acks-same-day-share.png", "sweep-bed-days-ready-waiting.png",
        "sweep-bill.png",
        "sweep-care-plans-late.png", "sweep-completion-tax-days.png", "sweep-completion-tax-dkk.png", "sweep.json",
        "sweep.txt"]
    text = (out / "sweep.txt").read_text(encoding="utf-8")
    assert "completion tax, DKK (2016 rates) per 7 days" in text
    assert "12:00 (base)" in text and "base (12:00)" not in text  # the base is the 12:00 point: printed once
    assert "extra staffing, DKK (2024 prices)" in text and "SOURCE: Frederikshavn" in text


def test_two_keys_draw_heatmaps_and_more_draw_none(tmp_path: Path) -> None:
    path = small(tmp_path, horizon_days=2)
    out = tmp_path / "two"
    run = medcom("sweep", str(path), "--vary", "municipality.discharge_window_end=12:00,14:00", "--vary",
                 "municipality.preparation_hours=2,4", "--metric", "completion_tax_days", "--format", "html",
                 "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.glob("*.png")) == ["sweep-completion-tax-days.png"]
    out = tmp_path / "three"
    run = medcom("sweep", str(path), "--vary", "municipality.discharge_window_end=12:00", "--vary",
                 "municipality.preparation_hours=2", "--vary", "hospital.answer_hours=3", "--metric",
                 "episodes", "--format", "html", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert list(out.glob("*.png")) == []
    assert "No charts" in (out / "report.html").read_text(encoding="utf-8")
    bad = no_traceback(invoke("sweep", path, "--vary", "municipality.preparation_hours=2", "--metric", "tax"))
    assert bad.exit_code == 2 and "unknown metric" in bad.stderr
