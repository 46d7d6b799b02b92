"""A patient's stay is driven by `Stay`, the admissions by `Arrival`, the municipality's work on a care plan and
the hospital's answers by `Task`s, not by SimPy processes: the same events, in the same order with the same
sequence numbers, as the arrivals process and a `Process` for each gave (the oracle below), ties in time
included, with two SimPy events fewer for each (the end of a task that nobody waits for yet is not queued).
The simulation's waits (`Wake`) and sendings (`Happening`) are SimPy `Timeout`s written out: the oracle uses
SimPy's own, with the engine told by a callback."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Generator
from pathlib import Path

import pytest
import simpy
from helpers.scenarios import SHIPPED, WEEK, scenario_file

from medcom import catalogue
from medcom.engine.engine import Context, Rule
from medcom.engine.rules import all_rules
from medcom.events import Event
from medcom.gc_tuning import batch_gc
from simulator.patients import Case, pick
from simulator.scenario import load_scenario
from simulator.simulation import Metrics, Simulation, Stay, patients
from simulator.tasks import Task


class ProcessArrivals(Simulation):
    """The simulation as it ran before `Arrival`, `Task`s, `Wake` and `Happening`: one arrivals process waiting
    on a timeout per admission, starting a SimPy process per stay, per care plan received and per answer, and
    waiting and sending on SimPy's own timeouts."""

    def start(self, generator: Generator[simpy.Event, object, None]) -> simpy.Event:
        self.processes += 1
        return self.env.process(generator)

    def until(self, seconds: float) -> simpy.Event:
        return self.env.timeout(max(0.0, seconds - self.env.now))

    def after(self, delay: float) -> simpy.Event:
        return self.env.timeout(delay)

    def sending(self, at: float, case: Case, kind: str, **data: object) -> simpy.Event:
        timeout = self.env.timeout(max(0.0, at - self.env.now))
        timeout.callbacks.append(lambda _: self.happen(case, kind, data))  # the engine first, then any waiter
        return timeout

    def send(self, at: float, case: Case, kind: str, **data: object) -> float:
        self.sending(at, case, kind, **data)
        return at

    def execute(self) -> Metrics:
        people = patients(self.run, self.s, self.replication)
        self.processes = len(people)

        def arrivals() -> Generator[simpy.Event, object, None]:
            for p in people:
                yield self.until(p.admitted)
                name = f"S{self.replication:02d}-{p.number:06d}"
                municipality = self.s.admissions.municipalities[pick(self.cum_municipality, p.draws.municipality)]
                self.env.process(self.hospital.stay(Case(p, name, municipality, f"{name}-CP", self.env.event())))

        with batch_gc():
            self.env.process(arrivals())
            self.engine.advance()
            return self._finish()


@pytest.mark.parametrize("process", ["poisson", "fixed"])  # fixed: admissions on the hour, many ties in time
def test_the_same_events_in_the_same_order_as_processes(tmp_path: Path, process: str) -> None:
    scenario = load_scenario(scenario_file(tmp_path / "s.toml", SHIPPED["nordjylland"],
                                           {**WEEK, "admissions.process": process}))
    ours = Simulation(scenario.run, scenario.base, 1, keep_events=True)
    oracle = ProcessArrivals(scenario.run, scenario.base, 1, keep_events=True)
    mine, theirs = ours.execute(), oracle.execute()
    assert len(ours.events) > 1000
    assert [(e.at, e.episode, e.kind, e.seq, e.data) for e in ours.events] == \
        [(e.at, e.episode, e.kind, e.seq, e.data) for e in oracle.events]
    assert (mine.values, mine.violations_by_rule, mine.tax_days_by_week) == \
        (theirs.values, theirs.violations_by_rule, theirs.tax_days_by_week)
    # Two SimPy events fewer a stay, care plan and answer (each process's start and end events), plus the
    # arrivals process's own two, less the ends that were waited for at their instant (a few).
    assert oracle.processes > 2 * mine.simulated_episodes
    fewer = theirs.engine_events - mine.engine_events - 2
    assert 2 * oracle.processes - fewer < 0.1 * oracle.processes


