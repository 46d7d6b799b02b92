"""`medcom build`: a timeline as the real MedCom messages it describes, plus an events.jsonl side-car.

Each *_sent event becomes one message in the format hospitals and municipalities send, written by its writer in
`WRITERS` (one per event kind and format: `to_oioxml`, `to_fhir`; medcom.formats.oioxml.write says which OIOXML
version); facts go into the messages that state them (an admission advice states the
admission, a discharge advice the discharge, a care plan the ready time ...). Nothing is invented: a message
states a fact only where the timeline has it. Every built message is then read back with the same adapters
replay uses, and whatever the message cannot carry (a time to the second, the decision of an acknowledgement
that real correspondence only says in free text, a reply reference, the precise destination) goes to the
side-car, in the timeline format, so that replaying the output gives the timeline's report. The side-car also
repeats each episode's admission, which names the episode (replay maps the message's episode-of-care id back).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from medcom.calendar import to_local
from medcom.events import FACT_EVENTS, Event, to_fhir, to_oioxml
from medcom.events.from_fhir import events_of_fhir
from medcom.events.from_messages import MessageEvents, episode_id_for_name
from medcom.events.from_oioxml import events_of_letter
from medcom.formats.fhir import build_acknowledgement, compose
from medcom.formats.fhir_adapter import FhirContent
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.formats.oioxml import write
from medcom.formats.oioxml.letters import Letter
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.formats.read import read_document
from medcom.identifiers import make_gln, municipality_name
from medcom.safe_files import replace_file, safe_name

_IDENTIFIER = re.compile(r"^[A-Za-z0-9._-]{1,14}$")
_READ = ReadOptions(sent_before_event=False)

Writer = Callable[["_Episode", Event], bytes | dict[str, Any] | None]
# (event kind, format) -> the writer of its message: OIOXML letters (to_oioxml) and MedCom FHIR (to_fhir)
WRITERS: dict[tuple[str, str], Writer] = {
    **{(kind, "oioxml"): w for kind, w in to_oioxml.WRITERS.items()},
    **{(kind, "fhir"): w for kind, w in to_fhir.WRITERS.items()},
}


def writer_for(kind: str, formats: str) -> Writer | None:
    """The writer of a *_sent event under build's `formats`: national writes FHIR where MedCom's FHIR messages
    replace OIOXML and OIOXML for the rest; oioxml writes OIOXML only. None: no message of `formats` carries it."""
    if formats == "national" and (kind, "fhir") in WRITERS:
        return WRITERS[kind, "fhir"]
    return WRITERS.get((kind, "oioxml"))


def _digits(text: str, n: int) -> str:
    return str(int(hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest(), 16))[:n].rjust(n, "0")


def hospital_for(department: object, hospital: object) -> write.Organisation:
    """The sending department: the timeline's `department` (and `hospital`, if given) with a synthetic but
    well-formed location number and department number derived from the names (timelines carry no GLNs). A
    department may be a number (the timeline format allows a code): its digits are its name."""
    organisation = str(hospital or "Sygehus (ikke oplyst)")[:35]
    department = str(department or "Afdeling (ikke oplyst)")[:35]
    key = f"{organisation}/{department}"
    return write.Organisation(make_gln("57900" + _digits(key, 7)), _digits(key + "#", 7), "sygehusafdelingsnummer",
                              organisation, department, None, "70000000")


def municipality_for(code: object) -> write.Organisation:
    """The municipality's visitation (its real name; a synthetic location number derived from the code)."""
    name = municipality_name(code)
    if name is None:
        return write.Organisation(make_gln("579000099999"), "0", "lokationsnummer", "Kommune (ikke oplyst)")
    number = int(str(code))
    return write.Organisation(make_gln(f"57900{number:04d}000"), str(number), "kommunenummer", name, "Visitationen")


@dataclass
class BuildResult:
    messages: int = 0
    sidecar_events: int = 0
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts a message had to state that the timeline lacks


def _local(at: datetime) -> str:
    return to_local(at).isoformat()


def _line(at: datetime, episode: str, kind: str, data: dict[str, object]) -> str:
    values = {k: (_local(v) if isinstance(v, datetime) else v) for k, v in data.items()}
    return json.dumps({"at": _local(at), "episode": episode, "event": kind, **values}, ensure_ascii=False)


