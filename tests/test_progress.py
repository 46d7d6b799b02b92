"""Progress on stderr: lines every few seconds when it is not a terminal (CI logs, nohup), nothing when off."""

import io
import re
import time

from medcom.progress import Progress


def test_lines_say_tasks_done_rate_and_time_left_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(3, "simulating x", "replications", "episodes", stream=stream, every=0.05) as bar:
        time.sleep(0.12)  # nothing done yet: the timer still says how long it has been
        bar.done(1000)
        time.sleep(0.12)
        bar.done(1000)
        bar.done(1000)
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r"simulating x: 0/3 replications, 0 episodes/s, \d+ s so far", lines[0])
    assert any(re.fullmatch(r"simulating x: 1/3 replications, [\d,]+ episodes/s, about \d+ s left", line)
               for line in lines)
    assert re.fullmatch(r"simulating x: 3/3 replications, [\d,]+ episodes/s, done in \d+ s", lines[-1])
    assert sum("3/3" in line for line in lines) == 1  # the timer stops with the run


def test_silent_when_disabled() -> None:
    stream = io.StringIO()
    with Progress(2, "x", "replications", "episodes", enabled=False, stream=stream, every=0.01) as bar:
        time.sleep(0.05)
        bar.done(5)
        bar.done(5)
    assert stream.getvalue() == ""
