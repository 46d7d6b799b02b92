"""Output folders cannot mix two runs (issue 25, G1): build --out, simulate --out and --emit-log, sweep --out,
validate --receipts refuse a folder that is not empty (exit 2, one line), and --force deletes only what medcom wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT

from medcom.cli import main
from medcom.output_dirs import MARKER, OutputDirError, prepare, record

TIMELINE = str(ROOT / "examples" / "timeline.jsonl")
SMALL = str(ROOT / "examples" / "small-scenario.toml")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_build_refuses_a_folder_with_a_users_file_even_with_force(tmp_path: Path) -> None:
    out = tmp_path / "log"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for extra in ([], ["--force"]):
        result = run("build", TIMELINE, "--out", str(out), *extra)
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and "notes.txt" in result.stderr
    assert files(out) == {"notes.txt"} and (out / "notes.txt").read_text() == "mine"


def test_build_twice_needs_force_and_then_gives_the_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "log"
    assert run("build", TIMELINE, "--out", str(out)).exit_code == 0
    first = files(out)
    assert MARKER in first and len(first) > 40
    again = run("build", TIMELINE, "--out", str(out), "--formats", "oioxml", "--wrap", "sbdh")
    assert again.exit_code == 2 and "--force" in again.stderr and "not empty" in again.stderr
    assert files(out) == first  # nothing written, nothing deleted
    forced = run("build", TIMELINE, "--out", str(out), "--formats", "oioxml", "--wrap", "sbdh", "--force")
    assert forced.exit_code == 0, forced.output
    assert not any(f.endswith(".json") and f != "events.jsonl" for f in files(out))  # no FHIR left over
    (out / "mine.xml").write_text("<a/>")
    refused = run("build", TIMELINE, "--out", str(out), "--force")
    assert refused.exit_code == 2 and "mine.xml" in refused.stderr and (out / "mine.xml").exists()


def test_validate_receipts_refuses_a_used_folder_and_force_replaces_the_receipts(tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    log = str(ROOT / "examples" / "log")
    assert run("validate", log, "--receipts", str(out)).exit_code == 0
    first = files(out)
    assert run("validate", log, "--receipts", str(out)).exit_code == 2
    assert run("validate", log, "--receipts", str(out), "--force").exit_code == 0
    assert files(out) == first  # the same receipts, not a second numbered set beside the first


@pytest.mark.parametrize("option", ["--out", "--emit-log"])
def test_simulate_refuses_a_non_empty_folder_before_it_runs(tmp_path: Path, option: str) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "old.json").write_text("{}")
    result = run("simulate", SMALL, option, str(out))
    assert result.exit_code == 2 and option in result.stderr and "--force" in result.stderr
    assert files(out) == {"old.json"}


def test_force_deletes_listed_files_and_the_folders_they_leave_empty(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "m.xml").write_text("x")
    (tmp_path / "top.json").write_text("x")
    record(tmp_path)
    with pytest.raises(OutputDirError):
        prepare(tmp_path, "--out", force=False)
    prepare(tmp_path, "--out", force=True)
    assert list(tmp_path.iterdir()) == []


def test_a_marker_does_not_vouch_for_files_it_does_not_list(tmp_path: Path) -> None:
    (tmp_path / "m.xml").write_text("x")
    record(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "users.xml").write_text("y")
    with pytest.raises(OutputDirError, match="users.xml"):
        prepare(tmp_path, "--out", force=True)
    assert (tmp_path / "m.xml").exists() and (tmp_path / "sub" / "users.xml").exists()


def test_sweep_refuses_a_non_empty_folder_before_it_runs(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "old.json").write_text("{}")
    result = run("sweep", SMALL, "--vary", "municipality.discharge_window_end=12:00,14:00", "--out", str(out))
    assert result.exit_code == 2 and "--out" in result.stderr and "--force" in result.stderr
    assert files(out) == {"old.json"}
