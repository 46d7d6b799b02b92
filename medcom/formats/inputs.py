"""Walk the inputs a user names: files, directories (recursively) and .zip archives, one document at a time.

Directories contribute their `*.xml` and `*.json` files (OIOXML, FHIR), `*.zip` archives and `*.jsonl`
timelines (a log's `events.jsonl` side-car among them); other files there are not inputs (scripts, notes). A
file named on the command line is always read, whatever its name, and so is every member of an archive.
Walking yields cheap `Source`s (a path, or an archive member); `read` turns one into its bytes, so that worker
processes can read what they check and the parent never holds more than a document. A document that cannot be
read is returned with its error, so that it is reported and counted, never dropped; so is a directory that
cannot be listed.

Hostile inputs: only regular files are opened (a FIFO would block, a device such as /dev/zero never ends;
a symlink is judged by what it points at); never more than the limit plus one byte is read, whatever the
file system or an archive header says; archive members are told apart by position, not name (a .zip may
hold two members of the same name, and each is read and reported on its own); corrupt compressed data is
an error of that member. An archive whose members overlap (several central-directory entries pointing at the
same compressed bytes: 110 KB that unpacks to 18 GB; Python 3.11's zipfile does not notice) or that declares
more unpacked bytes than MAX_INFLATION times its own size is refused whole, one finding, before any member
is unpacked; the run goes on.
"""

from __future__ import annotations

import itertools
import lzma
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, BinaryIO

ARCHIVE_SUFFIX = ".zip"
TIMELINE_SUFFIX = ".jsonl"
WALKED_SUFFIXES = (".xml", ".json", ARCHIVE_SUFFIX, TIMELINE_SUFFIX)

# What reading an archive member can raise on corrupt or unsupported data (zlib, LZMA and bzip2 streams,
# a bad CRC, an encrypted or unknown compression method).
READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError,
                  zlib.error, lzma.LZMAError)


class UnreadableInput(Exception):
    """A file or archive member that cannot be read; the message says why."""


