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


def test_counts_are_never_taken_for_a_cpr_number_on_a_line_or_a_bar() -> None:
    """240896/300006 documents has the shape of a CPR number in a longer run of digits (DDMMYY/XXXX): the masked
    stderr printed it as 240896/****06. Written 240,896/300,006 it is a count."""
    from medcom.identifiers import mask_cprs

    line, bar = io.StringIO(), io.StringIO()
    progress = Progress(300_006, "replay log: reading", "documents", "messages", stream=line, every=60)
    progress.count = 240_896
    assert "240,896/300,006 documents" in mask_cprs(progress.line())
    progress.close()
    from tqdm import tqdm

    from medcom.progress import BAR
    shown = tqdm(total=300_006, file=bar, bar_format=BAR, unit="document")
    shown.update(240_896)
    shown.close()
    assert "240,896/300,006 [" in mask_cprs(bar.getvalue())  # (its rate, in a test that takes no time, may be any)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_though_tqdm_is_imported_only_for_one() -> None:
    """tqdm is imported where a bar is shown (a replay whose stderr is no terminal never imports it): a terminal
    still gets the bar, with the description and counts."""
    stream = _Terminal()
    with Progress(2, "replay log: reading", "documents", "messages", stream=stream) as bar:
        assert bar._bar is not None and bar._timer is None
        bar.done(1)
        bar.done(1)
    assert "replay log: reading" in stream.getvalue() and "/2 [" in stream.getvalue()
