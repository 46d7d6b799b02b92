"""Pieces of a report put aside during its one pass over the episodes, written after what that pass writes first.

The text report lists every episode in a table before the details of those with violations; the HTML page has an
index before the sections. Both come out of one read of the episodes (a partitioned replay's are unpickled from
disk, which is the costly part): the later part is put aside here, in memory up to `IN_MEMORY` bytes and then in
a temporary file, so memory stays bounded whatever the log. Pieces come back exactly as they were added (a piece
may hold newlines; a CPR number is never cut between two pieces).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator

IN_MEMORY = 8 << 20  # bytes held before the pieces go to a temporary file


class Deferred:
    """Pieces of text kept in the order added, given back once by `pieces`."""

    def __init__(self, in_memory: int = IN_MEMORY) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115  (closed by `pieces`)

    def add(self, pieces: list[str]) -> None:
        if pieces:
            pickle.dump(pieces, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def pieces(self) -> Iterator[str]:
        """The pieces added, in order; the store is gone after them."""
        with self._file as stream:
            stream.seek(0)
            while True:
                try:
                    batch: list[str] = pickle.load(stream)
                except EOFError:
                    return
                yield from batch
