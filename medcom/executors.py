"""Map a function over a stream in input order, on this process or a pool of worker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

SOURCES_PER_TASK = 32  # input documents sent to a worker at a time


def map_in_order(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, chunksize: int = 1) -> Iterator[R]:
    """fn(item) for each item, in input order. With workers > 1, `fn` must be picklable (module level or a
    partial of one) and the items small (they are all queued at once: pass paths, not contents); processes
    are spawned, so results do not depend on what the parent imported. Many small items: a `chunksize` of
    tens saves round trips; few heavy ones (replications): 1, so that every worker gets some."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(fn, items, chunksize=chunksize)
