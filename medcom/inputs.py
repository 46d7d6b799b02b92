"""Walk the inputs a user names: files, directories (recursively) and .zip archives, one document at a time.

Directories contribute their `*.xml` files and `*.zip` archives (other files there are not messages:
scripts, side-cars, notes). A file named on the command line is always read, whatever its name, and so is
every member of an archive. Nothing is held in memory beyond the document being read; a document that
cannot be read is yielded with its error so that it is reported and counted, never dropped.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InputDocument:
    """One document: where it came from, and its bytes or why they could not be read."""

    source: str
    data: bytes | None
    error: str | None = None


def _walk_dir(directory: Path) -> Iterator[str]:
    """Message files under `directory`: a directory's own files in name order, then its subdirectories."""
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith((".xml", ".zip")) and not name.startswith("."):
                yield os.path.join(root, name)


def _read_zip(path: Path, max_bytes: int) -> Iterator[InputDocument]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield InputDocument(str(path), None, f"cannot open archive: {exc}")
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            source = f"{path}!{info.filename}"
            if info.file_size > max_bytes:
                yield InputDocument(source, None, f"archive member is {info.file_size:,} bytes, over the limit "
                                                  f"of {max_bytes:,}; not unpacked")
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)  # never more than the header promised, plus one
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield InputDocument(source, None, f"cannot read archive member: {exc}")
                continue
            if len(data) > info.file_size:
                yield InputDocument(source, None, "archive member unpacks to more than its header says")
            else:
                yield InputDocument(source, data)


def _read_file(path: str | Path, max_bytes: int) -> Iterator[InputDocument]:
    source = os.fspath(path)
    if source.lower().endswith(".zip"):
        yield from _read_zip(Path(path), max_bytes)
        return
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = None if size > max_bytes else handle.read()
    except IsADirectoryError:
        for file in _walk_dir(Path(path)):
            yield from _read_file(file, max_bytes)
        return
    except FileNotFoundError:
        yield InputDocument(source, None, "no such file or directory")
        return
    except OSError as exc:
        yield InputDocument(source, None, f"cannot read file: {exc.strerror}")
        return
    if data is None:
        yield InputDocument(source, None, f"file is {size:,} bytes, over the limit of {max_bytes:,}")
    else:
        yield InputDocument(source, data)


def iter_documents(paths: Iterable[str | Path], max_bytes: int) -> Iterator[InputDocument]:
    """Every document under `paths`, in a stable order (sorted within each directory)."""
    for path in paths:
        yield from _read_file(path, max_bytes)
