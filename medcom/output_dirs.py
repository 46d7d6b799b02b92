"""Output folders that cannot mix two runs: `build --out`, `simulate --out`, `simulate --emit-log` and
`validate --receipts` write into a folder that is empty, or that holds only what medcom wrote there before.

Why: a log folder that still holds an earlier run's messages is replayed as one log (the README's own lines once
turned "the same report" into three ADM-1 errors, and calibrate fitted a tenth of the admissions without a word).

How medcom knows what it wrote: when a command has written a folder it leaves `.medcom-output` there, a
list of every file under the folder (relative paths, one a line, after a first comment line). The folder was
empty (or emptied) when the command began, so everything in it then is the command's. `--force` deletes exactly
the files that list names (and the folders left empty by that); a file the list does not name is the user's,
and medcom refuses rather than delete it. Readers skip the list (medcom reads no hidden file of a folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

MARKER = ".medcom-output"
_HEADER = "# files medcom wrote in this folder; `--force` deletes these and nothing else\n"


class OutputDirError(Exception):
    """The folder cannot be used (one line saying what to do)."""


def _files(root: Path) -> list[str]:
    """Every file and symlink under `root`, as relative POSIX paths, sorted (directories left out)."""
    found = []
    for here, dirs, files in os.walk(root):
        dirs.sort()
        found += [Path(here, n).relative_to(root).as_posix() for n in files]
        found += [Path(here, d).relative_to(root).as_posix() for d in dirs if os.path.islink(Path(here, d))]
    return sorted(found)


def _count(names: list[str]) -> str:
    return "1 file" if len(names) == 1 else f"{len(names)} files"


def _written(root: Path) -> set[str] | None:
    """The files the marker lists, or None when there is no readable marker."""
    try:
        text = (root / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def prepare(root: Path, option: str, force: bool) -> None:
    """Make `root` ready for a run: it may be absent or empty; with `force`, medcom's earlier files in it are
    deleted. OutputDirError says why not (a folder with files medcom did not write is never emptied)."""
    if not root.is_dir():
        return
    present = [f for f in _files(root) if f != MARKER]
    if not present:
        return
    if not force:
        raise OutputDirError(f"{option} {root} is not empty ({_count(present)}, e.g. {present[0]}); give an empty or "
                             f"new folder, or --force to replace what medcom wrote there")
    written = _written(root)
    if written is None:
        raise OutputDirError(f"{option} {root} holds files medcom did not write (no {MARKER} list there), e.g. "
                             f"{present[0]}; medcom does not delete them: give an empty or new folder")
    foreign = [f for f in present if f not in written]
    if foreign:
        raise OutputDirError(f"{option} {root} holds {_count(foreign)} medcom did not write, e.g. {foreign[0]}; "
                             f"medcom does not delete them: move them, or give an empty or new folder")
    for name in present:
        (root / name).unlink()
    for here in sorted((w[0] for w in os.walk(root)), key=len, reverse=True):
        if Path(here) != root and not os.listdir(here):
            os.rmdir(here)
    (root / MARKER).unlink(missing_ok=True)


def record(root: Path) -> None:
    """Leave the list of what is now under `root` (all of it medcom's: the folder was empty when the run began)."""
    if root.is_dir():
        (root / MARKER).write_text(_HEADER + "".join(f"{f}\n" for f in _files(root) if f != MARKER),
                                   encoding="utf-8")


@contextmanager
def owned(root: Path, option: str, force: bool) -> Iterator[Path]:
    """`prepare`, create the folder, and `record` what was written even when the run stops half-way (so that
    `--force` can clear a half-written folder too)."""
    prepare(root, option, force)
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    finally:
        with suppress(OSError):  # the run's own error about this folder says more
            record(root)
