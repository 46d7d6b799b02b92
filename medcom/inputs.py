"""Walk the inputs a user names: files, directories (recursively) and .zip archives, one document at a time.

Directories contribute their `*.xml` files and `*.zip` archives (other files there are not messages:
scripts, side-cars, notes). A file named on the command line is always read, whatever its name, and so is
every member of an archive. Nothing is held in memory beyond the document being read; a document that
cannot be read is yielded with its error so that it is reported and counted, never dropped.
"""

from __future__ import annotations

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


def _walk_dir(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in (".xml", ".zip") and not path.name.startswith("."):
            yield path


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
                    data = member.read(max_bytes + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield InputDocument(source, None, f"cannot read archive member: {exc}")
                continue
            if len(data) > max_bytes:
                yield InputDocument(source, None, f"archive member unpacks to over {max_bytes:,} bytes")
            else:
                yield InputDocument(source, data)


def _read_file(path: Path, max_bytes: int) -> Iterator[InputDocument]:
    if path.suffix.lower() == ".zip":
        yield from _read_zip(path, max_bytes)
        return
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield InputDocument(str(path), None, f"file is {size:,} bytes, over the limit of {max_bytes:,}")
            return
        yield InputDocument(str(path), path.read_bytes())
    except OSError as exc:
        yield InputDocument(str(path), None, f"cannot read file: {exc.strerror}")


def iter_documents(paths: Iterable[str | Path], max_bytes: int) -> Iterator[InputDocument]:
    """Every document under `paths`, in a stable order (sorted within each directory)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk_dir(path):
                yield from _read_file(file, max_bytes)
        elif path.exists():
            yield from _read_file(path, max_bytes)
        else:
            yield InputDocument(str(path), None, "no such file or directory")
