"""Walk the inputs a user names: files, directories (recursively) and .zip archives, one document at a time.

Directories contribute their `*.xml` and `*.json` files (OIOXML, FHIR) and `*.zip` archives (other files there
are not messages: scripts, side-cars, notes). A file named on the command line is always read, whatever its
name, and so is every member of an archive. Walking yields cheap `Source`s (a path, or an archive member);
`read` turns one into its bytes, so that worker processes can read what they check and the parent never holds
more than a document. A document that cannot be read is returned with its error, so that it is reported and
counted, never dropped.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ARCHIVE_SUFFIX = ".zip"


@dataclass(frozen=True)
class InputDocument:
    """One document: where it came from, and its bytes or why they could not be read."""

    source: str
    data: bytes | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where one document is: a file, or a member of the archive at `path`; `error` if the walk failed."""

    path: str
    member: str | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member is not None else self.path

    def read(self, max_bytes: int) -> InputDocument:
        if self.error is not None:
            return InputDocument(self.name, None, self.error)
        return _read_member(self, max_bytes) if self.member is not None else _read_file(self.path, max_bytes)


def _walk_dir(directory: str) -> Iterator[str]:
    """Message files under `directory`: a directory's own files in name order, then its subdirectories."""
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith((".xml", ".json", ARCHIVE_SUFFIX)) and not name.startswith("."):
                yield os.path.join(root, name)


@lru_cache(maxsize=4)
def _archive(path: str) -> zipfile.ZipFile:
    """An open archive, kept for the members that follow (per process)."""
    return zipfile.ZipFile(path)


def _archive_members(path: str) -> Iterator[Source]:
    try:
        infos = _archive(path).infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        yield Source(path, error=f"cannot open archive: {exc}")
        return
    for info in infos:
        if not info.is_dir():
            yield Source(path, info.filename)


def _read_member(source: Source, max_bytes: int) -> InputDocument:
    name = source.name
    try:
        archive = _archive(source.path)
        info = archive.getinfo(source.member or "")
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        return InputDocument(name, None, f"cannot open archive member: {exc}")
    if info.file_size > max_bytes:
        return InputDocument(name, None, f"archive member is {info.file_size:,} bytes, over the limit of "
                                         f"{max_bytes:,}; not unpacked")
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)  # never more than the header promised, plus one
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        return InputDocument(name, None, f"cannot read archive member: {exc}")
    if len(data) > info.file_size:
        return InputDocument(name, None, "archive member unpacks to more than its header says")
    return InputDocument(name, data)


def _read_file(path: str, max_bytes: int) -> InputDocument:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = None if size > max_bytes else handle.read()
    except FileNotFoundError:
        return InputDocument(path, None, "no such file or directory")
    except OSError as exc:
        return InputDocument(path, None, f"cannot read file: {exc.strerror}")
    if data is None:
        return InputDocument(path, None, f"file is {size:,} bytes, over the limit of {max_bytes:,}")
    return InputDocument(path, data)


def _file_sources(path: str) -> Iterator[Source]:
    if path.lower().endswith(ARCHIVE_SUFFIX):
        yield from _archive_members(path)
    else:
        yield Source(path)


def _sources_of(path: str) -> Iterator[Source]:
    if os.path.isdir(path):
        for file in _walk_dir(path):  # files the walk found: no second look at what they are
            yield from _file_sources(file)
    else:
        yield from _file_sources(path)


def iter_sources(paths: Iterable[str | Path]) -> Iterator[Source]:
    """Every document under `paths`, in a stable order (sorted within each directory), unread."""
    for path in paths:
        yield from _sources_of(os.fspath(path))
