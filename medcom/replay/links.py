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
from typing import TYPE_CHECKING

from medcom.events import Event
from medcom.events.from_messages import MessageEvents
from medcom.replay import LogFacts
from medcom.replay.input_rules import relations_of

if TYPE_CHECKING:
    import numpy as np
# numpy is imported where entries are packed (in the command): a worker reading documents needs `links_of` alone,
# and a worker forked from the fork server (medcom.replay.warm) starts without numpy's ~0.1 s and ~10 MiB.


def _hash(key: str) -> int:
    """A key as a signed 64-bit number, the same in every process (unlike `hash`)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1  # 0 stands for "no key"


@dataclass(slots=True)
class Links:
    """What ties one spooled item to others (hashed keys), and what it tells of the whole log."""

    keys: list[int] = field(default_factory=list)
    has_receipts: bool = False
    has_phone_calls: bool = False
    first: datetime | None = None


def links_of(events: Iterable[Event], message: MessageEvents | None = None) -> Links:
    """The links of a message (its events and how it relates to others) or of a timeline line (one event)."""
    events = list(events)
    links = Links([_hash(k) for k in relations_of(events, message).keys])
    for event in events:
        at = event.at.astimezone(UTC)
        links.first = at if links.first is None or at < links.first else links.first
        links.has_receipts |= event.kind == "receipt_sent"
        links.has_phone_calls |= event.kind == "phone_call"
    return links


ENTRY = [("key", "<i8"), ("item", "<i8")]  # numpy's dtype of one key of an item (16 bytes on disk)
LINK_BUFFER = 1 << 18  # entries held in memory before they go to disk (4 MiB packed; ~50,000 messages)
BUCKET_BITS = 6  # entries go to 2**BUCKET_BITS files by their key's top bits (and again by the next, if too big)


class LinkTable:
    """The links of numbered items (0, 1, ...), and what they tell of the log. Each key of an item is an entry
    (key, item); up to `buffer` entries are held in memory, the rest go to files in `directory`, one per range of
    key values, so that whatever shares a key is in one file: grouping reads one file at a time and memory stays
    flat in the log's size (the files are the run's: removed with its directory)."""

    def __init__(self, directory: Path | None = None, buffer: int | None = None) -> None:
        self.items = 0
        self.directory = directory  # None: everything stays in memory
        self.buffer = max(1, LINK_BUFFER if buffer is None else buffer)
        self.keys, self.nodes = array("q"), array("q")  # the entries not yet on disk
        self.buckets: set[str] = set()  # the files written (by name), if any
        self.estimate = LogFacts(False, False, None)

    def add(self, links: Links) -> int:
        """The next item's number."""
        node = self.items
        self.items += 1
        self.keys.extend(links.keys)
        self.nodes.extend([node] * len(links.keys))
        if self.directory is not None and len(self.keys) >= self.buffer:
            self.spill()
        self.estimate = self.estimate.joined(LogFacts(links.has_receipts, links.has_phone_calls, links.first))
        return node

    def entries(self) -> np.ndarray:
        """The entries held in memory (a packed copy)."""
        import numpy as np

        out = np.empty(len(self.keys), dtype=ENTRY)
        out["key"] = np.frombuffer(self.keys, dtype=np.int64)
        out["item"] = np.frombuffer(self.nodes, dtype=np.int64)
        return out

    def spill(self) -> None:
        """The entries in memory to their files (appended: each file stays in input order)."""
        assert self.directory is not None
        self.buckets.update(write_buckets(self.entries(), self.directory, ""))
        self.keys, self.nodes = array("q"), array("q")


def bucket_path(directory: Path, name: str) -> Path:
    return directory / f"links-{name}"


def write_buckets(entries: np.ndarray, directory: Path, parent: str) -> list[str]:
    """`entries` appended to the files of their key's next BUCKET_BITS bits below the bits `parent` names
    (a bucket's name: two hex digits a level); the names written."""
    import numpy as np

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
