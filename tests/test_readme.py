"""The README runs top to bottom: every command of its ```sh blocks, as written, in README order, in ONE copy of
the repository (as a newcomer runs them, so that a line writing into a folder an earlier line filled shows up),
with the results it promises (issue 25, G1).

Lines are left out only where running them here makes no sense, each for a reason said below: installing
(the tests run in the installed package), the test suite itself, the benchmarks (minutes each, "run on
demand"), the long jobs (a shipped region scenario simulated in full, minutes on two cores) and the commands
that start or join a dask cluster. A line that is nothing but `medcom` commands joined by `&&` runs them in-process
(a process costs about a second each; tests/test_cli_smoke.py runs each command once through the console script);
every other line runs in bash as written. What the README promises is checked: a command exits 0 unless its comment
says "exits N"; a command whose comment says "the same" ends in a replay that gives the same episodes, tax and
violations as the timeline the examples are built from. No command may print a traceback. The blocks are
parsed, so that a rewritten README is tested as it then reads.

A line of `medcom counterpart` processes on an accelerated clock that breaks its promise while a counterpart says
its own clock fell behind (a loaded machine: the verdict is not the other side's doing) runs once more, each
counterpart with a larger grace; a line that breaks it again, or without saying so, fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback

SHIPPED_SCENARIOS = tuple(p.stem for p in (ROOT / "simulator" / "scenarios").glob("*.toml"))
SKIPPED = {
    "installs": re.compile(r"\bpip (install|wheel)\b|\bvenv\b"),
    "runs the test suite": re.compile(r"\bpytest\b"),
    "runs a benchmark": re.compile(r"\bbenchmarks/"),
    "is a long job": re.compile(rf"\bmedcom simulate ({'|'.join(map(re.escape, SHIPPED_SCENARIOS))})\b"),
    "needs a running dask cluster": re.compile(r"^dask (scheduler|worker)\b|--scheduler\b"),
}
REFERENCE = "examples/timeline.jsonl"  # what "the same" is the same as: examples/log is built from it


@dataclass(frozen=True)
class Line:
    command: str
    comment: str

    @property
    def exit_code(self) -> int:
        """What the README promises: 0, unless the comment says "exits N"."""
        found = re.search(r"\bexits (\d)\b", self.comment)
        return int(found.group(1)) if found else 0


def readme_lines(text: str) -> list[Line]:
    """The command lines of the ```sh blocks, in README order, each with its comment (blank and comment-only
    lines left out)."""
    lines = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.M | re.S):
        for raw in block.splitlines():
            raw = raw.strip()
            if raw and not raw.startswith("#"):
                command, _, comment = raw.partition("  #")
                lines.append(Line(command.strip(), comment.strip(" #")))
    return lines


LINES = readme_lines((ROOT / "README.md").read_text(encoding="utf-8"))


def _skip_reason(command: str) -> str | None:
    return next((why for why, pattern in SKIPPED.items() if pattern.search(command)), None)


def test_the_readme_has_commands_to_run() -> None:
    runnable = [line.command for line in LINES if _skip_reason(line.command) is None]
    assert len(runnable) >= 8, runnable
    assert any("medcom validate" in c for c in runnable) and any("medcom replay" in c for c in runnable)
    assert any("medcom simulate" in c for c in runnable) and any("medcom build" in c for c in runnable)


def test_only_plain_medcom_lines_run_in_process() -> None:
    assert medcom_runs("medcom build t.jsonl --out log/ && medcom replay log/") == [
        ["build", "t.jsonl", "--out", "log/"], ["replay", "log/"]]
    for line in ("python -m zipfile -c log.zip examples/log && medcom validate log.zip", "medcom replay x > out.txt",
                 "E=1; medcom counterpart a --epoch $E &", "medcom replay 'a b'", "medcom replay x | head",
                 "medcom replay x || true", "PYTHONHASHSEED=1 medcom replay x"):
        assert medcom_runs(line) is None, line
    assert any(medcom_runs(line.command) is None and _skip_reason(line.command) is None for line in LINES)


def test_readme_lines_keep_their_comments() -> None:
    """The parser splits a line at its comment, so that promises can be read (and a '#' in a value is kept)."""
    (line,) = readme_lines("```sh\nmedcom x --out 'a#b'  # exits 1: because\n```\n")
    assert line == Line("medcom x --out 'a#b'", "exits 1: because") and line.exit_code == 1


@pytest.mark.parametrize("command", [line.command for line in LINES if _skip_reason(line.command)])
def test_readme_lines_left_out(command: str) -> None:
    pytest.skip(f"the command {_skip_reason(command)}")


_SHELL = set("|&;<>$`*?()[]{}~'\"\\#")  # what only bash can run: a line with any of these runs in bash


def medcom_runs(command: str) -> list[list[str]] | None:
    """The arguments of each `medcom` run of a line that is nothing but `medcom ARGS` joined by `&&`; None for any
    other line (quoting, redirection, variables, jobs, another program: bash runs it)."""
    runs = []
    for part in command.split(" && "):
        words = part.split()
        if not words or words[0] != "medcom" or any(_SHELL & set(word) for word in words):
            return None
        runs.append(words[1:])
    return runs


