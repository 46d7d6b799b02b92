"""Replay a log in partitions of episodes that do not depend on each other: memory bounded by a partition, not by
the log, and partitions run as tasks of an executor (local processes or a dask cluster).

Pass 1 reads the log as `load_log` does (documents in local worker processes; on a dask cluster they are read
here and checked on its workers, which need no access to the files) but spools every accepted message, and
every line of a timeline or side-car, to a file in input order, together with the keys that tie it to others:
its episode-of-care ids (and their aliases, and what a side-car name stands for), its patient's CPR number, the
ids of the messages it is or names (replies, receipts, corrections), its envelope. Whatever shares a key is
replayed together, so every rule of the input stage and of the engine sees in a partition what it would see in the
whole log: the episode of a receipt or a reply, duplicates and resends, a correction and what it corrects, one
episode id naming two patients, a side-car's names, a patient's other episodes. Receipts that answer no message of
the log all join one group (they belong to no episode: their findings are input findings, as in the whole log).
Keys are hashed to 64 bits; two keys that collide merely put two partitions' worth of episodes together.

The connected groups (scipy's connected components over the spooled items) are packed into partitions of about
`PARTITION_MESSAGES` items; pass 2 copies each spooled item into its partition's file; each partition is then
replayed alone with what the engine must know of the whole log (`LogFacts`: receipts, phone calls, the clock's
origin), estimated from pass 1 and checked against what the partitions show (a partition run on a wrong estimate
is run again). Each partition's outcome is built by the caller's `build` (the report's episode entries) and
written to disk item by item, to be read back in partition order.
"""

from __future__ import annotations

import errno
import hashlib
import heapq
import os
import pickle
import struct
import sys
import tempfile
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

import numpy as np

from medcom.events import Event
from medcom.events.from_messages import MessageEvents, episode_key
from medcom.executors import SOURCES_PER_TASK, Executor, executor
from medcom.findings import Finding
from medcom.formats.inputs import InputDocument, Source
from medcom.formats.messages import ReadOptions
from medcom.policy import Policy
from medcom.replay import LogFacts, ReplayResult, replay
from medcom.replay.input_rules import episode_id_for_name
from medcom.replay.load import Read, ReplayInput, Unit, messages_of, read_log, read_messages

PARTITION_MESSAGES = 20_000  # spooled items (messages, timeline lines) a partition aims at
OPEN_PARTITION_FILES = 128  # partition files pass 2 keeps open at a time
TASKS_IN_FLIGHT = 4  # partitions sent at a time to a dask cluster (each carries its data)
READ_TASKS_IN_FLIGHT = 64  # batches of documents sent at a time to a dask cluster to be checked
_UNIT, _FACT, _SIDECAR = 0, 1, 2
_FRAME = struct.Struct("<BqI")  # kind, seq, length of the pickled item
_M_DEFINED, _V_DEFINED = 1, 2  # a key names a (non-receipt) message's id / its envelope
T = TypeVar("T")  # what a partition's replay is built into, item by item (the report's episode entries)
S = TypeVar("S")  # and its summary of them
Build = Callable[[ReplayResult], tuple[list[T], S]]  # run where the partition runs; items in their merge order


