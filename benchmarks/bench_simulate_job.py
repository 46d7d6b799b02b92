"""Where the CPU of a whole `medcom simulate` run goes: each replication timed in the worker that runs it, against
the workers' start-up, the parent's imports and the summary (statistics, bill, text report).

    python benchmarks/bench_simulate_job.py [--scenario scenarios/nordjylland-2024.toml] [--workers 2] [--days N]
                                            [--replications R]

The tasks are those of `simulator.run.run_scenario` (every variant x every replication) on the same local executor;
`--days` counts fewer days than the horizon (warm-up and cool-down stay). CPU seconds throughout (one thread a
process): the sum of the replications against the whole job says how much of it is not the simulation.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from simulator.replication import replicate
from simulator.scenario import Scenario
from simulator.simulation import Metrics

ROOT = Path(__file__).resolve().parents[1]


def timed(task: tuple[str, int], scenario: Scenario) -> tuple[Metrics, int, float, float]:
    """A replication as `run_scenario`'s workers run it, with its worker's pid, the worker's CPU before it and its
    own CPU."""
    before = time.process_time()
    metrics = replicate(task, scenario)
    return metrics, os.getpid(), before, time.process_time() - before


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "nordjylland-2024.toml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=int, help="count this many days instead of the scenario's horizon")
    parser.add_argument("--replications", type=int)
    args = parser.parse_args()
    wall = time.perf_counter()
    from medcom.executors import executor
    from medcom.reports.simulate import to_text
    from simulator.bill import bill
    from simulator.run import BASE, ScenarioResult
    from simulator.scenario import load_scenario, with_run

    imports = time.process_time()
    scenario = load_scenario(args.scenario)
    if args.replications:
        scenario = with_run(scenario, replications=args.replications)
    if args.days:
        scenario = replace(scenario, run=replace(scenario.run, horizon_days=args.days))
    tasks = [(name, r) for name in [BASE, *scenario.variants] for r in range(scenario.run.replications)]
    with executor("local", args.workers) as ex:
        done = list(ex.map(partial(timed, scenario=scenario), tasks))
    children = _cpu(resource.RUSAGE_CHILDREN)  # the workers, ended and waited for
    before_summary = time.process_time()
    runs: dict[str, list[Metrics]] = {name: [] for name, _ in tasks}
    for (name, _), (metrics, *_) in zip(tasks, done, strict=True):
        runs[name].append(metrics)
    result = ScenarioResult(scenario, runs)
    data = result.as_dict()
    data["bill"] = bill(result)
    to_text(data)
    summary = time.process_time() - before_summary
    parent = _cpu(resource.RUSAGE_SELF)
    total = parent + children
    replications = sum(cpu for *_, cpu in done)
    first: dict[int, float] = {}
    for _, pid, before, _ in done:
        first.setdefault(pid, before)
    start_up = sum(first.values()) if args.workers > 1 else 0.0
    print(f"{len(tasks)} replications of {scenario.run.horizon_days} days, --workers {args.workers}: "
          f"{time.perf_counter() - wall:.1f} s wall, {total:.1f} s of CPU (load {os.getloadavg()[0]:.1f})")
    for name, rows in runs.items():
        cpus = [cpu for (n, _), (*_, cpu) in zip(tasks, done, strict=True) if n == name]
        events = sum(m.engine_events for m in rows) // len(rows)
        print(f"  {name:26s} {' '.join(f'{c:6.2f}' for c in cpus)} s  ({events:,} SimPy events)")
    for label, cpu, what in (
            ("replications", replications, ""),
            ("worker start-up", start_up, "imports, first unpickling"),
            ("workers' rest", children - replications - start_up if args.workers > 1 else 0.0,
             "pickling, pool, shutdown"),
            ("parent: imports", imports, ""),
            ("parent: summary", summary, "statistics, bill, text report"),
            ("parent: rest", parent - imports - summary - (replications if args.workers <= 1 else 0.0),
             "scenario, pool, progress")):
        print(f"  {label:18s} {cpu:7.2f} s  {100 * cpu / total:5.1f} %  {what}")


if __name__ == "__main__":
    main()
