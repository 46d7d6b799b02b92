"""What a simulation worker process imports: the simulation, not the summary statistics or the log writers."""

from __future__ import annotations

import pickle
import subprocess
import sys
from functools import partial
from pathlib import Path

from helpers.scenarios import SHIPPED

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
