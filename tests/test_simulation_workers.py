"""What the processes of a simulation import: workers the simulation, not the summary statistics or the log
writers; the parent no plotting unless it draws charts."""

from __future__ import annotations

import pickle
import subprocess
import sys
from functools import partial
from pathlib import Path

from helpers.scenarios import SHIPPED, WEEK, scenario_file

from simulator.run import replicate
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "matplotlib", "medcom.events.build", "medcom.formats.fhir", "simulator.statistics")


def test_a_worker_unpickling_its_task_imports_only_the_simulation() -> None:
    """A spawned worker unpickles `run_scenario`'s task, which imports the module of its function: that was
    simulator.run, with scipy.stats and the FHIR builders (about 1.5 s before the first replication)."""
    task = pickle.dumps(partial(replicate, scenario=load_scenario(SHIPPED["nordjylland"])))
    code = ("import pickle, sys; pickle.loads(sys.stdin.buffer.read()); "
            f"print(' '.join(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", code], input=task, capture_output=True, check=True, cwd=ROOT)
    assert done.stdout.decode().split() == []
    assert "simulator.simulation" in sys.modules  # and the function is the one run_scenario maps


def test_simulate_without_out_draws_no_charts_and_imports_no_matplotlib(tmp_path: Path) -> None:
    """matplotlib (about a second) is imported where --out's charts are drawn, not before the workers start."""
    scenario = scenario_file(tmp_path / "s.toml", SHIPPED["nordjylland"], {**WEEK, "run.warmup_days": 1,
                                                                           "run.horizon_days": 2},
                             variants={})
    code = ("import sys; from click.testing import CliRunner; from medcom.cli import main; "
            f"result = CliRunner().invoke(main, ['simulate', {str(scenario)!r}, '--format', 'json']); "
            "assert result.exit_code == 0, result.output; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('matplotlib'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT)
    assert done.stdout.decode().split() == []