class JudgingAll(Simulation):
    """The simulation as it ran before the warm-up's and cool-down's episodes went unjudged: the rules run on every
    episode (each opened as the engine opens one it does not know yet)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        open_episode = self.engine.open_episode
        self.engine.open_episode = lambda name, *, judged=True: open_episode(name)  # type: ignore[method-assign]


class Seen(Rule):
    """Every episode a rule hook or a closing hook ran on."""

    id = "SEEN"
    kinds = None

    def __init__(self, seen: set[str]) -> None:
        self.seen = seen

    def on_event(self, ctx: Context, event: Event) -> None:
        self.seen.add(ctx.episode.name)

    def on_close(self, ctx: Context) -> None:
        self.seen.add(ctx.episode.name)


def test_the_rules_judge_the_counted_episodes_alone_with_the_same_numbers(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No rule runs on an episode admitted in the warm-up or the cool-down (nothing reads their findings): the same
    events in the same order, and the same numbers, as when every episode was judged."""
    scenario = load_scenario(scenario_file(tmp_path / "s.toml", SHIPPED["nordjylland"],
                                           {**WEEK, "run.warmup_days": 3, "run.cooldown_days": 3}))
    seen: dict[str, set[str]] = {"ours": set(), "all": set()}
    for name, simulation in (("ours", Simulation), ("all", JudgingAll)):
        monkeypatch.setattr("simulator.simulation.all_rules", lambda name=name: [*all_rules(), Seen(seen[name])])
        if name == "ours":
            ours = simulation(scenario.run, scenario.base, 1, keep_events=True)
            mine = ours.execute()
        else:
            oracle = simulation(scenario.run, scenario.base, 1, keep_events=True)
            theirs = oracle.execute()
    people = patients(scenario.run, scenario.base, 1)
    counted = {f"S01-{p.number:06d}" for p in people if p.counted}
    assert 0 < len(counted) < len(people) and seen["ours"] == counted and seen["all"] > counted
    assert [(e.at, e.episode, e.kind, e.seq, e.data) for e in ours.events] == \
        [(e.at, e.episode, e.kind, e.seq, e.data) for e in oracle.events]
    assert (mine.values, mine.violations_by_rule, mine.tax_days_by_week, mine.tax_dkk_by_municipality,
            mine.discharges_by_hour) == (theirs.values, theirs.violations_by_rule, theirs.tax_days_by_week,
                                         theirs.tax_dkk_by_municipality, theirs.discharges_by_hour)