def _hash(key: str) -> int:
    """A key as a signed 64-bit number, the same in every process (unlike `hash`)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1  # 0 stands for "no key"


def _cpr(value: object) -> str:
    return str(value).replace("-", "").strip()


@dataclass(slots=True)
class Links:
    """What ties one spooled item to others (hashed keys; see the module's docstring), and what it tells of the
    whole log."""

    keys: list[int] = field(default_factory=list)
    bits: list[int] = field(default_factory=list)  # per key: _M_DEFINED, _V_DEFINED or 0
    receipts: list[tuple[int, int]] = field(default_factory=list)  # receipts of no episode: (M:ref, V:ref) or 0
    has_receipts: bool = False
    has_phone_calls: bool = False
    first: datetime | None = None


class _Keys:
    """The keys of one item, each once (with the bits of all its mentions)."""

    __slots__ = ("found", "names")

    def __init__(self) -> None:
        self.found: dict[str, int] = {}
        self.names: set[str] = set()

    def add(self, key: str, bits: int = 0) -> None:
        self.found[key] = self.found.get(key, 0) | bits

    def reference(self, ref: object) -> None:
        if ref:
            self.add(f"M:{ref}")
            self.add(f"V:{ref}")

    def into(self, links: Links) -> Links:
        for name in self.names:  # an episode name or id, and what a side-car name can stand for
            self.add("E:" + name)
            key = episode_key(name)
            if key and key != name:
                self.add("E:" + key)
            self.add("E:" + episode_id_for_name(name))
        links.keys = [_hash(k) for k in self.found]
        links.bits = list(self.found.values())
        return links


def links_of(events: Iterable[Event], message: MessageEvents | None = None) -> Links:
    """The links of a message (its events and how it relates to others) or of a timeline line (one event)."""
    links = Links()
    keys = _Keys()
    names = keys.names
    if message is not None:
        if message.episode:
            names.add(message.episode)
        names.update(a for a in message.aliases if a)
        if message.cpr:
            keys.add("C:" + _cpr(message.cpr))
        keys.reference(message.replaces)
        for target in message.receipt_for:
            keys.reference(target)
    in_unit = message is not None
    for event in events:
        if event.episode:
            names.add(event.episode)
        at = event.at.astimezone(UTC)
        links.first = at if links.first is None or at < links.first else links.first
        kind = event.kind
        links.has_receipts |= kind == "receipt_sent"
        links.has_phone_calls |= kind == "phone_call"
        data = event.data
        if data.get("cpr"):
            keys.add("C:" + _cpr(data["cpr"]))
        ident = data.get("id")
        is_message = event.is_message
        defines = in_unit and is_message and kind != "receipt_sent" and bool(ident)
        if is_message and ident:
            keys.add(f"M:{ident}", _M_DEFINED if defines else 0)
        if event.envelope_id:
            keys.add(f"V:{event.envelope_id}", _V_DEFINED if defines else 0)
        for key in ("reply_to", "ref", "correction_of"):
            keys.reference(data.get(key))
        if in_unit and kind == "receipt_sent" and not event.episode:
            ref = data.get("ref")
            links.receipts.append((_hash(f"M:{ref}"), _hash(f"V:{ref}")) if ref else (0, 0))
    return keys.into(links)


# --- pass 1: read and spool ---------------------------------------------------------------------------------------


SpoolRead = Read[tuple[bytes, Links]]  # each accepted message pickled for the spool, with its links


def read_for_spool(source: Source, options: ReadOptions) -> SpoolRead:
    """`read_messages`, with each message pickled for the spool and its links worked out (in a worker)."""
    return _for_spool(read_messages(source, options))


def documents_for_spool(docs: list[InputDocument], options: ReadOptions) -> list[SpoolRead]:
    """`read_for_spool` of documents already read (a task on a cluster, whose workers need no files)."""
    return [_for_spool(messages_of(doc, options)) for doc in docs]


def _for_spool(read: Read[tuple[MessageEvents, str]]) -> SpoolRead:
    units = [(pickle.dumps((events, fmt), protocol=pickle.HIGHEST_PROTOCOL), links_of(events.events, events))
             for events, fmt in read.units]
    return Read(read.findings, read.messages, read.rejected, units)


def read_on_cluster(ex: Executor, options: ReadOptions, sources: Iterator[Source]) -> Iterator[SpoolRead]:
    """The documents read here and checked on the cluster (`SOURCES_PER_TASK` a task, `READ_TASKS_IN_FLIGHT`
    tasks at a time, so memory holds a window of the log), in input order."""
    docs = (source.read(options.max_bytes) for source in sources)
    check = partial(documents_for_spool, options=options)
    while window := [batch for batch in (list(islice(docs, SOURCES_PER_TASK))
                                         for _ in range(READ_TASKS_IN_FLIGHT)) if batch]:
        for reads in ex.map(check, window):
            yield from reads


class LinkTable:
    """The links of numbered items (0, 1, ...), in arrays (9 bytes a key, 4 an item), and what they tell of the
    log."""

    def __init__(self) -> None:
        self.items = 0
        self.keys, self.bits, self.counts = array("q"), array("B"), array("I")  # counts: keys of each item
        self.receipt_nodes, self.receipt_m, self.receipt_v = array("q"), array("q"), array("q")
        self.estimate = LogFacts(False, False, None)

    def add(self, links: Links) -> int:
        """The next item's number."""
        node = self.items
        self.items += 1
        self.keys.extend(links.keys)
        self.bits.extend(links.bits)
        self.counts.append(len(links.keys))
        for m, v in links.receipts:
            self.receipt_nodes.append(node)
            self.receipt_m.append(m)
            self.receipt_v.append(v)
        self.estimate = self.estimate.joined(LogFacts(links.has_receipts, links.has_phone_calls, links.first))
        return node


class Spool:
    """The sink of pass 1: items framed into one file in input order, their links in a LinkTable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed by `close`
        self.findings: list[Finding] = []
        self.messages = self.rejected = self.lines = self.lines_rejected = 0
        self.seq = 0
        self.table = LinkTable()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def close(self) -> None:
        self._file.close()  # (a full disk may show only here, at the last flush: SpoolError, from the caller)

    def _item(self, kind: int, seq: int, payload: bytes, links: Links) -> None:
        self._file.write(_FRAME.pack(kind, seq, len(payload)))
        self._file.write(payload)
        self.table.add(links)

    def add_unit(self, unit: Unit) -> None:
        payload = pickle.dumps((unit.events, unit.origin), protocol=pickle.HIGHEST_PROTOCOL)
        self._item(_UNIT, unit.seq, payload, links_of(unit.events.events, unit.events))

    def add_fact(self, event: Event) -> None:
        self._item(_FACT, event.seq, pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL), links_of([event]))

    def add_sidecar_message(self, event: Event) -> None:
        self._item(_SIDECAR, event.seq, pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL), links_of([event]))

    def add_read(self, read: SpoolRead) -> None:
        self.messages += read.messages
        self.rejected += read.rejected
        self.findings.extend(read.findings)
        for payload, links in read.units:
            self._item(_UNIT, self.next_seq(), payload, links)


# --- grouping and pass 2 --------------------------------------------------------------------------------------------


def group(spool: LinkTable) -> np.ndarray:
    """The connected group of every item (a label per item): items that share a key, and receipts that answer no
    message of the log with each other. Memory: a few arrays of the keys' size, the edges only where a key
    repeats (a chain through the items that share it)."""
    from scipy.sparse import coo_matrix  # here: scipy would slow the start of every command
    from scipy.sparse.csgraph import connected_components

    n = spool.items
    virtual = n  # the node of the receipts that answer no message of the log
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    order = np.argsort(np.frombuffer(spool.keys, dtype=np.int64), kind="stable")
    keys = np.frombuffer(spool.keys, dtype=np.int64)[order]
    nodes = np.repeat(np.arange(n, dtype=index), np.frombuffer(spool.counts, dtype=np.uint32))[order]
    bits = np.frombuffer(spool.bits, dtype=np.uint8)[order] if len(spool.receipt_nodes) else None
    del order
    repeat = keys[1:] == keys[:-1]  # entry i + 1 has entry i's key
    later = np.flatnonzero(repeat)
    rows, cols = [nodes[later]], [nodes[later + 1]]
    del later, nodes
    if bits is not None:
        starts = np.flatnonzero(np.concatenate(([True], ~repeat))) if len(keys) else np.zeros(0, dtype=np.int64)
        unique = keys[starts]
        defined = np.bitwise_or.reduceat(bits, starts) if len(starts) else np.zeros(0, dtype=np.uint8)
        del keys, bits, starts
        answered = np.zeros(len(spool.receipt_nodes), dtype=bool)
        for refs, bit in ((np.frombuffer(spool.receipt_m, dtype=np.int64), _M_DEFINED),
                          (np.frombuffer(spool.receipt_v, dtype=np.int64), _V_DEFINED)):
            at = np.minimum(np.searchsorted(unique, refs), max(len(unique) - 1, 0))
            if len(unique):
                answered |= (refs != 0) & (unique[at] == refs) & ((defined[at] & bit) != 0)
        unanswered = np.frombuffer(spool.receipt_nodes, dtype=np.int64)[~answered].astype(index)
        rows.append(unanswered)
        cols.append(np.full(len(unanswered), virtual, dtype=index))
    else:
        del keys
    del repeat
    edges_from, edges_to = np.concatenate(rows), np.concatenate(cols)
    del rows, cols
    graph = coo_matrix((np.ones(len(edges_from), dtype=np.int8), (edges_from, edges_to)), shape=(n + 1, n + 1))
    del edges_from, edges_to
    graph = graph.tocsr()  # (the coordinates go)
    _, labels = connected_components(graph, directed=False)
    return labels[:n]


def pack(labels: np.ndarray, size: int) -> np.ndarray:
    """Groups packed into partitions of about `size` items, in the order of their first item; the partition of
    every item."""
    if not len(labels):
        return labels
    _, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # groups in input order of their first item
    before = np.empty(len(counts), dtype=np.int64)
    before[order] = np.cumsum(counts[order]) - counts[order]
    dense = np.unique(before // max(1, size), return_inverse=True)[1]  # partitions numbered without gaps
    return dense[inverse]


def _frames(path: Path) -> Iterator[tuple[int, int, bytes]]:
    with open(path, "rb", buffering=1 << 20) as stream:
        while header := stream.read(_FRAME.size):
            kind, seq, length = _FRAME.unpack(header)
            yield kind, seq, stream.read(length)


def route(spool: Path, partition_of: np.ndarray, directory: Path, open_files: int = OPEN_PARTITION_FILES) -> list[Path]:
    """Pass 2: each spooled item into its partition's file, in input order. At most `open_files` partition files
    are open at a time (the least recently written is closed, and opened again to append when its partition comes
    back): opening all of them at once ran out of file descriptors past ~1,020 partitions under `ulimit -n 1024`."""
    count = int(partition_of.max()) + 1 if len(partition_of) else 0
    paths = [directory / f"partition-{p:05d}" for p in range(count)]
    open_files = max(4, min(open_files, _descriptor_limit() // 4))
    files: OrderedDict[int, BinaryIO] = OrderedDict()
    started: set[int] = set()
    try:
        for node, (kind, seq, payload) in enumerate(_frames(spool)):
            number = int(partition_of[node])
            out = files.get(number)
            if out is None:
                if len(files) >= open_files:
                    files.popitem(last=False)[1].close()
                out = files[number] = open(paths[number], "ab" if number in started else "wb",  # noqa: SIM115
                                           buffering=1 << 16)
                started.add(number)
            else:
                files.move_to_end(number)
            out.write(_FRAME.pack(kind, seq, len(payload)))
            out.write(payload)
    finally:
        errors = []
        for f in files.values():
            try:
                f.close()
            except OSError as exc:  # a full disk shows at the last flush: said once, after every file is closed
                errors.append(exc)
        if errors and sys.exc_info()[0] is None:
            raise errors[0]
    return paths


def _pickled(path: Path) -> Iterator[Any]:
    """The objects pickled one after another into the file at `path`."""
    with open(path, "rb", buffering=1 << 16) as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return


def _descriptor_limit() -> int:
    """The soft limit of open files of this process (ulimit -n); a large number where there is none."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 1 << 20
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


# --- a partition ----------------------------------------------------------------------------------------------------


def partition_input(frames: Iterable[tuple[int, int, bytes]]) -> ReplayInput:
    """The spooled items of a partition as the inputs of a replay (in input order)."""
    inp = ReplayInput()
    for kind, seq, payload in frames:
        if kind == _UNIT:
            events, origin = pickle.loads(payload)
            for event in events.events:
                event.seq = seq
            inp.units.append(Unit(events, seq, origin))
        else:
            event = pickle.loads(payload)
            (inp.facts if kind == _FACT else inp.sidecar_messages).append(event)
    return inp


def split(inp: ReplayInput, partition_messages: int = PARTITION_MESSAGES) -> tuple[list[ReplayInput], LogFacts]:
    """A ReplayInput in memory split as `replay_partitioned` splits a log (for tests and small logs), and the
    estimate of the whole log's facts; counts and findings stay with the whole."""
    table = LinkTable()
    items: list[tuple[int, object]] = []
    for unit in inp.units:
        table.add(links_of(unit.events.events, unit.events))
        items.append((_UNIT, unit))
    for kind, events in ((_FACT, inp.facts), (_SIDECAR, inp.sidecar_messages)):
        for event in events:
            table.add(links_of([event]))
            items.append((kind, event))
    partition_of = pack(group(table), partition_messages)
    parts = [ReplayInput() for _ in range(int(partition_of.max()) + 1 if len(partition_of) else 0)]
    for (kind, item), number in zip(items, partition_of, strict=True):
        part = parts[number]
        if kind == _UNIT:
            part.units.append(item)  # type: ignore[arg-type]
        else:
            (part.facts if kind == _FACT else part.sidecar_messages).append(item)  # type: ignore[arg-type]
    for part in parts:  # input order within each partition, as the spool keeps it
        part.units.sort(key=lambda u: u.seq)
        part.facts.sort(key=lambda e: e.seq)
        part.sidecar_messages.sort(key=lambda e: e.seq)
    return parts, table.estimate


def _frames_of(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    at = 0
    while at < len(data):
        kind, seq, length = _FRAME.unpack_from(data, at)
        at += _FRAME.size
        yield kind, seq, data[at:at + length]
        at += length


@dataclass(frozen=True)
class PartitionTask(Generic[T, S]):
    """One partition to replay: its file (same machine) or its bytes (a cluster), and what the replay needs."""

    number: int
    policy: Policy
    log: LogFacts
    build: Build[T, S]
    path: str | None = None
    data: bytes | None = None


@dataclass
class PartitionOutcome(Generic[T, S]):
    number: int
    items: list[T]  # what `build` made of the partition (report entries), in order
    summary: S  # and its summary of them
    log: LogFacts  # what the partition shows of the log
    duplicates: int
    messages: int  # spooled items replayed


def run_partition(task: PartitionTask[T, S]) -> PartitionOutcome[T, S]:
    """Replay one partition (in a worker process or on a cluster) and build its outcome."""
    frames = _frames_of(task.data) if task.data is not None else _frames(Path(task.path or ""))
    inp = partition_input(frames)
    size = len(inp.units) + len(inp.facts) + len(inp.sidecar_messages)
    result = replay(inp, task.policy, log=task.log)
    items, summary = task.build(result)
    return PartitionOutcome(task.number, items, summary, result.log or LogFacts(False, False, None),
                            inp.duplicates, size)


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
    findings: list[Finding] = field(default_factory=list)
    summaries: list[S] = field(default_factory=list)  # each partition's, in partition order
    partitions: int = 0
    runs: int = 0  # how many times the partitions were run (2 when the estimate of LogFacts was wrong)
    log: LogFacts = LogFacts(False, False, None)
    _merged: list[Path] | None = None  # the files `merged_items` reads (the partitions', or merges of them)
    _merges: int = 0

    @property
    def accepted(self) -> int:
        return self.messages - self.rejected - self.duplicates

    def _items_path(self, number: int) -> Path:
        return self.directory / f"items-{number:05d}"

    def items(self, number: int) -> Iterator[T]:
        """The items `build` made of partition `number`, in its order."""
        return _pickled(self._items_path(number))

    def merged_items(self, key: Callable[[T], Any]) -> Iterator[T]:
        """Every partition's items in `key` order (each partition's are in that order already), with at most
        `OPEN_PARTITION_FILES` files open (and fewer under a low `ulimit -n`): while there are more partitions,
        groups of them are first merged into one file each, once (a merge of every partition at once ran out of
        file descriptors past ~1,020 partitions under `ulimit -n 1024`)."""
        fan_in = max(2, min(OPEN_PARTITION_FILES, _descriptor_limit() // 4))
        if self._merged is None:
            self._merged = [self._items_path(n) for n in range(self.partitions)]
        try:
            self._merge_rounds(fan_in, key)
        except OSError as exc:  # a full disk in a merge round: one line, as in pass 1 and 2
            raise SpoolError(_spool_problem(exc, self.directory)) from None
        return heapq.merge(*(_pickled(p) for p in self._merged), key=key)

    def _merge_rounds(self, fan_in: int, key: Callable[[T], Any]) -> None:
        assert self._merged is not None
        while len(self._merged) > fan_in:
            level: list[Path] = []
            for start in range(0, len(self._merged), fan_in):
                group_paths = self._merged[start:start + fan_in]
                target = self.directory / f"merged-{self._merges:05d}"
                self._merges += 1
                with open(target, "wb", buffering=1 << 16) as stream:
                    for item in heapq.merge(*(_pickled(p) for p in group_paths), key=key):
                        pickle.dump(item, stream, protocol=pickle.HIGHEST_PROTOCOL)
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
        with executor(executor_kind, workers, scheduler) as ex:
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
    """Pass 1 (documents read in local processes, or checked on the cluster), grouping, pass 2, the partitions
    replayed on `ex`."""
    directory = out.directory
    spool = Spool(directory / "spool")
    on_read = (lambda read: on_document(read.messages)) if on_document else None
    try:
        read_log(paths, options, spool, workers, read=read_for_spool, take=spool.add_read, on_document=on_read,
                 map_sources=None if ex.shares_files else partial(read_on_cluster, ex, options))
    finally:
        spool.close()
    out.messages, out.rejected, out.findings = spool.messages, spool.rejected, spool.findings
    out.lines, out.lines_rejected = spool.lines, spool.lines_rejected
    partition_of = pack(group(spool.table), partition_messages)
    estimate = spool.table.estimate
    del spool
    files = route(directory / "spool", partition_of, directory)
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


def _run(out: PartitionedReplay[T, S], files: list[Path], policy: Policy, log: LogFacts, build: Build[T, S],
         ex: Executor, on_partition: Callable[[int], None] | None) -> LogFacts:
    """Every partition replayed under `log`; what they show of the log together."""
    out.summaries, out.duplicates = [], 0
    shown = LogFacts(False, False, None)
    make = partial(PartitionTask, policy=policy, log=log, build=build)
    if not ex.shares_files:  # the tasks may run on machines that do not see this one's files: data, a few at once
        numbered = list(enumerate(files))
        batches = [numbered[i:i + TASKS_IN_FLIGHT] for i in range(0, len(numbered), TASKS_IN_FLIGHT)]
        outcomes: Iterable[PartitionOutcome[T, S]] = (
            outcome for batch in batches for outcome in ex.map(run_partition, [
                make(number=n, data=f.read_bytes()) for n, f in batch]))
    elif len(files) == 1 or ex.in_process:
        outcomes = (run_partition(make(number=n, path=str(f))) for n, f in enumerate(files))
    else:
        outcomes = ex.map(run_partition, [make(number=n, path=str(f)) for n, f in enumerate(files)])
    for outcome in outcomes:
        with open(out._items_path(outcome.number), "wb", buffering=1 << 16) as stream:
            for item in outcome.items:
                pickle.dump(item, stream, protocol=pickle.HIGHEST_PROTOCOL)
        out.summaries.append(outcome.summary)
        out.duplicates += outcome.duplicates
        shown = shown.joined(outcome.log)
        if on_partition is not None:
            on_partition(outcome.messages)
    return shown
