"""Executors: the in-order process map shared by validate, replay and simulate, and the executors that run
independent tasks locally or on a dask.distributed cluster, in input order whatever order they finish in."""

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from threading import BrokenBarrierError

import pytest

from medcom import executors
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


def test_a_map_takes_its_items_a_window_at_a_time() -> None:
    """Issue 22: every item was queued at once and every result kept until the map ended (replay's parent held
    each message's events of a million-message log); now at most `CHUNKS_IN_FLIGHT` chunks a worker run ahead
    of what the caller has taken."""
    taken: list[int] = []

    def items() -> Iterator[int]:
        for n in range(1000):
            taken.append(n)
            yield -n

    results = map_in_order(abs, items(), workers=2, chunksize=3)
    assert next(results) == 0
    assert len(taken) <= (2 * executors.CHUNKS_IN_FLIGHT + 1) * 3  # a window, not the 1,000 items
    assert [0, *results] == list(range(1000))


def killed_on_two(item: int) -> int:
    if item == 2:
        os.kill(os.getpid(), 9)  # as the kernel's out-of-memory killer would
    return item


def first_quick_then_slow(item: int) -> int:
    if item:
        time.sleep(120)
    return item


def test_a_worker_killed_mid_task_is_one_error_not_a_hang() -> None:
    # Before: multiprocessing.Pool lost the task and spawned a new worker; the map waited for ever.
    with pytest.raises(ExecutorError, match="worker process ended"):
        list(map_in_order(killed_on_two, range(6), workers=2))


def test_leaving_a_map_early_ends_its_workers_instead_of_waiting_for_their_tasks() -> None:
    results = map_in_order(first_quick_then_slow, [0, 1, 1, 1], workers=2)
    assert next(results) == 0
    closing = threading.Thread(target=results.close)  # the caller stops reading (an error, a signal)
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive()  # it did not wait out the 120 s tasks


def half_a_result_then_killed(marker: str) -> int:
    """Die as a worker would when a signal or the out-of-memory killer comes while it sends its result: the
    start of a result in the pool's results pipe, the rest never."""
    import struct
    import sys

    frame = sys._getframe()
    while "result_queue" not in frame.f_locals:  # concurrent.futures' worker loop, up the stack
        frame = frame.f_back  # type: ignore[assignment]
    os.write(frame.f_locals["result_queue"]._writer.fileno(), struct.pack("!i", 1 << 20) + b"half")
    open(marker, "w").close()  # noqa: SIM115
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def test_ending_workers_when_one_died_sending_its_result_does_not_hang(tmp_path: Path) -> None:
    # Before: SIGTERM to the process group mid-run (Ctrl-C too: the parent then ends the workers) could hang
    # `replay --workers 2` for ever: the pool's thread read on for the rest of a half-sent result, and shutting
    # the pool down waited for it.
    marker = tmp_path / "sent"
    pool = executors.WorkerPool(2)
    outcome: list[object] = []

    def consume() -> None:
        try:
            outcome.extend(pool.map(half_a_result_then_killed, [str(marker)]))
        except BaseException as exc:  # noqa: BLE001 - what the map ended with, whatever it is
            outcome.append(exc)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    while not marker.exists():
        time.sleep(0.02)
    time.sleep(0.5)  # the pool's thread is now reading the half result
    closing = threading.Thread(target=pool.close, kwargs={"end": True}, daemon=True)
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive()
    reader.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], ExecutorError)


def test_a_signal_while_the_pool_starts_is_acted_on_once_it_has_started(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: a SIGHUP that came while the pool started its manager thread left the thread created but not
    # started; the command's clean-up then failed with "cannot join thread before it is started" (seen in CI).
    class Stopped(Exception):
        pass

    def stop(*_: object) -> None:
        raise Stopped

    real_start, sent = threading.Thread.start, []

    def start_after_a_hang_up(thread: threading.Thread) -> None:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGHUP)  # lands mid-way through the pool's start
        real_start(thread)

    before = signal.signal(signal.SIGHUP, stop)
    monkeypatch.setattr(threading.Thread, "start", start_after_a_hang_up)
    try:
        with pytest.raises(Stopped):
            list(map_in_order(abs, range(10), workers=2))
    finally:
        signal.signal(signal.SIGHUP, before)
    assert sent


def warmed(_: int) -> tuple[int, int, bool]:
    """Which process started this worker, how many IG packages it had read before its first task, and whether it
    has numpy (which reading documents does not need)."""
    import sys

    from medcom.formats.fhir import igpackages

    return os.getppid(), igpackages.package.cache_info().currsize, "numpy" in sys.modules


