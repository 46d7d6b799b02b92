"""The counterpart's clock: the real calendar (Europe/Copenhagen) from `--start`, accelerated by `--speed`.

Two readings of one clock. The *senders' clock* says what time it is now: medcom stamps what it sends with it and
a SUT on the same start and speed does the same. The *judge's clock* is SimPy's `RealtimeEnvironment` (factor
1/speed, not strict: a slow moment is caught up, never an error) running the engine; it runs `grace` wall seconds
behind the senders' clock, so that a message sent just before a deadline, still on its way (a file being renamed,
an HTTP request, a message being read), is judged at the instant it says it was sent, as `medcom replay` of the
log will judge it. A deadline is therefore reported `grace` wall seconds after it passed: at once, for a tester.

`epoch` is the wall time (time.time()) at which the clock shows `start`: two processes given the same epoch run
on one clock, however long each took to start.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import simpy.rt


class LiveClock:
    def __init__(self, start: datetime, speed: float, epoch: float, grace: float) -> None:
        self.start = start.astimezone(UTC)
        self.speed, self.epoch, self.grace = speed, epoch, grace
        # env time t is the instant start + t on the judge's clock; it begins at -grace (the senders' start), at
        # wall time `epoch`, on the monotonic clock SimPy sleeps by: env time 0 comes `grace` wall seconds later
        self.env = simpy.rt.RealtimeEnvironment(initial_time=-grace * speed, factor=1 / speed, strict=False)
        self.env.real_start = time.monotonic() + (epoch - time.time())

    def now(self, wall: float | None = None) -> datetime:
        """The senders' clock at `wall` (time.time(); now if None)."""
        return self.start + timedelta(seconds=((time.time() if wall is None else wall) - self.epoch) * self.speed)

    def instant(self, env_time: float) -> datetime:
        """The instant an env time stands for; `seconds`' inverse."""
        return self.start + timedelta(seconds=env_time)

    def seconds(self, instant: datetime) -> float:
        """The judge's clock reading (env time) for an instant."""
        return (instant.astimezone(UTC) - self.start).total_seconds()

    def judge_now(self) -> float:
        """Where the judge's clock is in real time (SimPy's `now` only moves when an event is processed)."""
        return (time.monotonic() - self.env.real_start) * self.speed + self.env.env_start

    def wall_wait(self, env_time: float) -> float:
        """Wall seconds until the judge's clock reaches `env_time` (negative: already passed)."""
        return self.env.real_start + (env_time - self.env.env_start) / self.speed - time.monotonic()

    @property
    def grace_span(self) -> timedelta:
        """The grace on the flow's clock."""
        return timedelta(seconds=self.grace * self.speed)