@dataclass(slots=True)
class Written:
    """One built message: its bytes, and what replay will read from it."""

    data: bytes
    format: str  # oioxml | fhir
    message_id: str  # the id the message carries (OIOXML letter id, FHIR MessageHeader id)
    envelope_id: str
    version: str
    family: str
    from_municipality: bool
    events: MessageEvents
    bundle: dict[str, Any] | None = None  # FHIR: the Bundle, which an Acknowledgement answers
    sender_gln: str = ""


class _Episode:
    """The messages of one episode, in time order, and what the side-car must add to them."""

    def __init__(self, name: str, events: list[Event], wrap: str, formats: str, numbers: Iterator[int]) -> None:
        self.name, self.events, self.wrap, self.formats, self.numbers = name, events, wrap, formats, numbers
        self.admitted = self.last("admitted")
        data = self.admitted.data if self.admitted else {}
        self.hospital = hospital_for(data.get("department"), data.get("hospital"))
        self.municipality = municipality_for(data.get("municipality"))
        self.cpr = str(data.get("cpr") or "0000000000")
        self.episode_id = episode_id_for_name(name)
        self.carried: dict[str, str] = {}  # timeline id -> the id the built message carries
        self.written: dict[str, Written] = {}  # carried id -> the message
        self.count = 0

    def last(self, kind: str, before: datetime | None = None) -> Event | None:
        return next((e for e in reversed(self.events) if e.kind == kind and (before is None or e.at <= before)),
                    None)

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def letter_id(self, timeline_id: object) -> str:
        """The OIOXML letter id for a timeline id (kept where it is a valid letter id)."""
        key = str(timeline_id) if timeline_id else f"#{self.count}"
        if key not in self.carried:
            self.carried[key] = key if _IDENTIFIER.match(key) and not key.startswith("#") \
                else f"L{next(self.numbers):011d}"
        return self.carried[key]

    def carried_id(self, timeline_id: object) -> str | None:
        return self.carried.get(str(timeline_id)) if timeline_id else None

    def header(self, e: Event, *, from_municipality: bool) -> write.Header:
        self.count += 1
        sender, receiver = (self.municipality, self.hospital) if from_municipality else \
            (self.hospital, self.municipality)
        letter = self.letter_id(e.data.get("id"))
        envelope = f"E{next(self.numbers):011d}"  # unique in the log: an envelope id is never reused
        return write.Header(envelope, letter, e.at, sender, receiver, self.cpr, self.episode_id)

    def fhir(self, e: Event, *, from_municipality: bool) -> tuple[str, compose.Organisation, compose.Organisation]:
        """The seed of a FHIR message's ids (registered as its carried id afterwards) and its parties."""
        self.count += 1
        hospital, municipality = fhir_party(self.hospital), fhir_party(self.municipality)
        sender, receiver = (municipality, hospital) if from_municipality else (hospital, municipality)
        return f"{self.name}/{e.data.get('id') or self.count}/{next(self.numbers)}", sender, receiver

    def admitted_at(self, e: Event) -> datetime:
        """The admission a message states (the event's own time when the timeline has no admission)."""
        return self.admitted.at if self.admitted else e.at

    @staticmethod
    def changes(e: Event) -> tuple[object, str]:
        """The timeline id an advice corrects or cancels, and the form that says which ("revise-", "cancel-")."""
        form = "revise-" if e.data.get("correction_of") else "cancel-" if e.data.get("cancels") else ""
        return e.data.get("correction_of") or e.data.get("cancels"), form

    def message(self, e: Event) -> bytes | dict[str, Any] | None:
        """The message for a *_sent event: OIOXML bytes, or a FHIR Bundle (national practice); None when no
        message of the episode's formats carries it or the timeline lacks what it must state."""
        writer = writer_for(e.kind, self.formats)
        return writer(self, e) if writer is not None else None

    def receipt(self, e: Event) -> bytes | dict[str, Any] | None:
        """A receipt as the original's format has it: XCTL03/02, or an Acknowledgement (ok / fatal-error)."""
        original = self.written.get(self.carried_id(e.data.get("ref")) or "")
        if original is None:
            return None  # a receipt for a message not in the timeline cannot be written
        positive = bool(e.data.get("positive", True))
        if original.format == "fhir" and original.bundle is not None:
            return build_acknowledgement(original.bundle, "ok" if positive else "fatal-error",
                                         () if positive else ("Afvist af modtageren",), now=e.at,
                                         message_id=compose.uuid_of(self.name, "ack", str(e.seq)),
                                         bundle_id=compose.uuid_of(self.name, "ack-bundle", str(e.seq)))
        sender, receiver = (self.municipality, self.hospital) if original.from_municipality else \
            (self.hospital, self.municipality)
        self.count += 1
        ident = f"K{next(self.numbers):011d}"
        return write.receipt(positive=positive, envelope_id=ident, letter_id=ident, sent=e.at,
                             sender_ean=receiver.ean, receiver_ean=sender.ean,
                             original_envelope_id=original.envelope_id, original_sender_ean=sender.ean,
                             original_receiver_ean=receiver.ean,
                             letters=[(original.message_id, original.version,
                                       None if positive else "ikke_specificeret",
                                       None if positive else "Afvist af modtageren")])

    def wrapped(self, data: bytes, e: Event, written: Written) -> bytes:
        """The message in the wrappers `self.wrap` asks for, addressed as the message is (from its sender)."""
        if self.wrap == "none":
            return data
        sent = to_local(e.at).replace(microsecond=0).isoformat()
        name = written.family
        # one id a message (M-ENVELOPE): two of a family sent in one second by one episode differ by their content
        ident = f"V{_digits(self.name + sent + name + hashlib.sha1(data, usedforsecurity=False).hexdigest(), 13)}"
        sender, receiver = (self.municipality, self.hospital) if written.sender_gln == self.municipality.ean \
            else (self.hospital, self.municipality)
        inner = vans_envelope(data, envelope_id=ident, sent=sent, sender_ean=sender.ean, receiver_ean=receiver.ean,
                              name=name, version=written.version)
        if self.wrap == "vans":
            return inner
        return sbdh(inner, instance_id=ident, created=sent, sender_gln=sender.ean, receiver_gln=receiver.ean,
                    standard="urn:oio:medcom:vans-envelope:1.0.4", type_version="1.0.4", doc_type="VANSEnvelope")


