"""Grouping: the connected groups of a log's items (items that share a link key, and receipts that answer no
message of the log with each other), packed into partitions of about a given size. numpy and scipy arrays of
the keys' size: a log of millions of items groups in memory of a few arrays."""

from __future__ import annotations

import numpy as np

from medcom.replay.input_rules import NAMES_ENVELOPE, NAMES_MESSAGE
from medcom.replay.links import LinkTable


def group(spool: LinkTable) -> np.ndarray:
    """The connected group of every item (a label per item): items that share a key, and receipts that answer no
    message of the log with each other. Memory: a few arrays of the keys' size, the edges only where a key
    repeats (a chain through the items that share it)."""
    from scipy.sparse import coo_matrix  # here: scipy would slow the start of every command
    from scipy.sparse.csgraph import connected_components

    n = spool.items
    virtual = n  # the node of the receipts that answer no message of the log
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    order = np.argsort(np.frombuffer(spool.keys, dtype=np.int64), kind="stable")
    keys = np.frombuffer(spool.keys, dtype=np.int64)[order]
    nodes = np.repeat(np.arange(n, dtype=index), np.frombuffer(spool.counts, dtype=np.uint32))[order]
    bits = np.frombuffer(spool.bits, dtype=np.uint8)[order] if len(spool.receipt_nodes) else None
    del order
    repeat = keys[1:] == keys[:-1]  # entry i + 1 has entry i's key
    later = np.flatnonzero(repeat)
    rows, cols = [nodes[later]], [nodes[later + 1]]
    del later, nodes
    if bits is not None:
        starts = np.flatnonzero(np.concatenate(([True], ~repeat))) if len(keys) else np.zeros(0, dtype=np.int64)
        unique = keys[starts]
        defined = np.bitwise_or.reduceat(bits, starts) if len(starts) else np.zeros(0, dtype=np.uint8)
        del keys, bits, starts
        answered = np.zeros(len(spool.receipt_nodes), dtype=bool)
        for refs, bit in ((np.frombuffer(spool.receipt_m, dtype=np.int64), NAMES_MESSAGE),
                          (np.frombuffer(spool.receipt_v, dtype=np.int64), NAMES_ENVELOPE)):
            at = np.minimum(np.searchsorted(unique, refs), max(len(unique) - 1, 0))
            if len(unique):
                answered |= (refs != 0) & (unique[at] == refs) & ((defined[at] & bit) != 0)
        unanswered = np.frombuffer(spool.receipt_nodes, dtype=np.int64)[~answered].astype(index)
        rows.append(unanswered)
        cols.append(np.full(len(unanswered), virtual, dtype=index))
    else:
        del keys
    del repeat
    edges_from, edges_to = np.concatenate(rows), np.concatenate(cols)
    del rows, cols
    graph = coo_matrix((np.ones(len(edges_from), dtype=np.int8), (edges_from, edges_to)), shape=(n + 1, n + 1))
    del edges_from, edges_to
    graph = graph.tocsr()  # (the coordinates go)
    _, labels = connected_components(graph, directed=False)
    return labels[:n]


def pack(labels: np.ndarray, size: int) -> np.ndarray:
    """Groups packed into partitions of about `size` items, in the order of their first item; the partition of
    every item."""
    if not len(labels):
        return labels
    _, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # groups in input order of their first item
    before = np.empty(len(counts), dtype=np.int64)
    before[order] = np.cumsum(counts[order]) - counts[order]
    dense = np.unique(before // max(1, size), return_inverse=True)[1]  # partitions numbered without gaps
    return dense[inverse]
