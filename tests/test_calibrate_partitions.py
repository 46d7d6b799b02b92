"""calibrate replays a log in partitions and fits the stays they give (simulator.calibrate: `EpisodeStays` in the
workers, `StayRow`s merged in name order on disk, read into a `StayTable` by `fit_stays`): the fit is the same
whatever the partitions, and every stay is in it."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from helpers import EXAMPLES, ROOT
from helpers.cli import medcom
from helpers.timelines import clean_episode, write_timeline
from hypothesis import given, settings
from hypothesis import strategies as st
from test_partitioned_replay import generated_logs

from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import load_log, replay
from medcom.replay.partition import replay_partitioned
from simulator.calibrate import CalibrationError, EpisodeStays, fit, fit_stays, to_toml

READ = ReadOptions(sent_before_event=False)
POLICY = load_policy()
BASE = tomllib.loads((ROOT / "simulator" / "scenarios" / "nordjylland-2024.toml").read_text(encoding="utf-8"))
NAMES = {"log": "log", "base_name": "base", "name": "fitted"}


def calibrated(path: Path, size: int) -> tuple[str, int, int]:
    """The fitted scenario (or the reason there is none) of the log replayed in partitions of `size`, how many
    partitions, and how many stays they gave."""
    with replay_partitioned([path], POLICY, READ, EpisodeStays(), partition_messages=size) as run:
        try:
            text = to_toml(fit_stays(run.merged_items(key=lambda row: row.name), POLICY, BASE, **NAMES))
        except CalibrationError as exc:
            text = f"not fitted: {exc}"
        return text, run.partitions, sum(run.summaries)


def whole(path: Path) -> tuple[str, int]:
    """The fit of the log replayed whole in memory (the episodes' events, not rows), and its admitted episodes."""
    result = replay(load_log([path], READ), POLICY)
    episodes = [ep for name, ep in sorted(result.episodes.items())
                if name not in result.cancelled and ep.last("admitted") is not None]
    try:
        return to_toml(fit(episodes, POLICY, BASE, **NAMES)), len(episodes)
    except CalibrationError as exc:
        return f"not fitted: {exc}", len(episodes)


@settings(max_examples=25, deadline=None)
@given(generated_logs(), st.integers(1, 8))
def test_calibrate_in_partitions_fits_as_in_one(lines: list[dict], size: int) -> None:
    """Any log, any partition size: the fit of one partition, of several, and of the whole log in memory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_timeline(Path(tmp) / "t.jsonl", lines)
        one, partitions, stays = calibrated(path, 10**6)
        several, _, stays_again = calibrated(path, size)
        in_memory, admitted = whole(path)
    assert partitions == 1
    assert several == one == in_memory
    assert stays == stays_again == admitted


def test_every_stay_of_every_partition_is_fitted() -> None:
    """The fitted n of the admissions is the log's admitted episodes, with one partition or three (a partition
    whose rows were not merged would lower it)."""
    text, partitions, stays = calibrated(EXAMPLES / "log", 1)
    fitted = tomllib.loads(text)
    _, admitted = whole(EXAMPLES / "log")
    assert partitions == 3 and stays == admitted == 3
    assert f"(n = {admitted})" in text.split("per_day", 1)[1].splitlines()[0]
    assert fitted["admissions"]["per_day"] > 0


@pytest.mark.parametrize(("left_out", "assumed"), [("ready_for_discharge", "hospital.conference_share"),
                                                   ("discharged", "municipality.discharge_window_start")])
def test_a_log_without_ready_times_or_discharges_is_fitted(tmp_path: Path, left_out: str, assumed: str) -> None:
    """The shares of stays with a ready time, and the discharge window, are assumed where the log shows none
    (calibrate ended in a ZeroDivisionError and an IndexError; the property above found them)."""
    log = write_timeline(tmp_path / "t.jsonl", [line for line in clean_episode() if line["event"] != left_out])
    run = medcom("calibrate", log, "--out", tmp_path / "fitted.toml", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert assumed in run.stdout.split('"assumed"', 1)[1]
