"""Generators driven as SimPy drives a `Process`, with two SimPy events fewer each and the same order of all others.

A `Process` costs two events besides those its generator waits for: its start (an urgent event at once, which
runs the generator's first step) and its end (an event at once, whose processing wakes whoever waits for the
process). A `Task` runs the first step when made. The simulation starts one only where the starter then waits
without scheduling anything (it yields the task, or an event not yet triggered), so the start event would have
been the very next one processed and nothing is scheduled in between either way.
At its end it takes the end event's place in SimPy's order (its sequence number) but enters the queue only if
someone waits for it then or later at the same instant; afterwards it reads as processed. Nothing else changes
place: SimPy orders events by (time, priority, sequence number), and a number taken but not used moves nothing.

`Stay` (a patient's stay, which nothing waits for) and the municipality's work on a care plan and the hospital's
answer to a question (which the stay and the municipality wait for) are tasks; `tests/test_simulation_stay.py`
compares a whole simulation with processes as the oracle.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush

import simpy
from simpy.events import NORMAL, PENDING


class Task(simpy.Event):
    """A generator yielding SimPy events, resumed by each as a `Process` is, and an event that a process or
    another task may wait for: it succeeds (value None) when the generator ends."""

    def __init__(self, env: simpy.Environment, generator: Generator[simpy.Event, object, None]) -> None:
        self.env = env
        self._waiting: list[object] | None = []
        self._value = PENDING
        self._end: tuple[float, int] | None = None  # when it ended and the end event's sequence number, unqueued
        self._generator = generator
        self._resume(None)

    @property  # type: ignore[override]  # SimPy's plain attribute, read and written by the environment
    def callbacks(self) -> list[object] | None:
        """Who waits for the end (None: processed). Asked after an unqueued end, it queues the end event if the
        clock is still at that instant (its turn may not have come), else the end reads as processed."""
        end = self._end
        if end is not None:
            self._end = None
            if self.env.now > end[0]:
                self._waiting = None
            else:
                heappush(self.env._queue, (end[0], NORMAL, end[1], self))
        return self._waiting

    @callbacks.setter
    def callbacks(self, value: list[object] | None) -> None:
        self._waiting = value

    def _resume(self, event: simpy.Event | None) -> None:
        """Go on with the value of `event` (None: start) until the generator waits for an event not yet processed."""
        while True:
            if event is None:
                value = None
            elif event._ok:
                value = event._value
            else:  # no simulated event fails; one that did is a fault of the simulation: stop with it
                event._defused = True
                raise event._value
            try:
                event = self._generator.send(value)
            except StopIteration:
                self._finish()
                return
            if event.callbacks is not None:
                event.callbacks.append(self._resume)
                return
            # processed already (e.g. the reception was done first): go on at once, as a Process does

    def _finish(self) -> None:
        self._ok, self._value = True, None
        env = self.env
        if self._waiting:  # someone waits: woken by the end event, as a Process's waiters are
            env.schedule(self, NORMAL)
        else:  # the end event's place in the order, taken now; queued only if asked for at this instant
            self._end = (env.now, next(env._eid))


class Wake(simpy.Event):
    """SimPy's `Timeout` with value None, made without its check of the delay and its `schedule` call (the same
    queue entry, taken at the same moment): the simulation waits on a few a patient, each at a delay it has made
    non-negative itself."""

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class Stay(Task):
    """A patient's stay: a task nothing waits for (kept as a name for what it drives)."""
