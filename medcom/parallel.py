"""Map a function over a stream in input order, on this process or a pool of worker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WINDOW = 256  # items in flight at once: memory stays bounded whatever the stream's length


def map_in_order(fn: Callable[[T], R], items: Iterable[T], workers: int = 1) -> Iterator[R]:
    """fn(item) for each item, in input order. With workers > 1, `fn` must be picklable (module level or a
    partial of one); processes are spawned, so results do not depend on what the parent imported."""
    items = iter(items)
    if workers <= 1:
        yield from map(fn, items)
        return
    with get_context("spawn").Pool(workers) as pool:
        while window := list(islice(items, WINDOW)):
            yield from pool.map(fn, window, chunksize=max(1, len(window) // (4 * workers)))
