"""The counterpart's clock: the real calendar (Europe/Copenhagen) from `--start`, accelerated by `--speed`.

Two readings of one clock. The *senders' clock* says what time it is now: medcom stamps what it sends with it and
a SUT on the same start and speed does the same. The *judge's clock* is SimPy's `RealtimeEnvironment` (factor
1/speed, not strict: a slow moment is caught up, never an error) running the engine; it runs `grace` wall seconds
behind the senders' clock, so that a message sent just before a deadline, still on its way (a file being renamed,
an HTTP request, a message being read), is judged at the instant it says it was sent, as `medcom replay` of the
log will judge it. A deadline is therefore reported `grace` wall seconds after it passed: at once, for a tester.

`epoch` is the wall time (time.time()) at which the clock shows `start`: two processes given the same epoch run
on one clock, however long each took to start.

The grace is also the counterpart's own margin: on a loaded machine its process can fall behind the wall clock (an
event processed after it was due, a message read long after it arrived, a thread not run at all for a while). Lag
within medcom's half of the grace (`share`; the other half is the SUT's and the transport's) changes no verdict;
beyond it, a verdict may be medcom's lag and not the system under test's, and the session says so (`wall_wait`
past zero for SimPy's events, `StallMeter` for the moments the whole process stood still).
"""

from __future__ import annotations

import threading
import time
from collections import deque
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

    def mono(self, wall: float) -> float:
        """The monotonic reading of a wall time (time.time()), on the clock SimPy sleeps by."""
        return self.env.real_start + (wall - self.epoch)

    @property
    def share(self) -> float:
        """medcom's half of the grace (wall seconds): the other half is for the SUT and the transport, so that a
        message each end handles within its half reaches the judge within the grace."""
        return self.grace / 2

    @property
    def grace_span(self) -> timedelta:
        """The grace on the flow's clock."""
        return timedelta(seconds=self.grace * self.speed)


class StallMeter:
    """The moments this process stood still: a thread that wakes every `interval` seconds and keeps each gap much
    longer than that (the process was not run: a loaded machine, a stop, a long hold of the interpreter lock).

    A transport thread that stamps a message's arrival after such a gap stamped it up to the gap late; the session
    reads `stalled_before(stamp)` to know how early the message may really have come. About fifty cheap wake-ups a
    second; the last `KEEP` gaps are kept (memory bounded whatever the run's length).
    """

    KEEP = 4096

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.last = time.monotonic()
        self.gaps: deque[tuple[float, float]] = deque(maxlen=self.KEEP)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.last = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="medcom-counterpart-stalls", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None  # no beats any more: no gap is going on

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            self.note(time.monotonic())

    def note(self, now: float) -> None:
        """A beat at `now` (monotonic): a gap since the last one beyond twice the interval was a stall."""
        if now - self.last > 2 * self.interval:
            self.gaps.append((self.last + self.interval, now))
        self.last = now

    def stalled_before(self, moment: float) -> float:
        """Seconds the process may have stood still just before `moment` (monotonic): the part before it of a gap
        that `moment` falls in or just after, or of the gap still going on; 0 if it was running."""
        slack = 2 * self.interval
        if self._thread is not None and moment > self.last + slack:  # a gap not yet ended (the beat not yet run)
            return moment - (self.last + self.interval)
        for start, end in reversed(list(self.gaps)):  # list(): one step under the interpreter lock, never torn
            if start < moment <= end + slack:
                return moment - start
            if end + slack < moment:
                break
        return 0.0