def test_the_simulation_runs_no_rule_that_reports_only_obligations(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The metrics read violations and the tax, never obligations: a rule that reports nothing else (ADM-2, which
    the catalogue lists for `medcom replay` only) is left out of the simulation's engine, with the same events and
    numbers as when it ran."""
    scenario = load_scenario(scenario_file(tmp_path / "s.toml", SHIPPED["nordjylland"], WEEK))
    ours = Simulation(scenario.run, scenario.base, 1, keep_events=True)
    assert "ADM-2" in {r.id for r in all_rules()} and "ADM-2" not in {r.id for r in ours.engine.rules}
    mine = ours.execute()
    monkeypatch.setattr(catalogue, "RULES", tuple(dataclasses.replace(info, commands=("replay", "simulate"))
                                                  if info.id == "ADM-2" else info for info in catalogue.RULES))
    oracle = Simulation(scenario.run, scenario.base, 1, keep_events=True)
    assert "ADM-2" in {r.id for r in oracle.engine.rules}
    theirs = oracle.execute()
    assert [(e.at, e.episode, e.kind, e.seq, e.data) for e in ours.events] == \
        [(e.at, e.episode, e.kind, e.seq, e.data) for e in oracle.events]
    assert (mine.values, mine.violations_by_rule, mine.tax_days_by_week, mine.tax_dkk_by_municipality) == \
        (theirs.values, theirs.violations_by_rule, theirs.tax_days_by_week, theirs.tax_dkk_by_municipality)


def test_a_replication_leaves_no_cyclic_garbage_behind_its_episodes(tmp_path: Path) -> None:
    """What a stay, its tasks and its events hold is freed by reference counting once they are done. Objects in a
    cycle, one set an episode, would wait for the cyclic collector, whose passes over a region-year's live
    objects cost seconds (a task keeping its own bound `_resume` made one: 1.4 s more of collection in a 120-day
    replication, while a 7-day one showed none)."""
    scenario = load_scenario(scenario_file(tmp_path / "s.toml", SHIPPED["nordjylland"], WEEK))
    simulation = Simulation(scenario.run, scenario.base, 1)  # kept alive: only what it let go is counted
    gc.collect()
    gc.disable()
    try:
        metrics = simulation.execute()
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert metrics.simulated_episodes > 1000
    assert unreachable < metrics.simulated_episodes // 4  # a few of the engine's own (258 for 2,300 episodes)


def test_a_stay_goes_on_past_an_event_already_processed_and_stops_on_a_failed_one() -> None:
    env = simpy.Environment()
    done = env.event()
    done.succeed("booked")
    env.run()  # `done` is processed: a stay yielding it goes on at once with its value, as a process does
    seen: list[object] = []

    def stay() -> Generator[simpy.Event, object, None]:
        seen.append((yield done))
        seen.append((yield env.timeout(5, value="later")))
        failing = env.event()
        failing.fail(ValueError("no reception"))
        yield failing

    Stay(env, stay())
    assert seen == ["booked"]
    with pytest.raises(ValueError, match="no reception"):
        env.run()
    assert seen == ["booked", "later"] and env.now == 5

    failed = env.event()
    failed.fail(KeyError("gone"))
    failed.defused = True
    env.run()  # processed, and failed

    def late() -> Generator[simpy.Event, object, None]:
        yield failed

    with pytest.raises(KeyError, match="gone"):
        Stay(env, late())  # a failed event already processed is no value to go on with


def _waiting_at_the_end(start: Callable[[simpy.Environment, Generator[simpy.Event, object, None]], simpy.Event],
                        early: bool) -> list[tuple[float, str]]:
    """What happens, in order, when processes ask for a task (or a process) that ends at 5: at 5 before the
    end's turn (if `early`), at 5 after it, and at 6. The task is started as the simulation starts one: by a
    process that then waits without scheduling anything."""
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []
    task: simpy.Event | None = None

    def waiter(name: str) -> Generator[simpy.Event, object, None]:
        seen.append((env.now, f"{name} asks"))
        yield task  # type: ignore[misc]  # set at time 0
        seen.append((env.now, f"{name} goes on"))

    def ask(name: str) -> Callable[[simpy.Event], None]:
        def start_waiter(_: simpy.Event) -> None:
            env.process(waiter(name))
        return start_waiter

    def between(_: simpy.Event) -> None:
        seen.append((env.now, "between"))
        env.timeout(0).callbacks.append(ask("after"))  # at 5, after the end's turn

    def work() -> Generator[simpy.Event, object, None]:
        yield env.timeout(5)
        if early:
            env.timeout(0).callbacks.append(ask("early"))  # at 5, before the end's turn
        env.timeout(0).callbacks.append(between)
        seen.append((env.now, "work done"))

    def main() -> Generator[simpy.Event, object, None]:
        nonlocal task
        task = start(env, work())
        yield env.event()  # waits for what never comes, scheduling nothing

    env.process(main())
    env.timeout(6).callbacks.append(ask("later"))
    env.run()
    return seen


@pytest.mark.parametrize("early", [True, False])
def test_a_task_ends_where_a_process_would_for_whoever_waits(early: bool) -> None:
    """The end of a task nobody waited for yet is not queued; one who asks at the same instant before its turn
    still waits for its turn, one who asks after it or later goes on at once: as with a process."""
    ours = _waiting_at_the_end(Task, early)
    assert ours == _waiting_at_the_end(lambda env, generator: env.process(generator), early)
    order = [what for _, what in ours]
    assert order.index("after asks") > order.index("between")
    if early:
        assert order.index("early asks") < order.index("between") < order.index("early goes on")
