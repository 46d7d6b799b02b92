"""Where independent tasks run: this process, a pool of local processes, or a dask.distributed cluster.

An executor maps a picklable function over picklable tasks and yields the results in input order, whatever
order they finish in; `on_done` is called in this process each time a task finishes (progress). Results do
not depend on the executor or the number of workers as long as each task depends only on its input (the
simulation's replications and replay's partitions do). Make one with `executor(...)` and use it as a context
manager: a dask executor starts its local cluster (or connects to `scheduler`) on entry and lets go on exit.

    with executor("dask", workers=2) as ex:
        for result in ex.map(fn, tasks, on_done=bar.update):
            ...

`map_in_order` is the local pool alone, for many small tasks (validate reads documents with it); `WorkerPool`
keeps its workers for several maps (a local executor's, inside its `with` block). A pool given modules to
`preload` forks its workers from a server process that imported them once (see `WorkerPool`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
# The pool's modules (concurrent.futures.process, multiprocessing's fork server and connections: ~85 M
# instructions) are imported where a pool starts: a run of one worker, in this process, never needs them.

T = TypeVar("T")
R = TypeVar("R")

SOURCES_PER_TASK = 32  # input documents sent to a worker at a time
CHUNKS_IN_FLIGHT = 4  # chunks of tasks `map_in_order` has queued or done, not yet taken, per worker
EXECUTORS = ("local", "dask")
CONNECT_TIMEOUT = "10s"  # how long to wait for a scheduler given by address


class ExecutorError(RuntimeError):
    """An executor that cannot be used (dask missing, no scheduler at the address); one line for the user."""


class Executor(Protocol):
    shares_files: bool  # its tasks run on this machine: they can read this process's temporary files
    in_process: bool  # its tasks run in this process (one local worker): nothing needs pickling

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_done: Callable[[R], None] | None = None,
            chunksize: int = 1) -> Iterator[R]: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


def map_in_order(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, chunksize: int = 1) -> Iterator[R]:
    """fn(item) for each item, in input order. With workers > 1, `fn` must be picklable (module level or a
    partial of one); processes are spawned, so results do not depend on what the parent imported. Many small
    items: a `chunksize` of tens saves round trips; few heavy ones (replications): 1, so that every worker gets
    some. At most `CHUNKS_IN_FLIGHT` chunks a worker are queued or done and not yet taken, and a result is let go
    as it is taken: memory holds a window of the results, not all of them (all were queued at once and every
    future kept: replay's parent held each message's pickled events and each partition's report entries until
    the end, about 1.8 kB a message). The workers end with the map: `WorkerPool` keeps them for several maps."""
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = WorkerPool(workers)
    try:
        yield from pool.map(fn, items, chunksize)
    finally:
        pool.close()


class WorkerPool:
    """`workers` processes, started by the first map and kept for every later one until `close`: a
    partitioned replay reads its documents and then replays its partitions on the same workers (each pass started
    a pool of its own: every worker was spawned and imported medcom's replay twice). What reading left in a worker
    (the FHIR stack, IG packages, compiled profiles, remembered walks) stays with it: a fixed amount of memory a
    worker. A map left before its end (an error, a signal, the caller stopped reading) ends the workers at once; a
    later map starts new ones.

    Workers are spawned (a fresh interpreter each), or, given `preload` (module names), forked from
    multiprocessing's fork server, a process of its own that imported those modules once when the pool started:
    each spawned worker paid the imports and its first reads again (the FHIR stack, IG packages and compiled
    profiles: 1.5-2 s of CPU a worker). The server is started from a clean interpreter, never from this process:
    it holds no thread, lock, open file or personal data of the run, only what its modules made. One server a
    process, stopped (and waited for, so that its CPU time is this process's children's) when the pool closes."""

    def __init__(self, workers: int, preload: Sequence[str] = ()) -> None:
        self.workers = workers
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._context: BaseContext | None = None  # spawn, or the fork server (once started)

    def start(self) -> None:
        """Start the fork server now, if there is one to start: it imports its modules while this process goes
        on (the first map's workers wait for it). Nothing to do for spawned workers."""
        if self.preload and self._context is None:
            self._context = get_context("forkserver") if _start_fork_server(self.preload) else get_context("spawn")

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 1) -> Iterator[R]:
        """As `map_in_order`, on this pool's workers."""
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            _tracker_outlives_hangup()
            self.start()
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self._context or get_context("spawn"),
                                             initializer=_quiet_worker)
        pool = self._pool
        finished = False
        chunks = _chunks(items, chunksize)
        pending: deque[Future[list[R]]] = deque()
        try:
            while True:
                while len(pending) < self.workers * CHUNKS_IN_FLIGHT and (chunk := next(chunks, None)) is not None:
                    with _signals_deferred():  # the pool's processes and threads start whole, or shutting down fails
                        pending.append(pool.submit(_apply, fn, chunk))
                if not pending:
                    break
                yield from pending.popleft().result()
            finished = True
        except BrokenProcessPool:
            raise ExecutorError("a worker process ended before its task did (killed, or out of memory)") from None
        finally:
            if not finished:  # an error, a signal, or the caller stopped reading: nothing left is wanted
                self.close(end=True)

    def close(self, *, end: bool = False) -> None:
        """Let the workers go: when they are idle (`end` False), or at once (SIGTERM to each). Never a future
        cancelled (no cancel_futures, not Executor.map, whose iterator cancels when closed): with workers ended by
        a signal, CPython 3.11's pool thread set an exception on a cancelled future and printed an
        InvalidStateError traceback (python/cpython#107219, fixed in later versions). Ended workers break the
        pool, which fails every pending future itself."""
        pool, self._pool = self._pool, None
        if pool is not None:
            if end:
                _end_workers(pool)
            pool.shutdown(wait=True)
        context, self._context = self._context, None
        if context is not None and context.get_start_method() == "forkserver":
            _stop_fork_server()


