"""Grouping: the connected groups of a log's items (items that share a link key, and receipts that answer no
message of the log with each other), packed into partitions of about a given size.

Memory does not follow the keys: they are read one file at a time (medcom.replay.links puts whatever shares a key
in one file, each at most a buffer's worth), and each file's shared keys are joined into a union-find over the
items (numpy, a batch at a time). What does follow the log is that union-find: 4 bytes an item (8 while the groups
are packed into partitions), against the ~50 bytes an item of the keys and ~200 of grouping them in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from medcom.replay.input_rules import NAMES_ENVELOPE, NAMES_MESSAGE
from medcom.replay.links import BUCKET_BITS, ENTRY, QUERY, RECEIPTS_FILE, LinkTable, bucket_path, write_buckets

CHUNK = 1 << 18  # items taken at a time by the passes over every item (bounds their temporary arrays)


def group(table: LinkTable) -> np.ndarray:
    """The group of every item, named by its first item (the least number in it): items that share a key, and
    receipts that answer no message of the log with each other. The table's files are read (and removed) here."""
    n = table.items
    index = np.int32 if n + 1 < np.iinfo(np.int32).max else np.int64
    parent = np.arange(n + 1, dtype=index)  # a union-find; n: the node of the receipts that answer no message
    answered = np.zeros(table.receipts, dtype=bool)  # per receipt row: one of its references is a message's
    for entries in _buckets(table):
        _join(entries, parent, answered)
    for start, nodes in _receipt_nodes(table):
        lost = nodes[~answered[start:start + len(nodes)]].astype(index)
        _union(parent, lost, np.full(len(lost), n, dtype=index))
    del answered
    _flatten(parent)
    return parent[:n]


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
        if path.stat().st_size > table.buffer * ENTRY.itemsize and len(name) // 2 < 64 // BUCKET_BITS:
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


def _receipt_nodes(table: LinkTable) -> Iterator[tuple[int, np.ndarray]]:
    """The node of every receipt row, a chunk at a time: (the first row's number, the nodes)."""
    start = 0
    if table.directory is not None and (path := table.directory / RECEIPTS_FILE).exists():
        with open(path, "rb") as stream:
            while len(nodes := np.fromfile(stream, dtype=np.int64, count=CHUNK)):
                yield start, nodes
                start += len(nodes)
        os.unlink(path)
    if len(table.receipt_nodes):
        yield start, np.frombuffer(table.receipt_nodes, dtype=np.int64)


def _join(entries: np.ndarray, parent: np.ndarray, answered: np.ndarray) -> None:
    """Items that share a key (all of its entries are in `entries`) joined; receipt rows whose reference a message
    of the log defines marked answered."""
    entries = entries[np.argsort(entries["key"])]
    asking = (entries["bits"] & QUERY) != 0
    keys = entries[~asking] if asking.any() else entries
    same = keys["key"][1:] == keys["key"][:-1]
    _union(parent, keys["item"][:-1][same], keys["item"][1:][same])
    if not asking.any():
        return
    queries = entries[asking]
    for bit in (NAMES_MESSAGE, NAMES_ENVELOPE):
        defined = keys["key"][(keys["bits"] & bit) != 0]  # (sorted)
        asked = queries[(queries["bits"] & bit) != 0]
        if len(defined) and len(asked):
            at = np.minimum(np.searchsorted(defined, asked["key"]), len(defined) - 1)
            answered[asked["item"][defined[at] == asked["key"]]] = True


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
