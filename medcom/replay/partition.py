"""Replay a log in partitions of episodes that do not depend on each other: memory bounded by a partition, not by
the log, and partitions run as tasks of an executor (local processes or a dask cluster).

Pass 1 reads the log as `load_log` does (documents in local worker processes; on a dask cluster they are read
here and checked on its workers, which need no access to the files) but spools every accepted message, and
every line of a timeline or side-car, to a file in input order, together with the keys that tie it to others:
its episode-of-care ids (and their aliases, and what a side-car name stands for), its patient's CPR number, the
ids of the messages it is or names (replies, receipts, corrections), its envelope. Whatever shares a key is
replayed together, so every rule of the input stage and of the engine sees in a partition what it would see in the
whole log: the episode of a receipt or a reply, duplicates and resends, a correction and what it corrects, one
episode id naming two patients, a side-car's names, a patient's other episodes. A receipt that answers no message of
the log needs no other input (its findings are input findings, merged in the whole log's order by the report).
The keys are the input rules' own (medcom.replay.input_rules.relations_of; hashed in medcom.replay.links).

The connected groups (medcom.replay.grouping) are packed into partitions of about `PARTITION_MESSAGES` items; pass
2 (medcom.replay.spool) copies each spooled item into its partition's file; each partition is then replayed alone
(by local workers: the processes that read the documents) with what the engine must know of the whole log
(`LogFacts`: receipts, phone calls, the clock's origin), estimated from pass 1 and checked against what the
partitions show (a partition run on a wrong estimate is run again). Each partition's outcome is built by the
caller's `build` (the report's typed episode entries, or calibration's stays) with a summary of them, and written
to disk item by item, to be read back in partition order or merged across partitions. A log replayed in memory
is this pipeline with one partition.

With several workers a log is split into a multiple of their number of partitions of about one size (each of at
least `SPLIT_MIN` items; `partition_size`), so that pass 2 keeps every worker busy. A log of at most
`partition_messages` items left whole is one partition whatever its links, so it is neither grouped nor routed.
Read in this process (one local worker), it is not spooled either: pass 1 holds its items in memory until they are
more than a partition (`_MemoryFirst`; then they go to the spool in input order and the rest follows them
there), and a log that stayed within a partition is replayed from memory, its built items kept in memory: no
pickling, no link keys, no numpy grouping (scipy's import alone cost about a quarter of a second a run).
"""

from __future__ import annotations

import errno
import heapq
import os
import pickle
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from medcom.events import Event
from medcom.events.from_messages import MessageEvents
from medcom.executors import SOURCES_PER_TASK, Executor, executor
from medcom.findings import Finding
from medcom.formats.inputs import Source, head, sample_sources
from medcom.formats.messages import ReadOptions
from medcom.gc_tuning import batch_gc
from medcom.policy import Policy
from medcom.replay import LogFacts, ReplayResult, replay
from medcom.replay.load import Read, ReplayInput, Unit, read_log, read_messages, take_read

if TYPE_CHECKING:
    from medcom.replay.spool import FindingSpool, Spool, SpoolRead
# The spool's functions are imported where they are used: the spool imports numpy (~0.1 s of CPU), which a log of
# one partition read in this process never needs.

PARTITION_MESSAGES = 20_000  # spooled items (messages, timeline lines) a partition aims at
TASKS_IN_FLIGHT = 4  # partitions sent at a time to a dask cluster (each carries its data)
READ_TASKS_IN_FLIGHT = 64  # batches of documents sent at a time to a dask cluster to be checked
T = TypeVar("T")  # what a partition's replay is built into, item by item (the report's episode entries)
S = TypeVar("S")  # and its summary of them
Build = Callable[[ReplayResult], tuple[list[T], S]]  # run where the partition runs; items in their merge order


