"""Files the user names or medcom writes, handled safely: bounded names made from untrusted text, output
never written through a planted symlink, small input files (policy, scenario) never read from a FIFO or device,
and output locations checked before the work starts.

Receipts and built messages are named after identifiers read from their inputs, and written into a directory
others may also write to. So a name keeps only safe characters and a bounded length (a 300-character
envelope id would exceed the file system's 255 bytes), and a file is created exclusively
(O_CREAT | O_EXCL | O_NOFOLLOW): an existing file, or a symlink planted under the expected name, is never
followed nor overwritten; the new file takes the next free name instead.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

MAX_NAME_PART = 64  # characters kept of an identifier in a file name
MAX_ATTEMPTS = 1000  # names tried (name, name.2, name.3, ...) before giving up
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def safe_name(text: str, max_length: int = MAX_NAME_PART) -> str:
    """A file name part from any text: letters, digits, '.', '_' and '-' only, not starting with a dot, at
    most `max_length` characters. A longer text is cut and ends with a hash of the whole, so that two long
    identifiers that share a beginning still get different names."""
    name = _UNSAFE.sub("_", text).lstrip(".") or "_"
    if len(name) <= max_length and name == text:
        return name
    if len(name) > max_length:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        name = f"{name[:max_length - 13]}~{digest}"
    return name


def _numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{n}.{suffix}" if dot and stem else f"{name}.{n}"


def create_new(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to a new file `name` in `directory` (or `stem.2.suffix`, `stem.3.suffix`, ... when that
    name is taken) and return its path. Never follows a symlink, never overwrites; `FileExistsError` when no
    free name is found, OSError when the directory cannot be written."""
    if "/" in name or os.sep in name or name in ("", ".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    for n in range(1, MAX_ATTEMPTS + 1):
        path = directory / _numbered(name, n)
        try:
            fd = os.open(path, _FLAGS, 0o644)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(f"{directory / name}: this name and {MAX_ATTEMPTS - 1} numbered ones are taken")


def replace_file(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` as `directory/name`, replacing what is there: written to a new temporary file first,
    then renamed over the name (a symlink there is replaced, its target left alone)."""
    temporary = create_new(directory, f".{name}.tmp", data)
    target = directory / name
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a small regular file the user named (a policy, a scenario, a suppression list): never a
    FIFO or device (they would block or never end), never more than `max_bytes`. OSError says why not."""
    kind = _not_regular(os.stat(path).st_mode)
    if kind is not None:
        raise OSError(errno.EINVAL, f"not a regular file ({kind})")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise OSError(errno.EINVAL, f"not a regular file ({kind})")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes:,} bytes")
    return data


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket or other special file"


def writable_dir_problem(path: Path) -> str | None:
    """Why the directory `path` could not be created or written (None: it can), without creating anything:
    the nearest part of the path that exists must be a writable directory."""
    here = path
    while not os.path.lexists(here):
        if here.parent == here:
            break
        here = here.parent
    if here != path and not os.path.isdir(here):
        return f"{here} is not a directory"
    if not os.path.isdir(here):
        return f"{here} exists and is not a directory"
    if not os.access(here, os.W_OK | os.X_OK):
        return f"{here} is not writable"
    return None


def writable_file_problem(path: Path) -> str | None:
    """Why a report could not be written to `path` (None: it can): its directory must exist and be writable,
    and `path` must not be a directory."""
    if os.path.isdir(path):
        return f"{path} is a directory"
    parent = path.parent
    if not os.path.isdir(parent):
        return f"directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    return None
