"""Executors: the in-order process map shared by validate, replay and simulate, and the executors that run
independent tasks locally or on a dask.distributed cluster, in input order whatever order they finish in."""

import multiprocessing
import os
import time
from threading import BrokenBarrierError

import pytest

from medcom.executors import DaskExecutor, ExecutorError, LocalExecutor, executor, map_in_order


def meet_then_pid(task: tuple[int, object]) -> tuple[int, int]:
    """Wait until a second task is running too: it can only be on another worker (no timing assumption)."""
    item, barrier = task
    try:
        barrier.wait(timeout=60)  # type: ignore[attr-defined]
    except BrokenBarrierError:
        return item, -1  # no second task ran beside this one: the map sent both to one worker
    return item, os.getpid()


def finishing_out_of_order(item: int) -> int:
    time.sleep(0.05 * (3 - item))  # the first task finishes last
    return item * item


def test_results_in_input_order_and_heavy_tasks_spread_over_the_workers() -> None:
    with multiprocessing.get_context("spawn").Manager() as manager:
        barrier = manager.Barrier(2)
        results = list(map_in_order(meet_then_pid, [(i, barrier) for i in range(4)], workers=2))
    assert [item for item, _ in results] == [0, 1, 2, 3]
    pids = {pid for _, pid in results}
    assert -1 not in pids and len(pids) == 2  # one task per round trip: both workers get some
    assert list(map_in_order(abs, [-2, 1, -3], workers=1)) == [2, 1, 3]


def test_local_executor_reports_each_task_done() -> None:
    seen: list[int] = []
    with executor("local", workers=1) as ex:
        assert isinstance(ex, LocalExecutor)
        assert list(ex.map(finishing_out_of_order, range(4), on_done=seen.append)) == [0, 1, 4, 9]
    assert seen == [0, 1, 4, 9]


def test_dask_executor_gives_results_in_input_order_as_they_finish() -> None:
    pytest.importorskip("distributed")
    seen: list[int] = []
    with DaskExecutor(workers=2, processes=False) as ex:
        assert list(ex.map(finishing_out_of_order, range(4), on_done=seen.append)) == [0, 1, 4, 9]
    assert sorted(seen) == [0, 1, 4, 9]  # in the order they finished


def test_joining_a_running_cluster_by_its_scheduler_address() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            executor("dask", scheduler=cluster.scheduler_address) as ex:
        assert list(ex.map(abs, [-1, 2, -3])) == [1, 2, 3]


def test_unusable_executors_say_why() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(ExecutorError, match="--executor dask"):
        executor("local", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ExecutorError, match="unknown executor"):
        executor("ray")
    with pytest.raises(ExecutorError, match="cannot reach the dask scheduler"), \
            DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout="1s"):
        pass
