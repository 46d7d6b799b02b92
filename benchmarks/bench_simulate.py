"""Simulation speed for one region-year against a bare SimPy loop of the same event count, in the same run.

    python benchmarks/bench_simulate.py [--scenario scenarios/nordjylland-2024.toml] [--replication 0] [--days N]

medcom: one replication of the scenario's base (arrivals, hospital and municipality behaviour, every rule of
the engine, completion tax, metrics). Baseline: SimPy processes that only yield timeouts, as many SimPy events
as the replication scheduled. Targets: under 10 s a replication, ratio bare/medcom >= 0.3. `--days` counts fewer
days than the scenario's horizon (a short run on a shared machine: compare the ratio, not the seconds). Both are
timed in CPU seconds of this process (one thread): on a shared machine another program's load does not count.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import simpy

from simulator.scenario import load_scenario
from simulator.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]


def bare_simpy(events: int, per_process: int = 20) -> float:
    """CPU seconds for SimPy to process `events` events of processes that only wait."""
    env = simpy.Environment()

    def waiting(steps: int):
        for _ in range(steps):
            yield env.timeout(1.5)

    for _ in range(events // per_process):
        env.process(waiting(per_process - 1))  # the process start is an event too
    started = time.process_time()
    env.run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "nordjylland-2024.toml")
    parser.add_argument("--replication", type=int, default=0)
    parser.add_argument("--days", type=int, help="count this many days instead of the scenario's horizon")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.days:
        scenario = replace(scenario, run=replace(scenario.run, horizon_days=args.days))
    started = time.process_time()
    metrics = Simulation(scenario.run, scenario.base, args.replication).execute()
    ours = time.process_time() - started
    bare = bare_simpy(metrics.engine_events)
    episodes = int(metrics.values["episodes"])
    print(f"scenario {scenario.name}: {episodes} counted episodes ({scenario.run.horizon_days} days; with warm-up and "
          f"cool-down more are simulated), {metrics.engine_events} SimPy events")
    print(f"medcom simulation:  {ours:6.1f} s of CPU a replication  (target < 10 s)")
    print(f"bare SimPy loop:    {bare:6.1f} s of CPU for the same event count")
    print(f"ratio bare/medcom:  {bare / ours:6.2f}  (target >= 0.3)")


if __name__ == "__main__":
    main()
