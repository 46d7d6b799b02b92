"""A patient's stay is driven by `Stay` and the admissions by `Arrival`, not by SimPy processes: the same events,
in the same order with the same sequence numbers, as the arrivals process and a `Process` per stay gave (the
oracle below), ties in time included, with two SimPy events fewer an episode."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
import simpy
from helpers.scenarios import SHIPPED, WEEK, scenario_file

from medcom.gc_tuning import batch_gc
from simulator.patients import Case, pick
from simulator.scenario import load_scenario
from simulator.simulation import Metrics, Simulation, Stay, patients


class ProcessArrivals(Simulation):
    """The simulation as it ran before `Arrival` and `Stay`: one arrivals process waiting on a timeout per
    admission, starting a SimPy process per stay."""

    def execute(self) -> Metrics:
        people = patients(self.run, self.s, self.replication)

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
    # Two SimPy events fewer an episode (the stay's start and end events), plus the arrivals process's own two.
    assert mine.engine_events == theirs.engine_events - 2 * mine.simulated_episodes - 2


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

    Stay(stay())
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
        Stay(late())  # a failed event already processed is no value to go on with
