"""The spool of a partitioned replay: pass 1 writes every accepted message, and every line of a timeline or
side-car, to one file in input order (a frame: kind, input sequence number, the pickled item), with its links in
a LinkTable, and its input findings to another (`FindingSpool`); pass 2 (`route`) copies each item into its
partition's file; a partition's file is read back as the inputs of a replay (`partition_input`)."""

from __future__ import annotations

import pickle
import struct
import sys
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from medcom.events import Event
from medcom.events.from_messages import MessageEvents
from medcom.findings import Finding
from medcom.formats.inputs import InputDocument, Source
from medcom.formats.messages import ReadOptions
from medcom.replay.links import Links, LinkTable, links_of
from medcom.replay.load import Read, ReplayInput, Unit, messages_of, read_messages

if TYPE_CHECKING:
    import numpy as np

OPEN_PARTITION_FILES = 128  # partition files pass 2 keeps open at a time
_UNIT, _FACT, _SIDECAR = 0, 1, 2
_FRAME = struct.Struct("<BqI")  # kind, seq, length of the pickled item


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


STRETCH_READ = 64  # objects a Stretch reads at a time


class Stretch(Collection[Any]):
    """`count` objects pickled one after another into the file at `path` from byte `start`, read back anew by
    each iteration, `STRETCH_READ` at a time with the file open only while they are read: a merge of many
    stretches (every partition's input findings) holds one file open and a few objects a stretch, not a file
    descriptor a partition (`ulimit -n`) nor every object."""

    def __init__(self, path: Path, start: int, count: int) -> None:
        self.path, self.start, self.count = path, start, count

    def __iter__(self) -> Iterator[Any]:
        at, left = self.start, self.count
        while left:
            with open(self.path, "rb") as stream:
                stream.seek(at)
                batch = [pickle.load(stream) for _ in range(min(left, STRETCH_READ))]
                at = stream.tell()
            left -= len(batch)
            yield from batch

    def __len__(self) -> int:
        return self.count

    def __contains__(self, item: object) -> bool:
        return any(item == x for x in self)


class FindingSpool(Stretch):
    """Input findings on disk, pickled one after another as they come, read back anew by every iteration (a
    `Stretch` from the file's start): a generated log has about 7,500 of them a 100,000 messages from its reading,
    held as objects (twice when masked) in the command until they went here. The file is the run's (removed with
    its directory)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, 0, 0)
        self._file: BinaryIO | None = None

    def append(self, finding: Finding, /) -> None:
        if self._file is None:
            self._file = open(self.path, "ab", buffering=1 << 16)  # noqa: SIM115 - closed by `close`
        pickle.dump(finding, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def extend(self, findings: Iterable[Finding], /) -> None:
        for finding in findings:
            self.append(finding)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self) -> Iterator[Finding]:
        if self._file is not None:
            self._file.flush()
        return super().__iter__()


class Spool:
    """The sink of pass 1: items framed into one file in input order, their links in a LinkTable, the input
    findings in a FindingSpool beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed by `close`
        self.findings = FindingSpool(path.parent / "findings")
        self.messages = self.rejected = self.lines = self.lines_rejected = 0
        self.seq = 0
        self.table = LinkTable(path.parent)  # (its keys beyond a buffer go to files beside the spool)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def close(self) -> None:
        try:
            self._file.close()  # (a full disk may show only here, at the last flush: SpoolError, from the caller)
        finally:
            self.findings.close()

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


def frames_of_file(path: Path) -> Iterator[tuple[int, int, bytes]]:
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
    open_files = max(4, min(open_files, descriptor_limit() // 4))
    files: OrderedDict[int, BinaryIO] = OrderedDict()
    started: set[int] = set()
    try:
        for node, (kind, seq, payload) in enumerate(frames_of_file(spool)):
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


def pickled(path: Path) -> Iterator[Any]:
    """The objects pickled one after another into the file at `path`."""
    with open(path, "rb", buffering=1 << 16) as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return


def append_stretch(path: Path, objects: Iterable[Any]) -> Stretch:
    """`objects` pickled at the end of the file at `path` (made if need be), as the Stretch that reads them."""
    with open(path, "ab", buffering=1 << 16) as stream:
        start, count = stream.tell(), 0
        for item in objects:
            pickle.dump(item, stream, protocol=pickle.HIGHEST_PROTOCOL)
            count += 1
    return Stretch(path, start, count)


def descriptor_limit() -> int:
    """The soft limit of open files of this process (ulimit -n); a large number where there is none."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 1 << 20
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


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


def frames_of_bytes(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    at = 0
    while at < len(data):
        kind, seq, length = _FRAME.unpack_from(data, at)
        at += _FRAME.size
        yield kind, seq, data[at:at + length]
        at += length
