"""`medcom build`: a timeline as the real MedCom messages it describes, plus an events.jsonl side-car.

Each *_sent event becomes one message in the format hospitals and municipalities send (medcom.formats.oioxml
.write says which version); facts go into the messages that state them (an admission advice states the
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medcom.calendar import to_local
from medcom.events import FACT_EVENTS, Event
from medcom.events.from_messages import MessageEvents
from medcom.events.from_oioxml import events_of_letter
from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml import write
from medcom.formats.oioxml.letters import Letter
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.formats.read import read_document
from medcom.identifiers import make_gln, municipality_name

_IDENTIFIER = re.compile(r"^[A-Za-z0-9._-]{1,14}$")
DISCHARGE_STATUS = {"home": "udskrevet_til_hjemmet", "home_nursing": "udskrevet_til_hjemmet"}
ACK_SUBJECT = {"accept": "Kvittering for plejeforløbsplan", "reject": "Plejeforløbsplan: udskrivning afvist"}
COORDINATION_BLOCKS = {"discharge_conference": "DischargeConference", "major_home_changes": "HomeChanges"}
WRAPS = ("none", "vans", "sbdh")
_READ = ReadOptions(sent_before_event=False)


def episode_id_for_name(name: str) -> str:
    """The 32-hex episode-of-care id a built log gives the episode a timeline names (as real ids look)."""
    return hashlib.md5(name.encode("utf-8"), usedforsecurity=False).hexdigest()


def _digits(text: str, n: int) -> str:
    return str(int(hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest(), 16))[:n].rjust(n, "0")


def hospital_for(department: str | None, hospital: str | None) -> write.Organisation:
    """The sending department: the timeline's `department` (and `hospital`, if given) with a synthetic but
    well-formed location number and department number derived from the names (timelines carry no GLNs)."""
    organisation = (hospital or "Sygehus (ikke oplyst)")[:35]
    department = (department or "Afdeling (ikke oplyst)")[:35]
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


class _Episode:
    """The messages of one episode, in time order, and what the side-car must add to them."""

    def __init__(self, name: str, events: list[Event], wrap: str, numbers: Iterator[int]) -> None:
        self.name, self.events, self.wrap, self.numbers = name, events, wrap, numbers
        self.admitted = self.last("admitted")
        data = self.admitted.data if self.admitted else {}
        self.hospital = hospital_for(data.get("department"), data.get("hospital"))
        self.municipality = municipality_for(data.get("municipality"))
        self.cpr = str(data.get("cpr") or "0000000000")
        self.episode_id = episode_id_for_name(name)
        self.letter_ids: dict[str, str] = {}  # timeline id -> letter id
        self.envelopes: dict[str, tuple[str, str, str]] = {}  # letter id -> (envelope id, version, sender kind)
        self.count = 0

    def last(self, kind: str, before: datetime | None = None) -> Event | None:
        return next((e for e in reversed(self.events) if e.kind == kind and (before is None or e.at <= before)),
                    None)

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def letter_id(self, timeline_id: object) -> str:
        key = str(timeline_id) if timeline_id else f"#{self.count}"
        if key not in self.letter_ids:
            self.letter_ids[key] = key if _IDENTIFIER.match(key) and not key.startswith("#") \
                else f"L{next(self.numbers):011d}"
        return self.letter_ids[key]

    def header(self, e: Event, *, from_municipality: bool) -> write.Header:
        self.count += 1
        sender, receiver = (self.municipality, self.hospital) if from_municipality else \
            (self.hospital, self.municipality)
        letter = self.letter_id(e.data.get("id"))
        envelope = f"E{next(self.numbers):011d}"  # unique in the log: an envelope id is never reused
        return write.Header(envelope, letter, e.at, sender, receiver, self.cpr, self.episode_id)

    def message(self, e: Event) -> bytes | None:
        d = e.data
        admitted_at = self.admitted.at if self.admitted else e.at
        ready, discharged = self.last("ready_for_discharge"), self.last("discharged")
        if e.kind == "admission_advice_sent":
            return write.admission_advice(self.header(e, from_municipality=False), admitted_at, self.hospital.ean)
        if e.kind == "admission_report_sent":
            return write.admission_report(self.header(e, from_municipality=True))
        if e.kind == "care_plan_sent":
            block = COORDINATION_BLOCKS.get(str(d.get("special_coordination") or ""))
            conference = self.first("conference_ready") if block == "DischargeConference" else None
            return write.care_plan(self.header(e, from_municipality=False), admitted_at,
                                   ready_at=ready.at if ready else None,
                                   agreed_discharge_at=d.get("agreed_discharge_at"),
                                   conference_at=conference.at if conference else None,
                                   coordination=(block,) if block else ())
        if e.kind == "care_plan_ack_sent":
            decision = str(d.get("decision") or "")
            text = {"accept": "Plejeforløbsplanen er modtaget og accepteret.",
                    "reject": "Plejeforløbsplanen er modtaget; udskrivningen kan ikke accepteres."}.get(
                decision, "Plejeforløbsplanen er modtaget.")
            return write.correspondence(self.header(e, from_municipality=True),
                                        ACK_SUBJECT.get(decision, "Kvittering for plejeforløbsplan"), text)
        if e.kind == "correspondence_sent":
            subject = str(d.get("subject") or "Korrespondance")
            return write.correspondence(self.header(e, from_municipality=d.get("sender") == "municipality"),
                                        subject, subject)
        if e.kind == "completion_notice_sent":
            planned = d.get("agreed_discharge_at")
            return write.completion_notice(self.header(e, from_municipality=False), admitted_at,
                                           ready.at if ready else e.at, planned if planned else e.at)
        if e.kind == "discharge_advice_sent":
            deceased = self.last("deceased")
            if deceased is not None and (discharged is None or deceased.at >= discharged.at):
                return write.discharge_advice(self.header(e, from_municipality=False), deceased.at, "doed")
            status = DISCHARGE_STATUS.get(str(discharged.data.get("destination")), "udskrevet_til_andet") \
                if discharged and discharged.data.get("destination") else "uoplyst"
            return write.discharge_advice(self.header(e, from_municipality=False),
                                          discharged.at if discharged else e.at, status)
        if e.kind == "discharge_report_sent":
            return write.discharge_report(self.header(e, from_municipality=False), admitted_at,
                                          discharged.at if discharged else None, ready.at if ready else None)
        return None

    def receipt(self, e: Event) -> bytes | None:
        original = self.letter_ids.get(str(e.data.get("ref") or ""))
        if original is None or original not in self.envelopes:
            return None  # a receipt for a message not in the timeline cannot be written
        envelope, version, kind = self.envelopes[original]
        from_municipality = kind == "municipality"
        sender, receiver = (self.municipality, self.hospital) if from_municipality else \
            (self.hospital, self.municipality)
        self.count += 1
        ident = f"K{next(self.numbers):011d}"
        positive = bool(e.data.get("positive", True))
        return write.receipt(positive=positive, envelope_id=ident, letter_id=ident, sent=e.at,
                             sender_ean=receiver.ean, receiver_ean=sender.ean, original_envelope_id=envelope,
                             original_sender_ean=sender.ean, original_receiver_ean=receiver.ean,
                             letters=[(original, version, None if positive else "ikke_specificeret",
                                       None if positive else "Afvist af modtageren")])

    def wrapped(self, data: bytes, e: Event, name: str, version: str) -> bytes:
        if self.wrap == "none":
            return data
        sent = to_local(e.at).replace(microsecond=0).isoformat()
        ident = f"V{_digits(self.name + sent + name, 13)}"
        inner = vans_envelope(data, envelope_id=ident, sent=sent, sender_ean=self.hospital.ean,
                              receiver_ean=self.municipality.ean, name=name, version=version)
        if self.wrap == "vans":
            return inner
        return sbdh(inner, instance_id=ident, created=sent, sender_gln=self.hospital.ean,
                    receiver_gln=self.municipality.ean, standard="urn:oio:medcom:vans-envelope:1.0.4",
                    type_version="1.0.4", doc_type="VANSEnvelope")


def _same(a: object, b: object) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC) == b.astimezone(UTC)
    return a == b


def _differences(wanted: Event, got: Event | None) -> dict[str, object] | None:
    """The keys (and time) the side-car must state for `wanted` when the message reads back as `got`."""
    if got is None:
        return dict(wanted.data)
    diff = {k: v for k, v in wanted.data.items() if k != "id" and not _same(v, got.data.get(k))}
    diff.update({k: None for k, v in got.data.items() if k not in wanted.data and k != "id" and v is not None
                 and k not in ("answer_to", "sender", "subject")})
    if not _same(wanted.at, got.at) or wanted.kind != got.kind or diff:
        return diff
    return None


class BuildError(ValueError):
    """A timeline event that cannot be written as a valid message (names the episode, the event and why)."""


def _read_back(data: bytes, source: str, event: Event) -> tuple[Letter, MessageEvents]:
    """The built message as replay reads it; a message its schema refuses is a `BuildError`."""
    messages = read_document(data, source, _READ)
    if len(messages) != 1 or not messages[0].accepted or not isinstance(messages[0].content, Letter):
        problems = "; ".join(f.text for m in messages for f in m.errors)
        raise BuildError(f"{event.source}:{event.line or '?'}: episode {event.episode}: {event.kind} cannot be "
                         f"written as a valid message: {problems}")
    return messages[0].content, events_of_letter(messages[0].content, source)


def build(events: list[Event], out: Path, wrap: str = "none") -> BuildResult:
    """Write the messages and the side-car for `events` into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    by_episode: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: (e.at.astimezone(UTC), e.seq)):
        by_episode.setdefault(e.episode, []).append(e)
    sidecar: list[str] = []
    numbers = itertools.count(1)  # envelope and generated letter ids, unique in the whole log
    for name, episode_events in by_episode.items():
        builder = _Episode(name, episode_events, wrap, numbers)
        stated: list[Event] = []  # facts the built messages state, as replay will read them
        for n, e in enumerate(episode_events, start=1):
            if e.kind in FACT_EVENTS:
                continue
            data = builder.receipt(e) if e.kind == "receipt_sent" else builder.message(e)
            if data is None:
                continue
            path = out / f"{re.sub(r'[^A-Za-z0-9_-]', '_', name)[:40]}-{n:04d}-{e.kind}.xml"
            letter, back = _read_back(data, str(path), e)
            primary = next((x for x in back.events if x.is_message), None)
            if e.kind != "receipt_sent":
                stated += [x for x in back.events if not x.is_message]
                sender_kind = "municipality" if letter.sender.is_municipality else "hospital"
                builder.envelopes[letter.letter_id or ""] = (letter.envelope_id or "", letter.family.version,
                                                             sender_kind)
                diff = _differences(e, primary)
                if diff is not None:
                    sidecar.append(_line(e.at, name, e.kind, {"id": letter.letter_id, **_mapped(builder, diff)}))
                    result.sidecar_events += 1
            path.write_bytes(builder.wrapped(data, e, letter.family.code, letter.family.version))
            result.files.append(path)
            result.messages += 1
        for fact in _facts_to_state(episode_events, stated, result, name):
            sidecar.append(_line(fact.at, name, fact.kind, fact.data))
            result.sidecar_events += 1
    (out / "events.jsonl").write_text("".join(line + "\n" for line in sidecar), encoding="utf-8")
    return result


def _mapped(builder: _Episode, diff: dict[str, object]) -> dict[str, object]:
    """Timeline ids in references become the letter ids the messages carry."""
    return {k: (builder.letter_id(v) if k in ("ref", "reply_to", "correction_of") and v else v)
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