def fhir_party(org: write.Organisation) -> compose.Organisation:
    """The FHIR Organization of a party: its location number and a synthetic SOR code derived from it."""
    return compose.Organisation(f"{_digits(org.ean, 5)}1000016000", org.ean, org.name if not org.department
                                else f"{org.department}, {org.name}"[:70])


def _same(a: object, b: object) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC) == b.astimezone(UTC)
    return a == b


# Keys a message states that a timeline line need not (where the message was answered, its topic, its side).
_INCIDENTAL = frozenset({"answer_to", "sender", "subject", "notification", "category", "positive", "envelope_ref",
                         "response_code"})


def _differences(wanted: Event, got: Event | None) -> dict[str, object] | None:
    """The keys (and time) the side-car must state for `wanted` when the message reads back as `got`."""
    if got is None:
        return dict(wanted.data)
    diff = {k: v for k, v in wanted.data.items() if k != "id" and not _same(v, got.data.get(k))}
    diff.update({k: None for k, v in got.data.items() if k not in wanted.data and k != "id" and v is not None
                 and k not in _INCIDENTAL})
    if not _same(wanted.at, got.at) or wanted.kind != got.kind or diff:
        return diff
    return None


class BuildError(ValueError):
    """A timeline event that cannot be written as a valid message (names the episode, the event and why)."""


def _read_back(data: bytes, source: str, event: Event, messages: list[ReadMessage] | None = None) -> Written:
    """The built message as replay reads it (`messages`: as already read); a message its schema or profile refuses
    is a `BuildError`."""
    messages = read_document(data, source, _READ) if messages is None else messages
    message = messages[0] if len(messages) == 1 else None
    if message is None or not message.accepted or message.content is None:
        problems = "; ".join(f.text for m in messages for f in m.errors)
        raise BuildError(f"{event.source}:{event.line or '?'}: episode {event.episode}: {event.kind} cannot be "
                         f"written as a valid message: {problems}")
    content = message.content
    if isinstance(content, Letter):
        return Written(data, "oioxml", content.letter_id or "", content.envelope_id or "", content.family.version,
                       content.family.code, content.sender.is_municipality, events_of_letter(content, source),
                       sender_gln=content.sender.ean or "")
    assert isinstance(content, FhirContent)
    events = events_of_fhir(content.message, source)
    return Written(data, "fhir", message.letter_id or "", message.envelope_id or "", message.version or "",
                   message.family or "", False, events, content.bundle, message.sender or "")


read_back = _read_back  # a message as replay reads it, for the writer to refer to it
EpisodeWriter = _Episode  # one episode's messages written as they fall due (medcom build; the counterpart, live)


@dataclass(slots=True)
class Emitted:
    """One message as sent (wrapped if asked), and what the side-car must add for replay to read it as meant."""

    data: bytes
    suffix: str  # .json (FHIR) or .xml
    written: Written
    sidecar: str | None  # the side-car line, when the message cannot carry everything the event says
    stated: list[Event]  # the facts the message states, as replay reads them


