"""`medcom build`: turn a timeline into the MedCom messages it describes, plus an events.jsonl side-car.

Each *_sent event becomes one schema-valid message; facts no message carries (phone calls, conference
readiness, guardianship hand-over, leave, terminal declaration, extensions, and any admission, ready time
or discharge that no message states) go to the side-car in timeline format. The side-car also repeats
each episode's admission, which names the episode (replay drops the repeated fact). Replaying the output
gives the same report as replaying the timeline (the inverse mapping is `medcom.events.from_dialect`).
Timeline ids that are not valid MedCom identifiers are replaced, consistently in every reference.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from medcom.calendar import to_local
from medcom.events import FACT_EVENTS, Event
from medcom.formats.dialect.codec import to_xml
from medcom.formats.dialect.factory import DEFAULT_HOSPITAL, MessageFactory, make_receipt, municipality_party
from medcom.formats.dialect.model import (
    AcknowledgementCode,
    Destination,
    LetterStatus,
    Message,
    Patient,
    RefuseCode,
    RejectReason,
    SpecialCoordination,
)
from medcom.identifiers import MUNICIPALITY_CODES
from medcom.safe_files import replace_file, safe_name

_IDENTIFIER = re.compile(r"^[A-Za-z0-9\-_.]{1,14}$")
UNKNOWN_NAME = "(ikke oplyst)"


@dataclass
class BuildResult:
    messages: int = 0
    sidecar_events: int = 0
    files: list[Path] = field(default_factory=list)


def _enum_by_name(enum_cls, value: object, default):
    try:
        return enum_cls[str(value).upper()]
    except KeyError:
        return default


class _EpisodeBuilder:
    """The messages of one episode, in time order."""

    def __init__(self, name: str, events: list[Event], receipts: bool) -> None:
        self.name, self.events = name, events
        admitted = next((e for e in events if e.kind == "admitted"), None)
        self.admitted = admitted
        cpr = str(admitted.data.get("cpr", "")) if admitted else ""
        code = admitted.data.get("municipality") if admitted else None
        municipality = municipality_party(int(code)) if str(code or "").isdigit() and int(code) in MUNICIPALITY_CODES \
            else None
        hospital = DEFAULT_HOSPITAL
        if admitted and admitted.data.get("department"):
            hospital = dataclasses.replace(DEFAULT_HOSPITAL, department=str(admitted.data["department"])[:70])
        self.factory = MessageFactory(
            patient=Patient(cpr=cpr or "0101010000", surname=UNKNOWN_NAME, given_name=UNKNOWN_NAME),
            episode=name, hospital=hospital, **({"municipality": municipality} if municipality else {}),
            id_prefix=re.sub(r"[^A-Za-z0-9]", "", name)[:5] or "X",
            receipt=AcknowledgementCode.POSITIVE_RECEIPT if receipts else AcknowledgementCode.NO_POSITIVE_RECEIPT)
        self.letter_ids: dict[str, str] = {}  # timeline id -> letter id
        self.envelope_of: dict[str, str] = {}  # letter id -> envelope id

    def fact(self, kind: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.kind == kind), None)

    def letter_id(self, timeline_id: object) -> str | None:
        if not timeline_id:
            return None
        key = str(timeline_id)
        if key not in self.letter_ids:
            self.letter_ids[key] = key if _IDENTIFIER.match(key) else f"{self.factory.id_prefix}X{len(self.letter_ids)}"
        return self.letter_ids[key]

    def message(self, e: Event) -> Message | None:
        f, d = self.factory, e.data
        header: dict[str, object] = {}
        if (lid := self.letter_id(d.get("id"))) is not None:
            header["letter_id"] = lid
        admitted_at = self.admitted.at if self.admitted else e.at
        ready = self.fact("ready_for_discharge")
        discharged = self.fact("discharged")
        if e.kind == "admission_advice_sent":
            return f.admission_advice(e.at, admitted_at, somatic=bool(self.admitted.data.get("somatic", True))
                                      if self.admitted else True, **header)
        if e.kind == "admission_report_sent":
            return f.admission_report(e.at, **header)
        if e.kind == "care_plan_sent":
            reason = d.get("special_coordination")
            reasons = (_enum_by_name(SpecialCoordination, reason, SpecialCoordination.DISCHARGE_CONFERENCE),) \
                if reason else ()
            if d.get("correction_of"):
                header.update(status=LetterStatus.CORRECTED, changes=self.letter_id(d["correction_of"]))
            return f.care_plan(e.at, admitted_at, ready.at if ready else e.at, special_coordination=reasons,
                               revised_after_conference=bool(d.get("revised_after_conference")), **header)
        if e.kind == "care_plan_ack_sent":
            plan = self.letter_id(d.get("ref")) or next(
                (self.letter_ids.get(str(p.data.get("id")), "") for p in reversed(self.events)
                 if p.kind == "care_plan_sent" and p.at <= e.at), "") or "ukendt"
            reason = _enum_by_name(RejectReason, d["reason"], RejectReason.OTHER) if d.get("reason") else None
            return f.care_plan_ack(e.at, plan, accept=d.get("decision") == "accept",
                                   discharge_at=d.get("discharge_at"), reason=reason, **header)
        if e.kind == "correspondence_sent":
            return f.correspondence(e.at, from_municipality=d.get("sender") == "municipality",
                                    subject=str(d.get("subject") or "Korrespondance")[:70],
                                    reply_to=self.letter_id(d.get("reply_to")), **header)
        if e.kind == "completion_notice_sent":
            return f.completion_notice(e.at, ready.at if ready else e.at, d.get("agreed_discharge_at") or e.at,
                                       **header)
        if e.kind in ("discharge_advice_sent", "discharge_report_sent"):
            at = discharged.at if discharged else e.at
            destination = _enum_by_name(Destination, discharged.data.get("destination"), Destination.OTHER) \
                if discharged else Destination.OTHER
            unplanned = bool(discharged.data.get("unplanned")) if discharged else False
            if e.kind == "discharge_advice_sent":
                return f.discharge_advice(e.at, admitted_at, at, destination, unplanned=unplanned, **header)
            return f.discharge_report(e.at, admitted_at, at, ready.at if ready else at, destination,
                                      somatic=bool(self.admitted.data.get("somatic", True)) if self.admitted else True,
                                      unplanned=unplanned, extended_until=d.get("extended_responsibility_until"),
                                      **header)
        return None

    def receipt(self, e: Event, original: Message) -> Message:
        refuse = None if e.data.get("positive", True) else (RefuseCode.UNSPECIFIED, "Afvist af modtageren")
        return make_receipt(sender=original.receiver, receiver=original.sender,  # type: ignore[attr-defined]
                            original_envelope_id=original.envelope.identifier,
                            original_letter_ids=(original.letter.identifier,),  # type: ignore[attr-defined]
                            sent=e.at, envelope_id=self.factory.next_ids()[0],
                            refuse=refuse)


def _carried(events: list[Event]) -> set[str]:
    """Facts that a message of the episode states (so they need not go to the side-car)."""
    kinds = {e.kind for e in events}
    carried = set()
    if "admission_advice_sent" in kinds:
        carried.add("admitted")
    if kinds & {"completion_notice_sent", "discharge_report_sent"}:
        carried.add("ready_for_discharge")
    if kinds & {"discharge_advice_sent", "discharge_report_sent"}:
        carried.add("discharged")
    return carried


def _sidecar_line(e: Event) -> str:
    data = {k: (to_local(v).isoformat() if isinstance(v, datetime) else v) for k, v in e.data.items()}
    return json.dumps({"at": to_local(e.at).isoformat(), "episode": e.episode, "event": e.kind, **data},
                      ensure_ascii=False)


def build(events: list[Event], out: Path) -> BuildResult:
    """Write the messages and the side-car for `events` into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    receipts = any(e.kind == "receipt_sent" for e in events)
    by_episode: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: (e.at, e.seq)):
        by_episode.setdefault(e.episode, []).append(e)
    sidecar: list[str] = []
    for name, episode_events in by_episode.items():
        builder = _EpisodeBuilder(name, episode_events, receipts)
        carried = _carried(episode_events)
        sent: dict[str, Message] = {}
        for n, e in enumerate(episode_events, start=1):
            if e.kind in FACT_EVENTS:
                if e.kind not in carried or e.kind == "admitted":
                    sidecar.append(_sidecar_line(e))
                    result.sidecar_events += 1
                continue
            if e.kind == "receipt_sent":
                original = sent.get(builder.letter_id(e.data.get("ref")) or "")
                if original is None:
                    continue  # a receipt for a message not in the timeline cannot be written as XML
                message = builder.receipt(e, original)
            else:
                message = builder.message(e)
            if message is None:
                continue
            if hasattr(message, "letter"):
                sent[message.letter.identifier] = message  # type: ignore[attr-defined]
            # a bounded name, written without following a symlink planted under it (medcom.safe_files)
            path = replace_file(out, f"{safe_name(re.sub(r'[^A-Za-z0-9_-]', '_', name))}-{n:04d}-{e.kind}.xml",
                                to_xml(message))
            result.files.append(path)
            result.messages += 1
    replace_file(out, "events.jsonl", "".join(line + "\n" for line in sidecar).encode("utf-8"))
    return result

