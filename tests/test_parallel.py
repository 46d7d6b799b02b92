"""The in-order process map shared by validate, replay and simulate."""

import os
import time

from medcom.executors import map_in_order


def slow_pid(item: int) -> tuple[int, int]:
    time.sleep(0.3)
    return item, os.getpid()


def test_results_in_input_order_and_heavy_tasks_spread_over_the_workers() -> None:
    results = list(map_in_order(slow_pid, range(4), workers=2))
    assert [item for item, _ in results] == [0, 1, 2, 3]
    assert len({pid for _, pid in results}) == 2  # one task per round trip: both workers get some
    assert list(map_in_order(abs, [-2, 1, -3], workers=1)) == [2, 1, 3]
