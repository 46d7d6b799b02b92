"""Progress of a long run on stderr: a tqdm bar on a terminal, else a line every few seconds (CI logs, nohup).

A line says how many tasks are done, the rate of the work they stand for (episodes, messages) and the time
left at that rate:

    simulating nordjylland-2024: 5/12 replications, 3,412 episodes/s, about 1 min 10 s left
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

LINE_EVERY = 5.0  # seconds between two lines when stderr is not a terminal
# Counts with thousands separators, on the bar as on a line: "240896/300006" has the shape of a CPR number written
# into a longer run of digits (DDMMYY/XXXX), and the masked stderr printed it as "240896/****06".
BAR = "{l_bar}{bar}| {n:,}/{total:,} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Progress:
    """`total` tasks (`unit`), each standing for some amount of work (`work_unit`, given to `done`).

    On a terminal a tqdm bar; otherwise a line every `every` seconds from a timer thread, whether or not a
    task finished meanwhile, and one when the last task is done. `enabled=False` shows nothing."""

    def __init__(self, total: int, desc: str, unit: str, work_unit: str, *, enabled: bool | None = None,
                 stream: TextIO | None = None, every: float = LINE_EVERY) -> None:
        self.total, self.desc, self.unit, self.work_unit = total, desc, unit, work_unit
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.enabled = enabled is not False
        self.count = 0
        self.work = 0.0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar: tqdm | None = None
        self._timer: threading.Thread | None = None
        if self.enabled and _is_terminal(self.stream):
            from tqdm import tqdm  # only for a bar: tqdm costs a replay ~20-30M instructions

            self._bar = tqdm(total=total, desc=desc, unit=unit.rstrip("s"), file=self.stream, leave=False,
                             bar_format=BAR)
        elif self.enabled:
            self._timer = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._timer.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._stop.set()
        if self._timer is not None:
            self._timer.join()

    def done(self, work: float = 0.0) -> None:
        """One more task finished, which did `work` (episodes, messages)."""
        with self._lock:
            self.count += 1
            self.work += work
            last = self.count == self.total
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.rate():,.0f} {self.work_unit}/s", refresh=False)
            self._bar.update()
        elif self.enabled and last:
            self._line()

    def rate(self) -> float:
        """Work a second since the start."""
        elapsed = time.monotonic() - self._started
        return self.work / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """What a progress line says now."""
        with self._lock:
            count, work = self.count, self.work
        elapsed = time.monotonic() - self._started
        if count >= self.total:
            tail = f"done in {_duration(elapsed)}"
        elif count:
            tail = f"about {_duration(elapsed / count * (self.total - count))} left"
        else:
            tail = f"{_duration(elapsed)} so far"
        rate = work / elapsed if elapsed > 0 else 0.0
        return f"{self.desc}: {count:,}/{self.total:,} {self.unit}, {rate:,.0f} {self.work_unit}/s, {tail}"

    def _line(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            if self.count < self.total:
                self._line()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