def emit(builder: _Episode, e: Event, source: str) -> Emitted | None:
    """Write the message (or receipt) for one *_sent event and read it back as replay will (`BuildError` when
    its schema or profile refuses it); None when the event cannot be written (a receipt for an unknown message)."""
    made = builder.receipt(e) if e.kind == "receipt_sent" else builder.message(e)
    if made is None:
        return None
    data = compose.to_json(made) if isinstance(made, dict) else made
    written = _read_back(data, source, e)
    primary = next((x for x in written.events.events if x.is_message), None)
    sidecar, stated = None, []
    if e.kind != "receipt_sent":
        written.from_municipality = written.from_municipality or bool(
            primary is not None and primary.from_municipality) or e.kind == "care_plan_ack_sent" \
            or e.data.get("sender") == "municipality"
        if e.data.get("id"):
            builder.carried[str(e.data["id"])] = written.message_id
        builder.written[written.message_id] = written
        stated = [x for x in written.events.events if not x.is_message]
        diff = _differences(e, primary)
        if diff is not None:
            sidecar = _line(e.at, builder.name, e.kind, {"id": written.message_id, **_mapped(builder, diff)})
    return Emitted(builder.wrapped(data, e, written),
                   ".json" if isinstance(made, dict) else ".xml", written, sidecar, stated)


def build(events: list[Event], out: Path, wrap: str = "none", formats: str = "national") -> BuildResult:
    """Write the messages and the side-car for `events` into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    by_episode: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: (e.at.astimezone(UTC), e.seq)):
        by_episode.setdefault(e.episode, []).append(e)
    sidecar: list[str] = []
    numbers = itertools.count(1)  # envelope and generated letter ids, unique in the whole log
    for name_of, episode_events in by_episode.items():
        builder = _Episode(name_of, episode_events, wrap, formats, numbers)
        stated: list[Event] = []  # facts the built messages state, as replay will read them
        for n, e in enumerate(episode_events, start=1):
            if e.kind in FACT_EVENTS:
                continue
            name = f"{safe_name(re.sub(r'[^A-Za-z0-9_-]', '_', name_of))}-{n:04d}-{e.kind}"
            made = emit(builder, e, str(out / name))
            if made is None:  # no message of `formats` carries it (to_oioxml.NOT_WRITTEN), or it lacks what one
                # must state: the side-car states it as the timeline does, so that replay still judges it
                sidecar.append(_line(e.at, name_of, e.kind, _mapped(builder, e.data)))
                result.sidecar_events += 1
                continue
            stated += made.stated
            if made.sidecar is not None:
                sidecar.append(made.sidecar)
                result.sidecar_events += 1
            # a bounded name, written without following a symlink planted under it (medcom.safe_files)
            result.files.append(replace_file(out, name + made.suffix, made.data))
            result.messages += 1
        for fact in _facts_to_state(episode_events, stated, result, name_of):
            sidecar.append(_line(fact.at, name_of, fact.kind, fact.data))
            result.sidecar_events += 1
    replace_file(out, "events.jsonl", "".join(line + "\n" for line in sidecar).encode("utf-8"))
    return result


def _mapped(builder: _Episode, diff: dict[str, object]) -> dict[str, object]:
    """Timeline ids in references become the ids the messages carry."""
    return {k: (builder.carried_id(v) or v if k in ("ref", "reply_to", "correction_of", "cancels") and v else v)
            for k, v in diff.items()}


def _facts_to_state(timeline: list[Event], stated: list[Event], result: BuildResult, name: str) -> list[Event]:
    """The timeline's facts that no message states exactly (the admission always: it names the episode)."""
    out = []
    for fact in (e for e in timeline if e.kind in FACT_EVENTS):
        twin = next((s for s in stated if s.kind == fact.kind and _same(s.at, fact.at)
                     and all(_same(v, s.data.get(k)) for k, v in fact.data.items())), None)
        if twin is None or fact.kind == "admitted":
            out.append(fact)
        if twin is not None:
            stated.remove(twin)
    for extra in stated:
        if not any(f.kind == extra.kind and abs(f.at.astimezone(UTC) - extra.at.astimezone(UTC)) < timedelta(minutes=1)
                   for f in timeline):
            result.notes.append(f"{name}: a message had to state {extra.kind} at {_local(extra.at)}, which the "
                                "timeline does not have")
    return out
