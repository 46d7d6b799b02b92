"""Every command of the README's ```sh blocks runs as written, in a copy of the repository (item 12).

Lines are left out only where running them here makes no sense, each for a reason said below: installing
(the tests run in the installed package), the test suite itself, the benchmarks (minutes each, "run on
demand"), the long jobs (a shipped region scenario simulated in full, minutes on two cores) and the commands
that start or join a dask cluster. Everything else must exit 0 or 1, without a traceback. The blocks are
parsed, so that a rewritten README is tested as it then reads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCENARIOS = tuple(p.stem for p in (ROOT / "simulator" / "scenarios").glob("*.toml"))
SKIPPED = {
    "installs": re.compile(r"\bpip install\b|\bvenv\b"),
    "runs the test suite": re.compile(r"\bpytest\b"),
    "runs a benchmark": re.compile(r"\bbenchmarks/"),
    "is a long job": re.compile(rf"\bmedcom simulate ({'|'.join(map(re.escape, SHIPPED_SCENARIOS))})\b"),
    "needs a running dask cluster": re.compile(r"^dask (scheduler|worker)\b|--scheduler\b"),
}


def readme_commands(text: str) -> list[str]:
    """The command lines of the ```sh blocks (comments and blank lines left out)."""
    lines = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.M | re.S):
        lines += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines


COMMANDS = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def _skip_reason(command: str) -> str | None:
    return next((why for why, pattern in SKIPPED.items() if pattern.search(command)), None)


def test_the_readme_has_commands_to_run() -> None:
    runnable = [c for c in COMMANDS if _skip_reason(c) is None]
    assert len(runnable) >= 8, runnable
    assert any("medcom validate" in c for c in runnable) and any("medcom replay" in c for c in runnable)
    assert any("medcom simulate" in c for c in runnable) and any("medcom build" in c for c in runnable)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("readme") / "medcom"
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__",
                                                                 ".pytest_cache", ".ruff_cache", "results"))
    return target


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_as_written(command: str, copy: Path, tmp_path: Path) -> None:
    if (why := _skip_reason(command)) is not None:
        pytest.skip(f"the command {why}")
    work = tmp_path / "work"
    shutil.copytree(copy, work)  # each command in a fresh copy: outputs of one do not feed another
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), (command, run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-2000:]