def read_on_cluster(ex: Executor, options: ReadOptions, sources: Iterator[Source]) -> Iterator[SpoolRead]:
    """The documents read here and checked on the cluster (`SOURCES_PER_TASK` a task, `READ_TASKS_IN_FLIGHT`
    tasks at a time, so memory holds a window of the log), in input order."""
    from medcom.replay.spool import documents_for_spool

    docs = (source.read(options.max_bytes) for source in sources)
    check = partial(documents_for_spool, options=options)
    while window := [batch for batch in (list(islice(docs, SOURCES_PER_TASK))
                                         for _ in range(READ_TASKS_IN_FLIGHT)) if batch]:
        for reads in ex.map(check, window):
            yield from reads


@dataclass(frozen=True)
class PartitionTask(Generic[T, S]):
    """One partition to replay: its file (same machine) or its bytes (a cluster), and what the replay needs;
    `items_path`, where its items go (same machine; else they come back with the outcome)."""

    number: int
    policy: Policy
    log: LogFacts
    build: Build[T, S]
    path: str | None = None
    data: bytes | None = None
    items_path: str | None = None


@dataclass
class PartitionOutcome(Generic[T, S]):
    number: int
    items: list[T]  # what `build` made of the partition (report entries), in order; [] once written to a file
    summary: S  # and its summary of them
    log: LogFacts  # what the partition shows of the log
    duplicates: int
    messages: int  # spooled items replayed


def run_partition(task: PartitionTask[T, S]) -> PartitionOutcome[T, S]:
    """Replay one partition (in a worker process or on a cluster) and build its outcome; its items are written to
    `task.items_path` if it has one. (They came back to the command, which unpickled and pickled them again on
    its own, and held a window of partitions' worth of them: 14.6 MiB of 35.6 at its high point, 100,002 OIOXML
    messages with two workers.)"""
    from medcom.replay.spool import frames_of_bytes, frames_of_file, partition_input

    frames = frames_of_bytes(task.data) if task.data is not None else frames_of_file(Path(task.path or ""))
    inp = partition_input(frames)
    size = len(inp.units) + len(inp.facts) + len(inp.sidecar_messages)
    result = replay(inp, task.policy, log=task.log)
    items, summary = task.build(result)
    if task.items_path is not None:
        write_items(Path(task.items_path), items)
        items = []
    return PartitionOutcome(task.number, items, summary, result.log or LogFacts(False, False, None),
                            inp.duplicates, size)


def write_items(path: Path, items: Iterable[Any]) -> None:
    """`items` pickled one after another into a new file at `path` (read back by `spool.pickled`)."""
    with open(path, "wb", buffering=1 << 16) as stream:
        for item in items:
            pickle.dump(item, stream, protocol=pickle.HIGHEST_PROTOCOL)


# --- the whole ------------------------------------------------------------------------------------------------------


