"""The replay spool under an unlucky operator (issue 19, class 6): a full disk or a low open-file limit is one
line and exit 2 (or no problem at all), SIGTERM and SIGHUP leave no temporary files (they hold patients' messages
with CPR numbers) and no worker tracebacks, and --partition-size is bounded."""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, medcom, medcom_process, no_traceback
from hypothesis import given, settings
from hypothesis import strategies as st

import medcom.replay.partition as partition
import medcom.replay.spool as spool

EXAMPLES = ROOT / "examples"


def _timeline(path: Path, copies: int) -> Path:
    """examples/timeline.jsonl `copies` times over, each copy its own episodes, patients and message ids (three
    partitions a copy at --partition-size 1)."""
    lines = [json.loads(line) for line in (EXAMPLES / "timeline.jsonl").read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(copies):
            for line in lines:
                copy = {k: f"R{i}-{v}" if k in ("episode", "id", "ref", "reply_to", "correction_of") and
                        isinstance(v, str) else v for k, v in line.items()}
                if "cpr" in copy:
                    copy["cpr"] = copy["cpr"][:6] + f"{i % 10_000:04d}"
                out.write(json.dumps(copy, ensure_ascii=False) + "\n")
    return path


def _spools(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("medcom-replay-"))


@pytest.mark.parametrize("size", [str(2**63), str(2**64 + 5), "99999999999999999999999"])
def test_a_partition_size_past_the_bound_is_a_usage_error(size: str) -> None:
    # Before: OverflowError traceback from numpy (int64) at 2^63 or more.
    run = no_traceback(invoke("replay", EXAMPLES / "log", "--partition-size", size))
    assert run.exit_code == 2 and "--partition-size" in run.stderr


@pytest.mark.parametrize("out", [False, True])
def test_a_full_disk_in_the_reports_merge_rounds_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            out: bool) -> None:
    """More partitions than files it may open: the report merges them in rounds into new files first; a full disk
    there is one line and exit 2 (it was an OSError traceback), and no file is left."""
    real_open = open

    def full_at_merge(path, mode="r", *args, **kwargs):
        if "w" in mode and Path(path).name.startswith("merged-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(spool, "OPEN_PARTITION_FILES", 4)
    monkeypatch.setattr(partition, "open", full_at_merge, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    report = ["--out", str(tmp_path / "report.json"), "--format", "json"] if out else []
    run = no_traceback(invoke("replay", _timeline(tmp_path / "t.jsonl", 12), "--partition-size", "1", *report))
    assert run.exit_code == 2, run.stderr
    said = [line for line in run.stderr.splitlines() if "partitions" not in line and "documents" not in line]
    assert len(said) == 1 and "No space left on device; point TMPDIR at a disk with more room" in said[0], said
    assert _spools(tmp_path) == []


class _FullDisk:
    """A file that takes `room` bytes and then fails as a full disk does: at the write that overflows the
    buffer, or at the last flush in close() (where the spool's traceback came from)."""

    def __init__(self, real, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.real.write(data)

    def close(self) -> None:
        self.real.close()
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize("room", [0, 5_000, 60_000])
def test_a_full_disk_is_one_line_and_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     room: int) -> None:
    # Before: a traceback from Spool.close (ENOSPC at its last flush).
    real_open = open

    def full(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return _FullDisk(handle, room) if "w" in mode or "a" in mode else handle

    for module in (partition, spool):  # pass 1 and 2 write the spool, the partitions their items
        monkeypatch.setattr(module, "open", full, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run = no_traceback(invoke("replay", _timeline(tmp_path / "t.jsonl", 20), "--partition-size", "1"))
    assert run.exit_code == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if "partitions" not in line and "documents" not in line]
    assert lines == [f"medcom replay: cannot write the replay's temporary files in {tmp_path}: No space left on "
                     f"device; point TMPDIR at a disk with more room"], run.stderr
    assert _spools(tmp_path) == []


def test_a_full_tmpfs_is_one_line_and_leaves_no_files(tmp_path: Path) -> None:
    """The same on a real 64 kB file system (needs root and a kernel that lets it mount tmpfs)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        timeline = _timeline(tmp_path / "t.jsonl", 40)
        run = medcom_process("replay", timeline, "--partition-size", "1", env={**os.environ, "TMPDIR": str(mount)},
                             timeout=300)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert "No space left on device" in run.stderr.splitlines()[-1]
        assert _spools(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _limit_open_files(limit: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    return apply


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_many_partitions_under_a_low_open_file_limit(tmp_path: Path, workers: str) -> None:
    # Before: route() opened every partition file at once, and the report merged every partition's entries at
    # once: "Too many open files" past ~1,020 partitions under ulimit -n 1024 (here: 150 partitions, limit 64).
    timeline = _timeline(tmp_path / "t.jsonl", 50)
    whole = medcom("replay", timeline, "--format", "json", "--workers", workers)  # no limit: in-process
    parts = medcom_process("replay", timeline, "--format", "json", "--workers", workers, "--partition-size", "1",
                           timeout=300, preexec_fn=_limit_open_files(64), env={**os.environ, "TMPDIR": str(tmp_path)})
    assert "Traceback" not in parts.stderr and parts.returncode == whole.exit_code == 0, parts.stderr[-3000:]
    assert "150/150 partitions" in parts.stderr
    assert json.loads(parts.stdout) == json.loads(whole.stdout)
    assert _spools(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_run_leaves_no_spool_and_no_traceback(tmp_path: Path, signum: signal.Signals) -> None:
    # Before: SIGTERM (timeout, systemd, CI cancelling) left medcom-replay-* holding pickled messages with CPR
    # numbers in clear, and the workers printed BrokenPipeError tracebacks. Sent to the process group, as
    # timeout(1) and a terminal do.
    timeline = _timeline(tmp_path / "t.jsonl", 300)
    # A short TMPDIR: the workers are forked from the fork server (its socket's path fits), as under /tmp.
    spool_dir = Path(tempfile.mkdtemp(prefix="mc-"))
    process = subprocess.Popen([sys.executable, "-m", "medcom", "replay", str(timeline), "--partition-size", "1",
                                "--workers", "2", "--format", "json"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "TMPDIR": str(spool_dir)})
    try:
        while not _spools(spool_dir) and process.poll() is None:
            time.sleep(0.02)
        time.sleep(1.0)  # well into reading (it takes several seconds)
        os.killpg(process.pid, signum)
        _, stderr = process.communicate(timeout=120)
        left = _spools(spool_dir)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(spool_dir, ignore_errors=True)
    assert process.returncode == 128 + signum, stderr[-3000:]  # stopped mid-run, not finished
    assert "Traceback" not in stderr and "Error" not in stderr, stderr[-3000:]
    assert stderr.rstrip().splitlines()[-1] == f"medcom: stopped by {signum.name}"
    assert left == []
    assert _group_ends(process.pid)  # nothing of the run goes on: no worker, no fork server


def _group_ends(group: int) -> bool:
    """Whether every process of the group ends within a minute (multiprocessing's resource tracker, which ignores
    SIGTERM, ends on its own once the command has)."""
    for _ in range(600):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_few_open_files_route_and_merge_in_rounds_to_the_same_report(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 2 and the report's merge with a budget of 4 open files: partition files closed and appended to again,
    the entries merged in rounds; the report is the whole log's."""
    from medcom.formats.messages import ReadOptions
    from medcom.policy import load_policy
    from medcom.replay import load_log, replay
    from medcom.reports.replay import EpisodeReports, partitioned_report, report_dict, to_json

    monkeypatch.setattr(spool, "OPEN_PARTITION_FILES", 4)
    monkeypatch.setattr(spool.route, "__defaults__", (4,))
    timeline, policy, read = _timeline(tmp_path / "t.jsonl", 12), load_policy(), ReadOptions(sent_before_event=False)
    whole = to_json(report_dict(replay(load_log([timeline], read), policy), policy=policy))
    with partition.replay_partitioned([timeline], policy, read, EpisodeReports(), partition_messages=1) as run:
        assert run.partitions == 36
        assert "".join(partitioned_report(run, policy=policy).json_chunks()) == whole
        assert {p.name[:7] for p in run.directory.iterdir()} == {"merged-", "partiti"}  # (partition-findings)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(), st.text(max_size=4)), max_size=40), max_size=6),
       st.sampled_from([1, 3, 64]))
def test_stretches_of_one_file_read_back_their_own_objects_even_side_by_side(
        groups: list[list[tuple[int, str]]], batch: int) -> None:
    """Each partition's input findings are a stretch of one file, read a few at a time with the file open only
    while they are read: every stretch gives back exactly its objects, read in turn or all at once (a merge)."""
    before = spool.STRETCH_READ
    spool.STRETCH_READ = batch
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "kept"
            stretches = [spool.append_stretch(path, group) for group in groups]
            assert [list(s) for s in stretches] == groups and [len(s) for s in stretches] == [len(g) for g in groups]
            side_by_side = list(itertools.zip_longest(*stretches))  # one object of each stretch in turn
            assert [[row[n] for row in side_by_side if row[n] is not None] for n in range(len(groups))] == groups
    finally:
        spool.STRETCH_READ = before
