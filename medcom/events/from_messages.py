"""What a message tells the engine, whatever format carried it: the message event and the facts it states.

`MessageEvents` is the common shape of every format's mapping (`from_oioxml`, `from_fhir`): the events, and
what the replay's input stage needs to apply corrections, cancellations and receipts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from medcom.events import Event

NEW, CORRECTED, CANCELLED = "new", "corrected", "cancelled"


@dataclass(slots=True)
class MessageEvents:
    """The events of one message, and how it relates to others."""

    events: list[Event] = field(default_factory=list)
    status: str = NEW  # new, corrected (replaces the previous message of its kind), cancelled (withdraws it)
    kind: str | None = None  # the message event's kind: what "the previous message of the same family" means
    cpr: str | None = None
    episode: str | None = None
    replaces: str | None = None  # a correction or cancellation that names what it changes
    aliases: tuple[str, ...] = ()  # other episode keys naming the same episode (a FHIR LPR3 id beside the local)
    sender: tuple[str, ...] = ()  # the sender's identifiers (GLN/EAN, SOR): a log tells which side each is on
    receiver: tuple[str, ...] = ()  # the (primary) receiver's
    document: str = ""  # the input document that carried the message (its letters share it); "": the event's source
    wrappers: tuple[tuple[str, str], ...] = ()  # the transport envelopes around it (ReadMessage.wrappers)

    def __reduce__(self) -> tuple[type[MessageEvents], tuple[object, ...]]:
        """Pickled as its fields in order (faster than slots' state; worker processes send many)."""
        return MessageEvents, (self.events, self.status, self.kind, self.cpr, self.episode, self.replaces,
                               self.aliases, self.sender, self.receiver, self.document, self.wrappers)


_EPISODE_JUNK = re.compile(r"[-\s]")


def episode_id_for_name(name: str) -> str:
    """The 32-hex episode-of-care id `medcom build` gives an episode a timeline names (as real ids look); replay
    maps it back to the name a side-car uses."""
    return hashlib.md5(name.encode("utf-8"), usedforsecurity=False).hexdigest()


def episode_key(identifier: str | None) -> str | None:
    """An episode-of-care identifier as a key: case, hyphens and an LPR3 'urn:uuid:' prefix ignored
    (CONTRACT.md: the FHIR id without hyphens is the OIOXML one)."""
    if not identifier:
        return None
    text = identifier.strip().lower()
    text = text.removeprefix("urn:uuid:")
    return _EPISODE_JUNK.sub("", text) or None
