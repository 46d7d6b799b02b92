"""The links of each input of a log: the keys that tie it to others, hashed (the input rules declare the keys:
medcom.replay.input_rules.relations_of), and what it tells of the whole log (LogFacts). Whatever shares a key is
replayed in one partition (medcom.replay.grouping). Keys are hashed to 64 bits; two keys that collide merely put
two partitions' worth of episodes together."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from medcom.events import Event
from medcom.events.from_messages import MessageEvents
from medcom.replay import LogFacts
from medcom.replay.input_rules import NAMES_ENVELOPE, NAMES_MESSAGE, by_envelope, by_message, relations_of


def _hash(key: str) -> int:
    """A key as a signed 64-bit number, the same in every process (unlike `hash`)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1  # 0 stands for "no key"


@dataclass(slots=True)
class Links:
    """What ties one spooled item to others (hashed keys), and what it tells of the whole log."""

    keys: list[int] = field(default_factory=list)
    bits: list[int] = field(default_factory=list)  # per key: input_rules.NAMES_MESSAGE, NAMES_ENVELOPE or 0
    receipts: list[tuple[int, int]] = field(default_factory=list)  # receipts of no episode: (M:ref, V:ref) or 0
    has_receipts: bool = False
    has_phone_calls: bool = False
    first: datetime | None = None


def links_of(events: Iterable[Event], message: MessageEvents | None = None) -> Links:
    """The links of a message (its events and how it relates to others) or of a timeline line (one event)."""
    events = list(events)
    related = relations_of(events, message)
    links = Links([_hash(k) for k in related.keys], list(related.keys.values()),
                  [(_hash(by_message(ref)), _hash(by_envelope(ref))) if ref else (0, 0) for ref in related.unanswered])
    for event in events:
        at = event.at.astimezone(UTC)
        links.first = at if links.first is None or at < links.first else links.first
        links.has_receipts |= event.kind == "receipt_sent"
        links.has_phone_calls |= event.kind == "phone_call"
    return links


ENTRY = np.dtype([("key", "<i8"), ("item", "<i8"), ("bits", "u1")])  # one key of an item (17 bytes on disk)
QUERY = 0x80  # an entry's bit: not a key of the item but a receipt's reference asking whether a message defines it
LINK_BUFFER = 1 << 18  # entries held in memory before they go to disk (~4.5 MiB packed; ~50,000 messages)
BUCKET_BITS = 6  # entries go to 2**BUCKET_BITS files by their key's top bits (and again by the next, if too big)


class LinkTable:
    """The links of numbered items (0, 1, ...), and what they tell of the log. Each key of an item is an entry
    (key, item, bits), and each M:/V: reference of a receipt of no episode a QUERY entry (key, receipt row, bits);
    up to `buffer` entries are held in memory, the rest go to files in `directory`, one per range of key values,
    so that whatever shares a key is in one file: grouping reads one file at a time and memory stays flat in the
    log's size (the files are the run's: removed with its directory)."""

    def __init__(self, directory: Path | None = None, buffer: int | None = None) -> None:
        self.items = 0
        self.receipts = 0  # rows: (node, M:ref, V:ref) of receipts that answer no message of their episode
        self.directory = directory  # None: everything stays in memory
        self.buffer = max(1, LINK_BUFFER if buffer is None else buffer)
        self.keys, self.nodes, self.bits = array("q"), array("q"), array("B")  # the entries not yet on disk
        self.receipt_nodes = array("q")  # the node of each receipt row not yet on disk
        self.buckets: set[str] = set()  # the files written (by name), if any
        self.estimate = LogFacts(False, False, None)

    def add(self, links: Links) -> int:
        """The next item's number."""
        node = self.items
        self.items += 1
        self.keys.extend(links.keys)
        self.bits.extend(links.bits)
        self.nodes.extend([node] * len(links.keys))
        for m, v in links.receipts:
            row = self.receipts
            self.receipts += 1
            self.receipt_nodes.append(node)
            for ref, bit in ((m, NAMES_MESSAGE), (v, NAMES_ENVELOPE)):
                if ref:
                    self.keys.append(ref)
                    self.nodes.append(row)
                    self.bits.append(QUERY | bit)
        if self.directory is not None and (len(self.keys) >= self.buffer or len(self.receipt_nodes) >= self.buffer):
            self.spill()
        self.estimate = self.estimate.joined(LogFacts(links.has_receipts, links.has_phone_calls, links.first))
        return node

    def entries(self) -> np.ndarray:
        """The entries held in memory (a packed copy)."""
        out = np.empty(len(self.keys), dtype=ENTRY)
        out["key"] = np.frombuffer(self.keys, dtype=np.int64)
        out["item"] = np.frombuffer(self.nodes, dtype=np.int64)
        out["bits"] = np.frombuffer(self.bits, dtype=np.uint8)
        return out

    def spill(self) -> None:
        """The entries and receipt rows in memory to their files (appended: each file stays in input order)."""
        assert self.directory is not None
        self.buckets.update(write_buckets(self.entries(), self.directory, ""))
        self.keys, self.nodes, self.bits = array("q"), array("q"), array("B")
        with open(self.directory / RECEIPTS_FILE, "ab") as out:
            out.write(self.receipt_nodes.tobytes())
        self.receipt_nodes = array("q")


RECEIPTS_FILE = "links-receipts"


def bucket_path(directory: Path, name: str) -> Path:
    return directory / f"links-{name}"


def write_buckets(entries: np.ndarray, directory: Path, parent: str) -> list[str]:
    """`entries` appended to the files of their key's next BUCKET_BITS bits below the bits `parent` names
    (a bucket's name: two hex digits a level); the names written."""
    shift = 64 - BUCKET_BITS * (len(parent) // 2 + 1)
    number = ((entries["key"].view(np.uint64) >> np.uint64(shift)) & np.uint64((1 << BUCKET_BITS) - 1)).astype(np.uint8)
    order = np.argsort(number, kind="stable")  # (stable: each file in input order)
    bounds = np.concatenate(([0], np.cumsum(np.bincount(number, minlength=1 << BUCKET_BITS))))
    del number
    names = []
    for b in range(1 << BUCKET_BITS):
        if bounds[b] < bounds[b + 1]:
            name = f"{parent}{b:02x}"
            with open(bucket_path(directory, name), "ab") as out:
                out.write(entries[order[bounds[b]:bounds[b + 1]]].tobytes())
            names.append(name)
    return names
