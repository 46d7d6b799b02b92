"""Run a scenario: every variant, every replication (in worker processes if asked), and summarise.

Replication r of every variant draws the same patients (common random numbers), and each replication's
numbers depend only on the scenario, the seed and r, so the result is the same whatever the executor (local
processes or a dask cluster) and the worker count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from medcom.events.build import BuildResult, build
from medcom.executors import executor as make_executor
from medcom.progress import Progress
from simulator.costs import tax_rates_label
from simulator.marks import counts
from simulator.replication import BASE, replicate, settings_of
from simulator.scenario import Scenario
from simulator.simulation import Metrics, Simulation
from simulator.statistics import paired, summary

__all__ = ["BASE", "BOUNDS", "METRICS", "ScenarioResult", "emit_log", "replicate", "run_scenario", "settings_of"]

# The metrics of CONTRACT.md first, then ours.
METRICS = ("completion_tax_days", "completion_tax_dkk", "episodes", "discharges", "care_plans_late", "phone_calls",
           "acks_same_day_share", "bed_days_ready_waiting", "bed_days", "disputable_days", "municipal_messages",
           "occupancy_mean", "arrival_rate_x_mean_stay")
# The range each metric cannot leave (its confidence interval is clipped to it); the rest are counts (>= 0).
BOUNDS: dict[str, tuple[float, float | None]] = {"acks_same_day_share": (0.0, 1.0)}


@dataclass
class ScenarioResult:
    scenario: Scenario
    runs: dict[str, list[Metrics]]  # variant name (BASE first) -> one Metrics per replication

    def as_dict(self) -> dict[str, object]:
        base = self.runs[BASE]
        out: dict[str, object] = {
            "scenario": self.scenario.name, "replications": len(base), "seed": self.scenario.run.seed,
            "horizon_days": self.scenario.run.horizon_days,
            "warmup_days": self.scenario.run.warmup_days, "cooldown_days": self.scenario.run.cooldown_days,
            "description": self.scenario.run.description,
            "horizon_start": (self.scenario.run.start + timedelta(days=self.scenario.run.warmup_days)).isoformat(),
            "completion_tax_rates": tax_rates_label(self.scenario.base.policy, self.scenario.run),
            "metrics": _metrics(base),
            # every simulated episode, the warm-up's and the cool-down's with those counted (`episodes`)
            "episodes_simulated": summary([float(m.simulated_episodes) for m in base], 0.0),
            "completion_tax_dkk_by_municipality": _by_key([m.tax_dkk_by_municipality for m in base]),
            "violations_by_rule": _by_key([m.violations_by_rule for m in base]),
        }
        if self.scenario.marks:
            out["key_marks"] = counts(self.scenario.marks)
        if len(self.runs) > 1:
            out["variants"] = {name: {"description": self.scenario.descriptions.get(name, ""),
                                      "completion_tax_rates": tax_rates_label(settings_of(self.scenario, name).policy,
                                                                              self.scenario.run),
                                      "metrics": _metrics(runs),
                                      "completion_tax_dkk_by_municipality":
                                          _by_key([m.tax_dkk_by_municipality for m in runs])}
                               for name, runs in self.runs.items() if name != BASE}
            out["comparison"] = {name: {"against": BASE, "difference": {
                key: paired([m.values[key] for m in base], [m.values[key] for m in runs]) for key in METRICS}}
                for name, runs in self.runs.items() if name != BASE}
        return out


def _metrics(runs: list[Metrics]) -> dict[str, object]:
    return {key: summary([m.values[key] for m in runs], *BOUNDS.get(key, (0.0, None))) for key in METRICS}


def _by_key(tables: list[dict[str, float]] | list[dict[str, int]]) -> dict[str, object]:
    keys = sorted({k for t in tables for k in t})
    return {k: summary([float(t.get(k, 0)) for t in tables], 0.0) for k in keys}


def run_scenario(scenario: Scenario, *, workers: int = 1, executor: str = "local", scheduler: str | None = None,
                 progress: bool | None = None) -> ScenarioResult:
    """Every replication of the base and the variants on `executor` ("local" processes, or "dask": a local
    cluster of `workers` processes, or the running cluster at `scheduler`); progress on stderr unless False."""
    names = [BASE, *scenario.variants]
    tasks = [(name, r) for name in names for r in range(scenario.run.replications)]
    runs: dict[str, list[Metrics]] = {name: [] for name in names}
    with make_executor(executor, workers, scheduler) as ex, \
            Progress(len(tasks), f"simulating {scenario.name}", "replications", "episodes", enabled=progress) as bar:
        done = ex.map(partial(replicate, scenario=scenario), tasks,
                      on_done=lambda m: bar.done(m.simulated_episodes))
        for (name, _), metrics in zip(tasks, done, strict=True):
            runs[name].append(metrics)
    return ScenarioResult(scenario, runs)


def emit_log(scenario: Scenario, out: Path, replication: int = 0,
             formats: str = "national") -> tuple[Metrics, BuildResult]:
    """Simulate one replication of the base and write what happened as a MedCom log (in build's `formats`)
    plus events.jsonl."""
    simulation = Simulation(scenario.run, scenario.base, replication, keep_events=True)
    metrics = simulation.execute()
    return metrics, build(simulation.events, out, formats=formats)