@dataclass(frozen=True)
class InputDocument:
    """One document: where it came from, and its bytes or why they could not be read."""

    source: str
    data: bytes | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where one document is: a file, or the member at position `index` of the archive at `path` (named
    `member`; `label` tells apart members that share a name); `error` if the walk failed there."""

    path: str
    member: str | None = None
    index: int | None = None
    error: str | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        """How reports name it: the path, and the member after '!' (printable, whatever the bytes)."""
        if self.member is None:
            return printable(self.path)
        return f"{printable(self.path)}!{printable(self.label or self.member)}"

    @property
    def is_timeline(self) -> bool:
        """A JSON Lines timeline (a log's events.jsonl side-car, or a timeline of its own)."""
        return (self.member if self.member is not None else self.path).lower().endswith(TIMELINE_SUFFIX)

    @property
    def basename(self) -> str:
        return (self.member if self.member is not None else self.path).replace("\\", "/").rsplit("/", 1)[-1]

    def size(self) -> int | None:
        """Its bytes as its file or archive entry states them (None if that cannot be had)."""
        try:
            return os.stat(self.path).st_size if self.member is None else _member_info(self).file_size
        except (UnreadableInput, *READ_ERRORS):
            return None

    def read(self, max_bytes: int) -> InputDocument:
        """The document's bytes (at most `max_bytes`), or why they cannot be had."""
        try:
            if self.member is None and self.error is None:
                data = _read_regular(self.path, max_bytes)
            else:
                with self.open(max_bytes) as (stream, _size):
                    data = stream.read(max_bytes + 1)
        except UnreadableInput as exc:
            return InputDocument(self.name, None, str(exc))
        except READ_ERRORS as exc:
            return InputDocument(self.name, None, f"cannot read {self._what}: {_reason(exc)}")
        if len(data) > max_bytes:
            return InputDocument(self.name, None, f"{self._what} is over the limit of {max_bytes:,} bytes; "
                                                  "not read")
        return InputDocument(self.name, data)

    @contextmanager
    def open(self, max_bytes: int) -> Iterator[tuple[BinaryIO, int]]:
        """(a binary stream, the size it claims) for a regular file or an archive member no larger than
        `max_bytes` as far as can be told before reading; `UnreadableInput` otherwise. A caller still reads
        at most `max_bytes + 1` bytes: sizes can lie (an archive header, /proc)."""
        if self.error is not None:
            raise UnreadableInput(self.error)
        if self.member is None:
            with _open_regular(self.path, max_bytes) as opened:
                yield opened
            return
        info = _member_info(self)
        if info.file_size > max_bytes:
            raise UnreadableInput(f"archive member is {info.file_size:,} bytes, over the limit of {max_bytes:,} "
                                  "bytes; not unpacked")
        try:
            stream = _archive(self.path).open(info)
        except READ_ERRORS as exc:
            raise UnreadableInput(f"cannot read archive member: {_reason(exc)}") from None
        with stream:
            yield _Bounded(stream, info.file_size), info.file_size  # type: ignore[misc]

    @property
    def _what(self) -> str:
        return "archive member" if self.member is not None else "file"


class _Bounded:
    """An archive member's stream that fails once it yields more than its header promised."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self.stream, self.left = stream, size

    def _take(self, data: bytes) -> bytes:
        self.left -= len(data)
        if self.left < 0:
            raise UnreadableInput("archive member unpacks to more than its header says")
        return data

    def read(self, n: int = -1) -> bytes:
        return self._take(self.stream.read(self.left + 1 if n < 0 else n))

    def readline(self, n: int = -1) -> bytes:
        return self._take(self.stream.readline(self.left + 1 if n < 0 else n))


# Characters a name may not show as they are: C0 and C1 controls and DEL (a newline in an archive member's name
# forged a line of the text report, \x01 ended --format junit in a ValueError: XML cannot carry it), the line and
# paragraph separators, and the bidirectional controls that make a name read otherwise than it is.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


def printable(path: str) -> str:
    """A file or member name as text that can be written out in every report format: bytes of a file name that are
    not UTF-8 (which Python keeps as lone surrogates) shown as \\xNN escapes, control characters as \\xNN or
    \\uNNNN. The one place where a source's name becomes display text (`Source.name`)."""
    if not path.isascii():
        try:
            path = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file name decoding makes
            path = path.encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNSHOWABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), path)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def not_regular(mode: int) -> str | None:
    """What a file of this mode is, if it is not a regular file (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "a special file")


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_READ_CHUNK = 1 << 20
_SMALL_READ = 1 << 16


def _open_fd(path: str) -> int:
    """A regular file's descriptor: stat first (never open a FIFO or device, nor what a symlink to one points
    at), then open without blocking."""
    try:
        kind = not_regular(os.stat(path).st_mode)
        if kind is not None:
            raise UnreadableInput(f"not a regular file but {kind}; not read")
        return os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise UnreadableInput("no such file or directory") from None
    except OSError as exc:
        raise UnreadableInput(f"cannot read file: {_reason(exc)}") from None


def _checked_size(fd: int, max_bytes: int) -> int:
    """The open file's size, checked again on the descriptor (a regular file, within the limit)."""
    info = os.fstat(fd)
    kind = not_regular(info.st_mode)
    if kind is not None:  # replaced between the stat and the open
        raise UnreadableInput(f"not a regular file but {kind}; not read")
    if info.st_size > max_bytes:
        raise UnreadableInput(f"file is {info.st_size:,} bytes, over the limit of {max_bytes:,} bytes")
    return info.st_size


@contextmanager
def _open_regular(path: str, max_bytes: int) -> Iterator[tuple[BinaryIO, int]]:
    """A regular file opened for reading (see `_open_fd`), its size checked on the open descriptor."""
    fd = _open_fd(path)
    with os.fdopen(fd, "rb") as handle:
        yield handle, _checked_size(fd, max_bytes)


def _read_regular(path: str, max_bytes: int) -> bytes:
    """A regular file's bytes, at most `max_bytes + 1` of them, opened as `_open_regular` opens it (without a
    buffered stream: one document is read whole). Reads ask for the size the file says plus one (a file that
    grew is still read to its end, chunk by chunk): a 1 MiB buffer for every 4 KB message cost about a tenth of
    reading it. A read that gives less than it asked for, having reached the size the file said, is at the end:
    it is not asked again (every file was read twice, the second read finding the end)."""
    fd = _open_fd(path)
    try:
        size = _checked_size(fd, max_bytes)
        step = min(_READ_CHUNK, max(size + 1, _SMALL_READ))
        chunks = []
        left = max_bytes + 1
        read = 0
        while left > 0:
            asked = min(left, step)
            chunk = os.read(fd, asked)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            read += len(chunk)
            if len(chunk) < asked and read == size:
                break
        return b"".join(chunks)
    finally:
        os.close(fd)


