"""One replication of one variant of a scenario: the function worker processes run.

Its own module so that a worker imports the simulation and nothing else: `simulator.run` also holds the
summary statistics (scipy.stats) and the log writer (the FHIR and OIOXML builders), about 1.5 s of imports on
a quiet machine, which every spawned worker paid before its first replication.
"""

from __future__ import annotations

from simulator.scenario import Scenario, Settings
from simulator.simulation import Metrics, Simulation

BASE = "base"


def settings_of(scenario: Scenario, name: str) -> Settings:
    return scenario.base if name == BASE else scenario.variants[name]


def replicate(task: tuple[str, int], scenario: Scenario) -> Metrics:
    """One replication of one variant (a module-level function, so that worker processes can run it)."""
    name, replication = task
    return Simulation(scenario.run, settings_of(scenario, name), replication).execute()
