"""A FIFO that tells whether anything opened it, without ever hanging the test that uses it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def watched_fifo(path: Path) -> Iterator[threading.Event]:
    """A FIFO at `path` and an event set when anything opens it for reading. A writer thread waits on it and
    serves every open with an empty file at once (so a regression fails the test instead of hanging it); on
    leaving, the test opens it itself once more to let the writer go."""
    os.mkfifo(path)
    opened = threading.Event()
    leaving = threading.Event()

    def writer() -> None:
        while True:
            fd = os.open(path, os.O_WRONLY)  # blocks until a reader comes
            os.close(fd)
            if leaving.is_set():
                return
            opened.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        leaving.set()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(5)
        os.close(fd)