@dataclass
class PartitionedReplay(Generic[T, S]):
    """A log replayed in partitions: what pass 1 counted and found, each partition's summary, and its items on
    disk (read them in partition order with `items`, or merged with `merged_items`). Use as a context manager:
    the files go at its end."""

    directory: Path  # a temporary directory of the run's files (removed by `cleanup`)
    messages: int = 0
    rejected: int = 0
    duplicates: int = 0
    lines: int = 0
    lines_rejected: int = 0
    findings: Collection[Finding] = field(default_factory=list)  # pass 1's (on disk past one partition)
    summaries: list[S] = field(default_factory=list)  # each partition's, in partition order
    partitions: int = 0
    runs: int = 0  # how many times the partitions were run (2 when the estimate of LogFacts was wrong)
    log: LogFacts = LogFacts(False, False, None)
    _merged: list[Path] | None = None  # the files `merged_items` reads (the partitions', or merges of them)
    _merges: int = 0
    _held: list[T] | None = None  # the one partition's items, when it was replayed in memory (not on disk)

    @property
    def accepted(self) -> int:
        return self.messages - self.rejected - self.duplicates

    def _items_path(self, number: int) -> Path:
        return self.directory / f"items-{number:05d}"

    def items(self, number: int) -> Iterator[T]:
        """The items `build` made of partition `number`, in its order."""
        if self._held is not None:
            return iter(self._held)
        from medcom.replay.spool import pickled

        return pickled(self._items_path(number))

    def merged_items(self, key: Callable[[T], Any]) -> Iterator[T]:
        """Every partition's items in `key` order (each partition's are in that order already), with at most
        `OPEN_PARTITION_FILES` files open (and fewer under a low `ulimit -n`): while there are more partitions,
        groups of them are first merged into one file each, once (a merge of every partition at once ran out of
        file descriptors past ~1,020 partitions under `ulimit -n 1024`)."""
        if self._held is not None:  # one partition, in memory: its items are in `key` order
            return iter(self._held)
        from medcom.replay.spool import OPEN_PARTITION_FILES, descriptor_limit, pickled

        fan_in = max(2, min(OPEN_PARTITION_FILES, descriptor_limit() // 4))
        if self._merged is None:
            self._merged = [self._items_path(n) for n in range(self.partitions)]
        try:
            self._merge_rounds(fan_in, key)
        except OSError as exc:  # a full disk in a merge round: one line, as in pass 1 and 2
            raise SpoolError(_spool_problem(exc, self.directory)) from None
        return heapq.merge(*(pickled(p) for p in self._merged), key=key)

    def _merge_rounds(self, fan_in: int, key: Callable[[T], Any]) -> None:
        from medcom.replay.spool import pickled

        assert self._merged is not None
        while len(self._merged) > fan_in:
            level: list[Path] = []
            for start in range(0, len(self._merged), fan_in):
                group_paths = self._merged[start:start + fan_in]
                target = self.directory / f"merged-{self._merges:05d}"
                self._merges += 1
                write_items(target, heapq.merge(*(pickled(p) for p in group_paths), key=key))
                for path in group_paths:
                    os.unlink(path)
                level.append(target)
            self._merged = level

    def __enter__(self) -> PartitionedReplay[T, S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the run's files (a flat directory of files this module made)."""
        if self.directory.is_dir():
            for name in os.listdir(self.directory):
                os.unlink(self.directory / name)
            os.rmdir(self.directory)


def replay_partitioned(paths: list[Path], policy: Policy, options: ReadOptions, build: Build[T, S], *,
                       workers: int = 1,
                       executor_kind: str = "local", scheduler: str | None = None,
                       partition_messages: int = PARTITION_MESSAGES,
                       on_document: Callable[[int], None] | None = None,
                       on_partition: Callable[[int], None] | None = None,
                       on_partitions: Callable[[int], None] | None = None) -> PartitionedReplay[T, S]:
    """Read `paths` (as `load_log` reads them) and replay them in partitions on the executor; the same outcome as
    `replay(load_log(paths))` whatever the partition size, executor and number of workers. `on_document` is told
    the messages of each document read, `on_partitions` how many partitions there are, `on_partition` the items of
    each partition replayed."""
    try:
        out: PartitionedReplay[T, S] = PartitionedReplay(Path(tempfile.mkdtemp(prefix="medcom-replay-")))
    except OSError as exc:
        raise SpoolError(_spool_problem(exc, Path(tempfile.gettempdir()))) from None
    try:
        # Local workers are forked from a server that imported the module of `build` (the report's, or
        # calibration's: every partition's task carries it) and did what each would do first (medcom.replay.warm).
        preload = (*filter(None, [getattr(build, "__module__", None)]), *warm_modules(paths)) \
            if executor_kind == "local" and workers > 1 else ()
        with executor(executor_kind, workers, scheduler, preload) as ex, batch_gc():
            _read_and_replay(out, paths, policy, options, build, ex, workers, partition_messages, on_document,
                             on_partition, on_partitions)
    except OSError as exc:  # the spool's: the disk is full, too many files are open, TMPDIR is gone
        out.cleanup()
        if exc.errno not in _SPOOL_ERRNOS and not str(exc.filename or "").startswith(str(out.directory)):
            raise
        raise SpoolError(_spool_problem(exc, out.directory)) from None
    except BaseException:  # (KeyboardInterrupt, and SystemExit from SIGTERM or SIGHUP: see medcom.cli)
        out.cleanup()
        raise
    return out


SMALL_LOG_DOCUMENTS = 8_000  # documents of an OIOXML log of one partition that one process reads faster
TIMELINE_LINE_BYTES = 48  # fewer bytes than a timeline line with an event takes: a timeline's lines at most


def workers_for(paths: list[Path], workers: int, partition_messages: int, executor_kind: str = "local") -> int:
    """The local processes worth starting for this log: `workers`, or 1 for a log of OIOXML (as a few of its
    documents look) of at most `SMALL_LOG_DOCUMENTS` documents that fits one partition with its timelines' lines.
    Such a log has nothing to replay in parallel; workers would only split the reading of its documents (its
    timelines are read here either way), for a fork server and its preloads, and every message pickled to the
    spool and back (the 5,012-message OIOXML log, quiet machine: two workers 1.28 s against one's 1.06 s, 1.5
    times the CPU). The limit is where the two meet, estimated from the CPU of each phase at 5,012 and 15,000
    messages: about 6,000-10,000. FHIR's reading is heavier: its workers pay sooner. The report is the same
    whatever the number. Found cheaply, not sorted (`sample_sources`: a huge folder is not listed whole again),
    with the sizes of its timelines and the first bytes of a few documents."""
    if workers <= 1 or executor_kind != "local":
        return workers
    found = sample_sources(paths, SMALL_LOG_DOCUMENTS + 1)
    documents = lines = 0
    for source in found:
        if source.is_timeline:
            size = source.size()
            lines += partition_messages + 1 if size is None else size // TIMELINE_LINE_BYTES
        else:
            documents += 1
    if len(found) > SMALL_LOG_DOCUMENTS or documents + lines > partition_messages \
            or "medcom.replay.warm_fhir" in warm_modules(paths):
        return workers
    return 1


SAMPLED_DOCUMENTS = 64  # documents whose first bytes say whether the workers' fork server reads the FHIR stack in
_FHIR_STARTS = (b"{", b"[")  # how FHIR JSON starts (OIOXML starts with "<")
_FHIR_NAMESPACE = b"http://hl7.org/fhir"  # what FHIR XML names near its start


def warm_modules(paths: Iterable[Path]) -> tuple[str, ...]:
    """What the workers' fork server preloads for this log: the imports and OIOXML schemas
    (`medcom.replay.warm`), and the FHIR stack (`medcom.replay.warm_fhir`) if one of a few of the log's documents
    looks like FHIR (JSON, or XML naming FHIR's namespace). The workers are forked once the preloads are done: the
    FHIR warm-up (~0.4 s of CPU) delayed every worker of a pure OIOXML log, which never needs it. Only a guess: a
    worker that meets FHIR unwarmed reads it in itself (slower, same verdicts)."""
    for source in sample_sources(paths, SAMPLED_DOCUMENTS):
        if source.is_timeline:
            continue
        start = head(source, 1024)
        if start.lstrip(b" \t\r\n\xef\xbb\xbf").startswith(_FHIR_STARTS) or _FHIR_NAMESPACE in start:
            return "medcom.replay.warm", "medcom.replay.warm_fhir"
    return ("medcom.replay.warm",)


class SpoolError(OSError):
    """The replay's temporary files could not be written (one line for the user)."""


_SPOOL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.EFBIG}  # (else: a spool file's)


def _spool_problem(exc: OSError, directory: Path) -> str:
    hint = {errno.ENOSPC: "; point TMPDIR at a disk with more room", errno.EDQUOT: "; point TMPDIR elsewhere",
            errno.EMFILE: "; raise the open-file limit (ulimit -n) or use fewer --workers",
            errno.ENFILE: "; the system has too many files open"}.get(exc.errno or 0, "")
    return f"cannot write the replay's temporary files in {directory.parent}: {exc.strerror or exc}{hint}"


def _read_and_replay(out: PartitionedReplay[T, S], paths: list[Path], policy: Policy, options: ReadOptions,
                     build: Build[T, S], ex: Executor, workers: int, partition_messages: int,
                     on_document: Callable[[int], None] | None,
                     on_partition: Callable[[int], None] | None,
                     on_partitions: Callable[[int], None] | None) -> None:
    """Pass 1 (documents read here, in local processes, or checked on the cluster), grouping, pass 2, the
    partitions replayed on `ex`; a log of one partition read here is replayed from memory."""
    directory = out.directory
    on_read = (lambda read: on_document(read.messages)) if on_document else None
    if ex.in_process:
        sink = _MemoryFirst(directory / "spool", partition_messages)
        try:
            read_log(paths, options, sink, workers, read=read_messages, take=sink.add_read, on_document=on_read)
        finally:
            sink.close()
        _count(out, sink)
        if sink.spool is None:
            _replay_in_memory(out, sink.held, policy, build, on_partition, on_partitions)
            return
        spool = sink.spool
    else:
        from medcom.replay.spool import Spool, read_for_spool

        spool = Spool(directory / "spool")
        # Local workers read the files themselves, on the executor's pool that then replays the partitions.
        read_here = partial(ex.map, partial(read_for_spool, options=options), chunksize=SOURCES_PER_TASK)
        try:
            read_log(paths, options, spool, take=spool.add_read, on_document=on_read,
                     map_sources=read_here if ex.shares_files else partial(read_on_cluster, ex, options))
        finally:
            spool.close()
        _count(out, spool)
    estimate, items = spool.table.estimate, spool.table.items
    size = partition_size(items, partition_messages, workers)
    if items <= size:  # one partition whatever the links: nothing to group or route
        del spool
        files = [directory / "partition-00000"] if items else []
        if files:
            os.rename(directory / "spool", files[0])
        else:
            os.unlink(directory / "spool")
    else:
        from medcom.replay.grouping import group, pack  # numpy and scipy: only where there is grouping to do
        from medcom.replay.spool import route

        partition_of = pack(group(spool.table), size)
        del spool
        files = route(directory / "spool", partition_of, directory)
        del partition_of  # (4 bytes an item of the log, held through the partitions' replay and the report)
        os.unlink(directory / "spool")
    out.partitions = len(files)
    if on_partitions is not None:
        on_partitions(len(files))
    log = estimate
    while True:
        out.runs += 1
        shown = _run(out, files, policy, log, build, ex, on_partition)
        if shown == log or out.runs > 1:
            break
        log = shown  # the estimate was wrong (say, the only receipts were in cancelled episodes): again
    out.log = log
    for path in files:
        os.unlink(path)


SPLIT_MIN = 2_000  # items a partition holds at least when a log is split for the workers' sake (not for memory)


def partition_size(items: int, size: int, workers: int) -> int:
    """The items a partition of a log of `items` aims at: `size`, or, with several workers, less, so that the log
    is a multiple of `workers` partitions of about the same size, each of at least `SPLIT_MIN` items (a log of 2.4
    partitions' worth ran as 20,000 + 20,000 + 8,000 items on two workers, one of them idle a fifth of pass 2; a
    log of one partition's worth ran in the command alone while the workers idled)."""
    count = -(-items // max(1, size))
    if workers <= 1 or count % workers == 0:
        return size
    even = -(-count // workers) * workers
    if items < even * SPLIT_MIN:
        return size
    return -(-items // even)


class _MemoryFirst:
    """Pass 1's sink in this process: the log's items held in memory as a replay's inputs while they fit in one
    partition; past `limit` items, those held go to a Spool at `path` in input order, and every later item after
    them (the spool then holds what `Spool` as the sink would have)."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.held = ReplayInput()
        self.spool: Spool | None = None
        self.findings: list[Finding] | FindingSpool = []  # (on disk once the items are)
        self.messages = self.rejected = self.lines = self.lines_rejected = 0
        self.seq = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def add_unit(self, unit: Unit) -> None:
        if self.spool is not None:
            self.spool.add_unit(unit)
        else:
            self.held.units.append(unit)
            self._check()

    def add_fact(self, event: Event) -> None:
        if self.spool is not None:
            self.spool.add_fact(event)
        else:
            self.held.facts.append(event)
            self._check()

    def add_sidecar_message(self, event: Event) -> None:
        if self.spool is not None:
            self.spool.add_sidecar_message(event)
        else:
            self.held.sidecar_messages.append(event)
            self._check()

    def add_read(self, read: Read[tuple[MessageEvents, str]]) -> None:
        """What was read of one document (as `ReplayInput.add_read` takes it)."""
        take_read(self, read)

    def _check(self) -> None:
        held = self.held
        if len(held.units) + len(held.facts) + len(held.sidecar_messages) <= self.limit:
            return
        from medcom.replay.spool import Spool

        spool = self.spool = Spool(self.path)
        spool.findings.extend(self.findings)
        self.held, self.findings = ReplayInput(), spool.findings
        items: list[tuple[int, Callable[[Any], None], object]] = [
            *((u.seq, spool.add_unit, u) for u in held.units), *((e.seq, spool.add_fact, e) for e in held.facts),
            *((e.seq, spool.add_sidecar_message, e) for e in held.sidecar_messages)]
        for _, add, item in sorted(items, key=lambda entry: entry[0]):  # input order (sequence numbers are unique)
            add(item)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def _count(out: PartitionedReplay[T, S], sink: Spool | _MemoryFirst) -> None:
    """What pass 1 counted and found."""
    out.messages, out.rejected, out.findings = sink.messages, sink.rejected, sink.findings
    out.lines, out.lines_rejected = sink.lines, sink.lines_rejected


def _replay_in_memory(out: PartitionedReplay[T, S], held: ReplayInput, policy: Policy, build: Build[T, S],
                      on_partition: Callable[[int], None] | None,
                      on_partitions: Callable[[int], None] | None) -> None:
    """A log of one partition replayed from memory, as `run_partition` replays a partition's file (under its own
    LogFacts: a partition run on another estimate is run again under them), its items kept in memory."""
    size = len(held.units) + len(held.facts) + len(held.sidecar_messages)
    out.partitions, out.runs, out._held = (1 if size else 0), 1, []
    if on_partitions is not None:
        on_partitions(out.partitions)
    if not size:
        return
    result = replay(held, policy)
    out._held, summary = build(result)
    out.summaries, out.duplicates = [summary], held.duplicates
    out.log = result.log or LogFacts(False, False, None)
    if on_partition is not None:
        on_partition(size)


def _run(out: PartitionedReplay[T, S], files: list[Path], policy: Policy, log: LogFacts, build: Build[T, S],
         ex: Executor, on_partition: Callable[[int], None] | None) -> LogFacts:
    """Every partition replayed under `log`; what they show of the log together. A summary with an `on_disk`
    method (the report's) is kept through it: its bulk goes to a file of the run as it comes (the report's
    summaries held the partitions' input findings until the end, about 20 bytes a message of the log)."""
    out.summaries, out.duplicates = [], 0
    kept = out.directory / "partition-findings"
    kept.unlink(missing_ok=True)  # (a second run under corrected LogFacts starts it anew)
    shown = LogFacts(False, False, None)
    make = partial(PartitionTask, policy=policy, log=log, build=build)
    if not ex.shares_files:  # the tasks may run on machines that do not see this one's files: data, a few at once
        numbered = list(enumerate(files))
        batches = [numbered[i:i + TASKS_IN_FLIGHT] for i in range(0, len(numbered), TASKS_IN_FLIGHT)]
        outcomes: Iterable[PartitionOutcome[T, S]] = (
            outcome for batch in batches for outcome in ex.map(run_partition, [
                make(number=n, data=f.read_bytes()) for n, f in batch]))
    else:  # (each writes its items to the run's file)
        tasks = [make(number=n, path=str(f), items_path=str(out._items_path(n))) for n, f in enumerate(files)]
        outcomes = map(run_partition, tasks) if len(files) == 1 or ex.in_process else ex.map(run_partition, tasks)
    for outcome in outcomes:
        if not ex.shares_files:
            write_items(out._items_path(outcome.number), outcome.items)
        on_disk = getattr(outcome.summary, "on_disk", None)
        out.summaries.append(outcome.summary if on_disk is None else on_disk(kept))
        out.duplicates += outcome.duplicates
        shown = shown.joined(outcome.log)
        if on_partition is not None:
            on_partition(outcome.messages)
    return shown