def test_a_pool_with_preloads_forks_its_workers_warm_from_a_server() -> None:
    # Issue 23: every worker was spawned, imported the FHIR stack and read the IG packages and compiled the
    # profiles on its own first messages (1.5-2 s of CPU each). Now forked from a server that did it once.
    pool = executors.WorkerPool(2, preload=("medcom.replay.warm", "medcom.replay.warm_fhir"))
    try:
        started = list(pool.map(warmed, range(4)))
    finally:
        pool.close()
    assert all(parent != os.getpid() for parent, _, _ in started)  # the server's children, not this process's
    assert all(packages > 0 for _, packages, _ in started)  # read before the worker's first task
    assert not any(numpy for _, _, numpy in started)  # (the spool's links imported it: ~0.1 s and ~10 MiB)


def burn(seconds: float) -> int:
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return os.getpid()


def test_the_fork_servers_workers_count_as_this_processs_children_once_the_pool_closes() -> None:
    # A fork server left to end with the command was never waited for: `time`, getrusage and the benchmarks
    # left its workers' CPU out of the command's (it looked as if they cost nothing).
    import resource

    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    before = children()
    pool = executors.WorkerPool(2, preload=("json",))
    try:
        list(pool.map(burn, [0.3, 0.3]))
    finally:
        pool.close()
    assert children() - before >= 0.6


@pytest.mark.parametrize("why", ["socket path too long", "no fork server on this platform"])
def test_a_fork_server_that_cannot_start_leaves_the_workers_spawned(monkeypatch: pytest.MonkeyPatch,
                                                                    why: str) -> None:
    # Its socket is a file in TMPDIR: a long TMPDIR made the path longer than a Unix socket allows, and
    # `replay --workers 2` failed with "AF_UNIX path too long". Windows has no fork server at all.
    from multiprocessing import forkserver

    def too_long() -> None:
        raise OSError("AF_UNIX path too long")

    def unusable() -> None:
        raise AssertionError("a platform without a fork server was asked to start one")

    if why == "socket path too long":
        monkeypatch.setattr(forkserver, "ensure_running", too_long)
    else:
        monkeypatch.setattr(executors, "get_all_start_methods", lambda: ["spawn"])
        monkeypatch.setattr(forkserver, "ensure_running", unusable)
    pool = executors.WorkerPool(2, preload=("medcom.replay.warm",))
    try:
        started = list(pool.map(warmed, range(2)))
    finally:
        pool.close()
    assert all(parent == os.getpid() for parent, _, _ in started)  # spawned by this process


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


class _Listener:
    """Something on 127.0.0.1 that is not a dask scheduler: it accepts and says nothing, or answers every
    connection with an HTTP error (issue 19, class 7)."""

    def __init__(self, answer: bytes | None) -> None:
        import socket
        import threading

        self.answer = answer
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.open.append(conn)
            if self.answer is not None:
                conn.sendall(self.answer)

    def close(self) -> None:
        self.server.close()
        for conn in self.open:
            conn.close()


@pytest.mark.parametrize("answer", [None, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4,
                                    b"\xff" * 64])
def test_something_else_listening_is_not_a_dask_scheduler(answer: bytes | None) -> None:
    # Before: an HTTP reply was read as a 3 EiB frame (MemoryError traceback after 23 s); a silent listener
    # kept the client waiting for ever.
    pytest.importorskip("distributed")
    listener = _Listener(answer)
    try:
        with pytest.raises(ExecutorError, match=r"^not a dask scheduler at tcp://127\.0\.0\.1:\d+: "), \
                DaskExecutor(scheduler=listener.address, connect_timeout="1s"):
            pass
    finally:
        listener.close()


@pytest.mark.parametrize("address", ["garbage://x:1", "tcp://no such host:1", "tcp://127.0.0.1"])
def test_a_malformed_scheduler_address_is_one_error_and_nothing_after(address: str) -> None:
    # Before: the right line, then (at exit) a 20 s stall and a traceback from the half-made client's
    # destructor; a subprocess, since that happens when the interpreter ends.
    pytest.importorskip("distributed")
    import subprocess
    import sys

    code = ("from medcom.executors import DaskExecutor, ExecutorError\n"
            "try:\n"
            f"    with DaskExecutor(scheduler={address!r}, connect_timeout='1s'):\n"
            "        pass\n"
            "except ExecutorError as exc:\n"
            "    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.startswith(f"cannot reach the dask scheduler at {address}: "), run.stdout
    assert run.stderr == "", run.stderr


def test_replay_with_a_scheduler_that_is_not_one_exits_2_in_one_line() -> None:
    pytest.importorskip("distributed")
    from pathlib import Path

    from helpers.cli import invoke, no_traceback

    listener = _Listener(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        run = no_traceback(invoke("replay", Path(__file__).parents[1] / "examples" / "log", "--executor", "dask",
                                  "--scheduler", listener.address))
    finally:
        listener.close()
    assert run.exit_code == 2
    assert [line for line in run.stderr.splitlines() if "dask" in line] == \
        [f"medcom replay: not a dask scheduler at {listener.address}: its reply is no dask message"]
