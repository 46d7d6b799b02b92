"""Grouping: the connected groups of a log's items (items that share a link key), packed into partitions of about
a given size. A receipt of a message that is not in the log shares a key with no message: it is a group of its
own, or with the other receipts of that message (the receipts of a log's rejected messages were all one group,
which grew with the log: 17,971 of 115,783 items of a generated 100,002-message log, about ten partitions' worth in
one at a million, the worker that peaked at 451 MiB).

Memory does not follow the keys: they are read one file at a time (medcom.replay.links puts whatever shares a key
in one file, each at most a buffer's worth), and each file's shared keys are joined into a union-find over the
items (numpy, a batch at a time). What does follow the log is that union-find: 4 bytes an item (8 while the groups
are packed into partitions), against the ~50 bytes an item of the keys and ~200 of grouping them in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from medcom.replay.links import BUCKET_BITS, ENTRY, LinkTable, bucket_path, write_buckets

CHUNK = 1 << 18  # items taken at a time by the passes over every item (bounds their temporary arrays)


def group(table: LinkTable) -> np.ndarray:
    """The group of every item, named by its first item (the least number in it): items that share a key. The
    table's files are read (and removed) here."""
    n = table.items
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    parent = np.arange(n, dtype=index)  # a union-find
    for entries in _buckets(table):
        _join(entries, parent)
    _flatten(parent)
    return parent


def pack(labels: np.ndarray, size: int) -> np.ndarray:
    """Groups packed into partitions of about `size` items, in the order of their first item; the partition of
    every item. `labels` names each item's group by its first item (as `group` does) and is overwritten."""
    n = len(labels)
    counts = np.zeros(n, dtype=labels.dtype)  # items of the group whose first item is here (0: not a first)
    for start in range(0, n, CHUNK):
        np.add.at(counts, labels[start:start + CHUNK], 1)
    before, last, number = 0, -1, -1  # items in earlier groups; the last group's slot and partition number
    for start in range(0, n, CHUNK):
        chunk = counts[start:start + CHUNK]  # (a view: partition numbers are written over the counts)
        firsts = np.flatnonzero(chunk)
        sizes = chunk[firsts].astype(np.int64)
        slots = (before + np.cumsum(sizes) - sizes) // max(1, size)
        before += int(sizes.sum())
        numbers = number + np.cumsum(slots != np.concatenate(([last], slots[:-1])))  # partitions without gaps
        if len(slots):
            last, number = int(slots[-1]), int(numbers[-1])
        chunk[firsts] = numbers
    for start in range(0, n, CHUNK):
        labels[start:start + CHUNK] = counts[labels[start:start + CHUNK]]
    return labels


def _buckets(table: LinkTable) -> Iterator[np.ndarray]:
    """The table's entries, a key's entries all in one array: those in memory, or file by file (a file of more
    than a buffer's worth split first by its keys' next bits)."""
    if not table.buckets:
        yield table.entries()
        return
    assert table.directory is not None
    table.spill()
    work = sorted(table.buckets, reverse=True)
    while work:
        name = work.pop()
        path = bucket_path(table.directory, name)
        if path.stat().st_size > table.buffer * np.dtype(ENTRY).itemsize and len(name) // 2 < 64 // BUCKET_BITS:
            parts: set[str] = set()
            with open(path, "rb") as stream:
                while len(entries := np.fromfile(stream, dtype=ENTRY, count=table.buffer)):
                    parts.update(write_buckets(entries, table.directory, name))
            os.unlink(path)
            work.extend(sorted(parts, reverse=True))
            continue
        entries = np.fromfile(path, dtype=ENTRY)
        os.unlink(path)
        yield entries


def _join(entries: np.ndarray, parent: np.ndarray) -> None:
    """Items that share a key (all of its entries are in `entries`) joined."""
    entries = entries[np.argsort(entries["key"])]
    same = entries["key"][1:] == entries["key"][:-1]
    _union(parent, entries["item"][:-1][same], entries["item"][1:][same])


def _find(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The root of each node (its group's least item so far); the nodes are pointed at it."""
    roots = parent[nodes]
    while not np.array_equal(up := parent[roots], roots):
        roots = up
    parent[nodes] = roots
    return roots


def _union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the groups of a[i] and b[i] for every i: each connected set of roots points at its least root."""
    if not len(a):
        return
    from scipy.sparse import coo_matrix  # here: scipy would slow the start of every command
    from scipy.sparse.csgraph import connected_components

    ra, rb = _find(parent, a), _find(parent, b)
    apart = ra != rb
    if not apart.any():
        return
    ra, rb = ra[apart], rb[apart]
    roots, inverse = np.unique(np.concatenate((ra, rb)), return_inverse=True)
    edges = len(ra)
    graph = coo_matrix((np.ones(edges, dtype=np.int32), (inverse[:edges], inverse[edges:])),
                       shape=(len(roots), len(roots))).tocsr()
    _, labels = connected_components(graph, directed=False)
    least = roots[np.unique(labels, return_index=True)[1]]  # (roots are sorted: a set's first is its least)
    parent[roots] = least[labels]


def _flatten(parent: np.ndarray) -> None:
    """Every node pointed at its root (a chunk at a time: each points lower, so earlier chunks are done)."""
    for start in range(0, len(parent), CHUNK):
        roots = parent[start:start + CHUNK]
        while not np.array_equal(up := parent[roots], roots):
            roots = up
        parent[start:start + CHUNK] = roots