def _start_fork_server(preload: tuple[str, ...]) -> bool:
    """The fork server running with `preload` imported (its start returns at once: the imports go on in it); a
    server already running keeps what it preloaded (multiprocessing has one a process). False if it cannot start:
    its socket is a file in TMPDIR, whose path may be longer than a Unix socket's 107 bytes, and a platform may have
    no fork server at all (Windows)."""
    if "forkserver" not in get_all_start_methods():
        return False
    from multiprocessing import forkserver

    _tracker_outlives_hangup()  # (the server starts the tracker itself otherwise, without our signal mask)
    forkserver.set_forkserver_preload(list(preload))
    try:
        with _signals_deferred():  # (a signal mid-way left a server started and not known, busy with its preloads)
            forkserver.ensure_running()
    except OSError:
        return False
    return True


def _stop_fork_server() -> None:
    """End the fork server once its workers have ended, and wait for it: left to end with this process, it was
    never waited for, and `time` or getrusage left its workers' CPU out of the command's. Ended by SIGTERM, not
    by closing its "alive" pipe alone: it reads that pipe only once its preloads are done, and a run that ended
    before its first worker waited for them. Through multiprocessing's own stop (private; CPython's tests use it),
    which also removes its socket."""
    from multiprocessing import forkserver

    server = forkserver._forkserver  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):
        os.kill(server._forkserver_pid, signal.SIGTERM)
    with contextlib.suppress(Exception):
        server._stop()


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, max(size, 1))):
        yield chunk