def _run(command: str, work: Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one README line run in `work`: in-process where medcom_runs says it can be
    (stopping at the first run that fails, as `&&` does; an exception is a traceback on stderr), else in bash."""
    runs = medcom_runs(command)
    if runs is None:
        run = subprocess.run(["bash", "-c", command], cwd=work, env=_env(), capture_output=True, text=True,
                             timeout=600)
        return run.returncode, run.stdout, run.stderr
    out, err = "", ""
    for args in runs:
        result = invoke(*args, cwd=work)
        out, err = out + result.stdout, err + result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return 1, out, err + "".join(traceback.format_exception(result.exception))
        if result.exit_code != 0:
            break
    return result.exit_code, out, err


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _gist(work: Path, log: str) -> dict[str, object]:
    """What "the same" report means: per episode its state, tax and violations (rule, due, actual), and the
    summary; not the files the messages are in (a built log's are not the timeline's)."""
    run = no_traceback(invoke("replay", log, "--format", "json", cwd=work))
    assert run.exit_code in (0, 1), run.stderr[-2000:]
    report = json.loads(run.stdout)
    return {"summary": report["summary"],
            "episodes": [(e["episode"], e["state"], e["admitted"], e["discharged"], e["completion_tax_days"],
                          [(v["rule"], v["due"], v["actual"]) for v in e["violations"]]) for e in report["episodes"]]}


BEHIND = "CLOCK BEHIND"  # what `medcom counterpart` says when its own clock fell behind by more than half the grace


def _fell_behind(command: str, stderr: str, work: Path) -> bool:
    """Whether a counterpart of the line said its own clock fell behind: on stderr, or in a file its stderr went to."""
    if "medcom counterpart" not in command:
        return False
    said = [stderr] + [(work / name).read_text(encoding="utf-8", errors="replace")
                       for name in re.findall(r"2> *([^\s;&|]+)", command) if (work / name).is_file()]
    return any(BEHIND in text for text in said)


def _with_more_grace(command: str, work: Path) -> str:
    """The line again, each counterpart with a grace of 5 wall seconds and four times as long to load before the
    epoch (a loaded machine took more than 8 s: every step late from the start), the folders it fills emptied."""
    for folder in re.findall(r"--(?:log|outbox|inbox) +([^\s;&|]+)", command):
        shutil.rmtree(work / folder, ignore_errors=True)
    later = re.sub(r"\$\(date \+%s\) \+ (\d+)", lambda m: f"$(date +%s) + {4 * int(m.group(1))}", command)
    return later.replace("medcom counterpart ", "medcom counterpart --grace 5 ")


def test_a_counterpart_line_that_fell_behind_runs_again_with_more_grace(tmp_path: Path) -> None:
    (line,) = [line.command for line in LINES if "medcom counterpart" in line.command and "--inbox" in line.command]
    (tmp_path / "municipality.txt").write_text(f"[Mon 2027-03-01 10:00] {BEHIND} by 1.4 s, more than medcom's half\n")
    (tmp_path / "log-h").mkdir()
    (tmp_path / "log-h" / "0001-out-x.json").write_text("{}")
    assert _fell_behind(line, "", tmp_path) and _fell_behind(line, f"x {BEHIND} y", tmp_path / "elsewhere")
    assert not _fell_behind(line, "VIOLATION by SUT", tmp_path / "elsewhere")
    assert not _fell_behind("medcom replay log-h", BEHIND, tmp_path)
    again = _with_more_grace(line, tmp_path)
    assert again.count("medcom counterpart --grace 5 ") == line.count("medcom counterpart ") == 2
    assert "$(date +%s) + 8 ))" in line and "$(date +%s) + 32 ))" in again
    assert not (tmp_path / "log-h").exists()


def test_the_readme_counterpart_lines_write_folders_of_their_own() -> None:
    """Each counterpart line runs after the ones before it in one folder: a --log an earlier line filled would be
    refused (exit 2, said on a stderr that may go to a file) and the pair would not run at all."""
    logs = [re.findall(r"--log +(\S+)", line.command) for line in LINES if "medcom counterpart" in line.command]
    folders = [folder for line in logs for folder in line]
    assert len(folders) >= 4 and len(folders) == len(set(folders)), logs


_TOOLING = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
                                  ".hypothesis")


def _not_copied(directory: str, names: list[str]) -> set[str]:
    """Tooling anywhere, and at the top what a user's earlier runs of the README left (.gitignore's list)."""
    ignored = set(_TOOLING(directory, names))
    if Path(directory) == ROOT:
        ignored |= {n for n in names if f"/{n}/" in _TOP_IGNORED or f"/{n}" in _TOP_IGNORED}
    return ignored


_TOP_IGNORED = {line.strip().rstrip("/") + ("/" if line.strip().endswith("/") else "")
                for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
                if line.strip().startswith("/")} | {"/build/", "/dist/"}


@pytest.mark.slow
def test_the_readme_runs_top_to_bottom_in_one_folder(tmp_path: Path) -> None:
    work = tmp_path / "medcom"
    shutil.copytree(ROOT, work, ignore=_not_copied)
    reference = _gist(work, REFERENCE)
    problems = []
    for line in LINES:
        if _skip_reason(line.command) is not None:
            continue
        code, stdout, stderr = _run(line.command, work)
        if code != line.exit_code and _fell_behind(line.command, stderr, work):
            code, stdout, stderr = _run(_with_more_grace(line.command, work), work)
        said = f"{line.command}\n  exit {code}; stderr: {stderr[-1500:]}"
        if code != line.exit_code:
            problems.append(f"exit {code}, the README promises {line.exit_code}: {said}")
        if "Traceback" in stdout + stderr:
            problems.append(f"a traceback: {said}")
        if "the same" in line.comment:
            replayed = re.findall(r"medcom replay (\S+)", line.command)[-1]
            if _gist(work, replayed) != reference:
                problems.append(f"not the same report as {REFERENCE}: {line.command}")
    assert not problems, "\n\n".join(problems)
