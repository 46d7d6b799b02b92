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

from medcom.events import Event
from medcom.events.from_messages import MessageEvents
from medcom.replay import LogFacts
from medcom.replay.input_rules import by_envelope, by_message, relations_of


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


class LinkTable:
    """The links of numbered items (0, 1, ...), in arrays (9 bytes a key, 4 an item), and what they tell of the
    log."""

    def __init__(self) -> None:
        self.items = 0
        self.keys, self.bits, self.counts = array("q"), array("B"), array("I")  # counts: keys of each item
        self.receipt_nodes, self.receipt_m, self.receipt_v = array("q"), array("q"), array("q")
        self.estimate = LogFacts(False, False, None)

    def add(self, links: Links) -> int:
        """The next item's number."""
        node = self.items
        self.items += 1
        self.keys.extend(links.keys)
        self.bits.extend(links.bits)
        self.counts.append(len(links.keys))
        for m, v in links.receipts:
            self.receipt_nodes.append(node)
            self.receipt_m.append(m)
            self.receipt_v.append(v)
        self.estimate = self.estimate.joined(LogFacts(links.has_receipts, links.has_phone_calls, links.first))
        return node