def _apply(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    """fn over one chunk of items, in a worker."""
    return [fn(item) for item in chunk]


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to every worker still running, so that leaving early does not wait for their tasks. A pool, not
    multiprocessing.Pool: that one spawned new workers in place of ones a signal to the process group had ended,
    and those printed tracebacks when the pool's semaphores were gone by the time they started."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):  # 3.11-3.13: pid -> Process
            with contextlib.suppress(Exception):
                process.terminate()
    # A worker ended while it sent a result left part of it in the results pipe: the pool's thread read on for the
    # rest for ever, since this process holds the pipe's writing end too (it never writes there), and shutting the
    # pool down waited for that thread (a SIGTERM to the process group mid-run hung `replay --workers 2`). With
    # this end closed, the pipe ends when the workers have: the thread reads what is whole, then EOF.
    with contextlib.suppress(Exception):
        pool._result_queue._writer.close()  # type: ignore[attr-defined]


def _tracker_outlives_hangup() -> None:
    """Start multiprocessing's resource tracker with SIGHUP blocked (a signal mask survives fork and exec, and the
    tracker unblocks only SIGINT and SIGTERM, which it ignores). A hang-up of the process group killed it, and the
    tracker relaunched in its place printed a KeyError traceback for every semaphore the pool then released.
    Blocked, not ignored: a SIGHUP that comes meanwhile reaches this process once the mask is restored, and the
    command still unwinds and cleans up."""
    from multiprocessing import resource_tracker

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


_DEFERRED = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGTERM and SIGHUP held back while a pool starts its processes and threads, then acted on as they would
    have been: one that came mid-way left the pool's manager thread created but not started, and the pool could
    not be shut down (RuntimeError: cannot join thread before it is started). Held by Python's handlers, not by a
    signal mask: the kernel gives a process's signal to any thread that does not block it, and Python runs the
    handler in the main thread whichever thread took it. Only the main thread can set handlers; elsewhere (no
    handler of ours runs there either) nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before = {number: signal.signal(number, lambda signum, _frame: held.append(signum)) for number in _DEFERRED}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
        if held:
            signal.raise_signal(held[0])  # to the handler in force again (the command's: it unwinds the run)


def _quiet_worker() -> None:
    """A pool worker leaves Ctrl-C to its parent (which ends the pool): else every worker printed a
    KeyboardInterrupt traceback. SIGTERM and SIGHUP keep their default, ending the worker without a word."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class LocalExecutor:
    """This process (one worker) or spawned processes: inside its `with` block one `WorkerPool` serves every map
    (started by the first, ended on leaving the block); outside it, each map has workers of its own."""

    shares_files = True

    def __init__(self, workers: int = 1, preload: Sequence[str] = ()) -> None:
        self.workers = workers
        self.preload = tuple(preload)
        self.in_process = workers <= 1
        self._pool: WorkerPool | None = None

    def __enter__(self) -> LocalExecutor:
        if not self.in_process:
            self._pool = WorkerPool(self.workers, self.preload)
            self._pool.start()
        return self

    def __exit__(self, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(end=exc[0] is not None)  # leaving on an error or a signal: nothing left is wanted

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_done: Callable[[R], None] | None = None,
            chunksize: int = 1) -> Iterator[R]:
        results = self._pool.map(fn, items, chunksize) if self._pool is not None else \
            map_in_order(fn, items, self.workers, chunksize)
        for result in results:
            if on_done is not None:
                on_done(result)
            yield result


class DaskExecutor:
    """A dask.distributed cluster: a LocalCluster of `workers` single-threaded processes, or the running
    cluster whose scheduler listens at `scheduler` (e.g. tcp://10.0.0.5:8786). Its workers may be other
    machines: tasks get their data with them, never a path to a file here."""

    shares_files = False
    in_process = False

    def __init__(self, workers: int = 1, scheduler: str | None = None, *, processes: bool = True,
                 connect_timeout: str = CONNECT_TIMEOUT) -> None:
        self.workers, self.scheduler, self.processes = workers, scheduler, processes
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("the dask executor needs dask.distributed: pip install 'medcom[dask]'") from None
        if self.scheduler:
            self._client = _join(Client, self.scheduler, self.connect_timeout)
            return self
        self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=self.processes,
                                     dashboard_address=None)
        self._client = Client(self._cluster, set_as_default=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_done: Callable[[R], None] | None = None,
            chunksize: int = 1) -> Iterator[R]:
        """A task an item (`chunksize` is the local pool's: dask sends each task on its own)."""
        from distributed import as_completed

        if self._client is None:
            raise ExecutorError("use the dask executor inside a `with` block")
        # pure=False: every task runs, even two equal ones; the tasks are kept in a list so that the results
        # come out in input order while `on_done` sees them as they finish.
        futures = self._client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        done: dict[int, R] = {}
        following = 0
        try:
            for future in as_completed(futures, loop=self._client.loop):
                result = future.result()
                done[index[future.key]] = result
                if on_done is not None:
                    on_done(result)
                while following in done:
                    yield done.pop(following)
                    following += 1
        finally:
            for future in futures:
                future.release()


def _join(client_class: Any, address: str, timeout: str) -> Any:
    """A client of the dask scheduler at `address`, or ExecutorError in one line within about `timeout` (twice
    at worst): what listens there is first asked who it is, the whole exchange bounded (dask's own client
    bounds only the TCP connect: something else listening made it wait for ever or read an HTTP reply as a
    3 EiB frame), and a client that fails half-made is closed here (else its destructor stalls 20 s and prints
    a traceback)."""
    from dask.utils import parse_timedelta

    seconds = parse_timedelta(timeout)
    _ask_identity(address, seconds)
    made: list[Any] = []

    class _Client(client_class):  # type: ignore[misc,valid-type]
        def start(self, **kwargs: Any) -> None:
            made.append(self)
            super().start(**kwargs)

    try:
        return _Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:
        for half in made:
            with contextlib.suppress(Exception):
                half.close(timeout=1)
        raise ExecutorError(f"cannot join the dask scheduler at {address}: {_why(exc)}") from None


def _ask_identity(address: str, seconds: float) -> None:
    """ExecutorError unless a dask scheduler at `address` says it is one within `seconds`."""
    import asyncio
    import socket

    from distributed.comm import connect, parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme == "tcp":  # unreachable and not-a-scheduler are different mistakes
            with socket.create_connection(parse_host_port(location), timeout=seconds):
                pass
    except (OSError, ValueError, TypeError) as exc:
        raise ExecutorError(f"cannot reach the dask scheduler at {address}: {_why(exc)}") from None

    async def identity() -> Any:
        comm = await connect(address, timeout=seconds)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), seconds))
    except TimeoutError:
        raise ExecutorError(f"not a dask scheduler at {address}: no dask handshake within {seconds:g} s") from None
    except Exception as exc:  # anything a stranger's bytes make of dask's reader (MemoryError: a "3 EiB" frame)
        why = "its reply is no dask message" if isinstance(exc, MemoryError) else _why(exc)
        raise ExecutorError(f"not a dask scheduler at {address}: {why}") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ExecutorError(f"not a dask scheduler at {address}: it answers as {str(reply)[:80]!r}")


def _why(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + " ..."


def executor(kind: str = "local", workers: int = 1, scheduler: str | None = None,
             preload: Sequence[str] = ()) -> LocalExecutor | DaskExecutor:
    """The executor called `kind` (one of EXECUTORS); `scheduler` joins a running dask cluster; `preload`: the
    modules local workers start with (see `WorkerPool`)."""
    if kind == "local":
        if scheduler:
            raise ExecutorError("--scheduler joins a dask cluster: use it with --executor dask")
        return LocalExecutor(workers, preload)
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    raise ExecutorError(f"unknown executor {kind!r}; expected one of {', '.join(EXECUTORS)}")