def _archive(path: str) -> zipfile.ZipFile:
    """An open archive, kept for the members that follow (per process; a file replaced since is opened anew)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableInput(f"cannot open archive: {_reason(exc)}") from None
    kind = not_regular(info.st_mode)
    if kind is not None:
        raise UnreadableInput(f"cannot open archive: not a regular file but {kind}")
    return _open_archive(path, info.st_ino, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=4)
def _open_archive(path: str, _inode: int, _mtime: int, _size: int) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


# An archive may unpack to at most this many times its own size (and at least MIN_INFLATION_BUDGET bytes): MedCom
# XML and FHIR JSON deflate 5-30 times; more is a bomb, not a log.
MAX_INFLATION = 100
MIN_INFLATION_BUDGET = 100_000_000
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length


def _archive_problem(archive: zipfile.ZipFile, size: int) -> str | None:
    """Why an archive is not unpacked (None: it may be): members whose compressed data overlap one another or
    the central directory, or more unpacked bytes declared than MAX_INFLATION times its size. Each member's
    local header is read (30 bytes) to know where its data ends; nothing is decompressed."""
    infos = sorted(archive.infolist(), key=lambda i: i.header_offset)
    declared = sum(i.file_size for i in infos)
    budget = max(MIN_INFLATION_BUDGET, MAX_INFLATION * size)
    if declared > budget:
        return (f"archive declares {declared:,} bytes unpacked from {size:,} (more than {MAX_INFLATION} times its "
                "size); not unpacked")
    fp = archive.fp
    assert fp is not None
    end, previous = 0, None
    for info in infos:
        if previous is not None and info.header_offset < end:
            return (f"archive members {printable(previous.filename)!r} and {printable(info.filename)!r} overlap "
                    "(two entries share compressed data: a zip bomb); not unpacked")
        header = b""
        if info.header_offset >= 0:  # zipfile's offset is negative for a directory that points before the file
            fp.seek(info.header_offset)
            header = fp.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            return f"archive member {printable(info.filename)!r} has no local header where the directory says"
        _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        end = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + info.compress_size
        previous = info
    if previous is not None and end > archive.start_dir:  # (end > 0 only after a member)
        return f"archive member {printable(previous.filename)!r} overlaps the central directory; not unpacked"
    return None


def _member_info(source: Source) -> zipfile.ZipInfo:
    try:
        infos = _archive(source.path).infolist()
    except UnreadableInput:
        raise
    except READ_ERRORS as exc:
        raise UnreadableInput(f"cannot open archive: {_reason(exc)}") from None
    if source.index is None or not 0 <= source.index < len(infos):
        raise UnreadableInput("archive member is gone (the archive changed while it was read)")
    info = infos[source.index]
    if info.filename != source.member:
        raise UnreadableInput("archive member is gone (the archive changed while it was read)")
    return info


def _archive_members(path: str) -> Iterator[Source]:
    try:
        archive = _archive(path)
        infos = archive.infolist()
        problem = _archive_problem(archive, os.stat(path).st_size)
    except UnreadableInput as exc:
        yield Source(path, error=str(exc))
        return
    except READ_ERRORS as exc:
        yield Source(path, error=f"cannot open archive: {_reason(exc)}")
        return
    if problem is not None:
        yield Source(path, error=problem)
        return
    counts: dict[str, int] = {}
    for info in infos:
        counts[info.filename] = counts.get(info.filename, 0) + 1
    seen: dict[str, int] = {}
    for index, info in enumerate(infos):
        if info.is_dir():
            continue
        label = None
        if counts[info.filename] > 1:  # the same name twice: each member is read and reported on its own
            seen[info.filename] = seen.get(info.filename, 0) + 1
            label = f"{info.filename}#{seen[info.filename]}"
        yield Source(path, info.filename, index, label=label)


def _walk_dir(directory: str) -> Iterator[Source]:
    """Inputs under `directory` as `os.walk` finds them: a directory's own files in name order, then its
    subdirectories in name order (symbolic links to directories are not followed); a directory that cannot be
    listed is a source with its error (reported and counted, not skipped)."""
    try:
        files, dirs = _listing(directory)
    except OSError as exc:
        yield _unlistable(exc)
        return
    for name in files:
        yield from _file_sources(os.path.join(directory, name))
    for name in dirs:
        path = os.path.join(directory, name)
        if not os.path.islink(path):
            yield from _walk_dir(path)


LISTING_BUFFER = 1 << 17  # a directory's file names held in memory (about 13 MB); past it, sorted runs on disk
_RUN_READ = 1 << 15
_SPILL_WRITE = 1 << 12  # names of a run written at a time


def _listing(directory: str) -> tuple[Iterator[str], list[str]]:
    """The names of a directory's input files (sorted, as an iterator) and of its subdirectories (sorted). A
    folder of millions of messages is sorted outside memory: past `LISTING_BUFFER` names, each buffer goes to an
    anonymous temporary file as a sorted run (no name on disk: gone with the process, however it ends), and the
    runs are merged as they are read (the names a list held cost about 97 bytes a file in the command). If the
    temporary file cannot be written, the names stay in memory."""
    names: list[str] = []
    dirs: list[str] = []
    runs: list[tuple[int, int]] = []  # (start, end) of each sorted run in `spill`
    spill: IO[bytes] | None = None
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:  # as os.walk: not a directory
                is_dir = False
            name = entry.name
            if is_dir:
                dirs.append(name)
            elif name.lower().endswith(WALKED_SUFFIXES) and not name.startswith("."):
                names.append(name)
                if len(names) >= LISTING_BUFFER:
                    spill = _spill_run(names, spill, runs)
    dirs.sort()
    names.sort()
    if not runs:
        return iter(names), dirs
    assert spill is not None
    return _merged_runs(spill, runs, names), dirs


def _spill_run(names: list[str], spill: IO[bytes] | None, runs: list[tuple[int, int]]) -> IO[bytes] | None:
    """`names` sorted and appended to `spill` (made on first use) as a run, and emptied; left as they are if the
    disk refuses (full, or no temporary directory)."""
    import tempfile

    try:
        spill = spill or tempfile.TemporaryFile()  # noqa: SIM115 - closed when the merged runs are read
        names.sort()
        start = spill.seek(0, os.SEEK_END)
        for at in range(0, len(names), _SPILL_WRITE):  # (the whole run joined and encoded held it three times)
            spill.write("\0".join(names[at:at + _SPILL_WRITE]).encode("utf-8", "surrogatepass") + b"\0")
        spill.flush()
        runs.append((start, spill.tell()))
    except OSError:
        return spill
    names.clear()
    return spill


def _merged_runs(spill: IO[bytes], runs: list[tuple[int, int]], rest: list[str]) -> Iterator[str]:
    """The names of every run, and of `rest` (sorted), in one sorted order."""
    import heapq

    with spill:
        yield from heapq.merge(*(_run(spill.fileno(), start, end) for start, end in runs), rest)


def _run(fd: int, start: int, end: int) -> Iterator[str]:
    """The names of one sorted run (NUL-terminated UTF-8; a file name holds no NUL), read a block at a time."""
    pending = b""
    while start < end:
        block = os.pread(fd, min(_RUN_READ, end - start), start)
        if not block:
            raise OSError(f"the sorted listing's temporary file ended early ({start} of {end} bytes)")
        start += len(block)
        *done, pending = (pending + block).split(b"\0")
        yield from (name.decode("utf-8", "surrogatepass") for name in done)


def _unlistable(exc: OSError) -> Source:
    why = f"cannot read directory: {_reason(exc)}; its files were not read"
    return Source(os.fsdecode(exc.filename or "?"), error=why)


def _file_sources(path: str) -> Iterator[Source]:
    if path.lower().endswith(ARCHIVE_SUFFIX):
        yield from _archive_members(path)
    else:
        yield Source(path)


def _sources_of(path: str) -> Iterator[Source]:
    if os.path.isdir(path):
        yield from _walk_dir(path)
    else:
        yield from _file_sources(path)


def iter_sources(paths: Iterable[str | Path]) -> Iterator[Source]:
    """Every document under `paths`, in a stable order (sorted within each directory), unread."""
    for path in paths:
        yield from _sources_of(os.fspath(path))


def sample_sources(paths: Iterable[str | Path], limit: int) -> list[Source]:
    """Up to `limit` documents under `paths`, found cheaply, for a guess about a log (never for reading it): a
    directory's files in the order the file system lists them (not sorted: `iter_sources` lists a whole directory
    before its first document), then its subdirectories'; an archive's first members (not checked as
    `iter_sources` checks an archive: that reads every member's header)."""
    found: list[Source] = []
    pending = [os.fspath(path) for path in paths]
    while pending and len(found) < limit:
        path = pending.pop(0)
        if os.path.isdir(path):
            files, subdirectories = [], []
            with suppress(OSError), os.scandir(path) as entries:
                for entry in itertools.islice(entries, limit * 16):  # (a folder of other files is not scanned whole)
                    with suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            subdirectories.append(entry.path)
                        elif entry.name.lower().endswith(WALKED_SUFFIXES) and not entry.name.startswith("."):
                            files.append(entry.path)
            pending[:0] = files
            pending += subdirectories
        elif path.lower().endswith(ARCHIVE_SUFFIX):
            with suppress(UnreadableInput, *READ_ERRORS):
                members = enumerate(_archive(path).infolist())
                found += itertools.islice((Source(path, info.filename, index) for index, info in members
                                           if not info.is_dir()), limit - len(found))
        else:
            found.append(Source(path))
    return found


def head(source: Source, size: int) -> bytes:
    """The first `size` bytes of a document (b"" if it cannot be read), for a guess at what it is."""
    try:
        with source.open(1 << 62) as (stream, _):
            return stream.read(size)
    except (UnreadableInput, *READ_ERRORS):
        return b""
