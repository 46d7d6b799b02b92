"""Replay a timeline or an XML message log through the engine: inputs -> events -> rules -> report data.

Input handling rules live here: M-DUP (a repeated message id is counted, not evaluated again), M-STATUS
and M-ORDER (corrections and cancellations, held until their original arrives), M-REF (references to
messages not in the log). Every input is counted once: accepted + rejected + duplicates = messages.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from functools import partial
from pathlib import Path

from medcom.engine.engine import Engine, Episode, Rule, Violation
from medcom.engine.rules import all_rules
from medcom.events import TIME_KEYS, Event
from medcom.events.from_dialect import events_from_message
from medcom.events.timeline import read_lines
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import Finding, Severity
from medcom.formats.dialect.factory import episode_of_care_id
from medcom.formats.dialect.validation import check_bytes
from medcom.formats.inputs import Source, iter_sources
from medcom.gc_tuning import batch_gc
from medcom.policy import Policy

SIDECAR = "events.jsonl"


@dataclass
class ReplayInput:
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    messages: int = 0
    rejected: int = 0
    duplicates: int = 0
    episode_names: dict[str, str] = field(default_factory=dict)  # episode-of-care id -> timeline name
    cancelled: set[str] = field(default_factory=set)

    @property
    def accepted(self) -> int:
        return self.messages - self.rejected - self.duplicates


@dataclass
class ReplayResult:
    inputs: ReplayInput
    episodes: dict[str, Episode]
    input_violations: dict[str, list[Violation]]  # per episode: M-DUP, M-ORDER, M-REF, M-TIME ...


def load_timeline(path: Path, into: ReplayInput | None = None) -> ReplayInput:
    """Every line of a timeline: an event, or a rejected line with its finding."""
    with open(path, encoding="utf-8") as handle:
        return _load_lines(handle, str(path), into or ReplayInput())


def _load_lines(lines: Iterable[str], source: str, inp: ReplayInput) -> ReplayInput:
    for line in read_lines(lines, source):
        inp.messages += 1
        if line.event is not None:
            line.event.seq = inp.messages  # input order breaks ties in time
        inp.findings.extend(line.findings)
        if line.event is None:
            inp.rejected += 1
        else:
            inp.events.append(line.event)
    return inp


@dataclass
class _ReadMessage:
    """What replay keeps of one input document: its findings and, if accepted, its events."""

    findings: list[Finding]
    accepted: bool
    events: list[Event] = field(default_factory=list)
    cancels: str | None = None
    envelope_id: str | None = None
    letter_id: str | None = None


def _read_message(source: Source, max_bytes: int) -> _ReadMessage:
    """Read, check and turn one message into events (in a worker process, if there are workers)."""
    doc = source.read(max_bytes)
    if doc.data is None:
        return _ReadMessage([Finding("M-XML", Severity.ERROR, doc.error or "unreadable", doc.source)], False)
    checked = check_bytes(doc.data, doc.source, max_bytes=max_bytes, decode_message=True)
    if not checked.ok or checked.message is None:
        return _ReadMessage(checked.findings, False)
    events, cancels = events_from_message(checked.message, doc.source, seq=0)
    return _ReadMessage(checked.findings, True, events, cancels, checked.envelope_id, checked.letter_id)


def load_xml_log(path: Path, max_bytes: int, workers: int = 1) -> ReplayInput:
    """A directory or .zip of messages (envelope sent time = event time) plus its events.jsonl side-car.
    With workers > 1 the messages are parsed and checked in that many processes (same result)."""
    with batch_gc():
        return _load_xml_log(path, max_bytes, workers)


def _load_xml_log(path: Path, max_bytes: int, workers: int) -> ReplayInput:
    inp = ReplayInput()
    envelope_to_letter: dict[str, str] = {}
    for read in map_in_order(partial(_read_message, max_bytes=max_bytes), _messages(path),
                             workers, chunksize=SOURCES_PER_TASK):
        inp.messages += 1
        inp.findings.extend(read.findings)
        if not read.accepted:
            inp.rejected += 1
            continue
        for event in read.events:
            event.seq = inp.messages  # input order breaks ties in time
        if read.cancels:
            inp.cancelled.add(read.cancels)
        inp.events.extend(read.events)
        if read.envelope_id and read.letter_id:
            envelope_to_letter[read.envelope_id] = read.letter_id
    episode_of = {e.id: e.episode for e in inp.events if e.id and e.kind != "receipt_sent"}
    for event in inp.events:  # receipts name envelopes and belong to the episode of what they answer
        if event.kind == "receipt_sent":
            event.data["ref"] = envelope_to_letter.get(event.data.get("ref") or "", event.data.get("ref"))
            event.episode = episode_of.get(event.data["ref"], "(no episode)")
    _load_sidecar(path, inp)
    names = {e.episode for e in inp.events if e.source.endswith(SIDECAR)}
    inp.episode_names = {episode_of_care_id(n): n for n in names}
    for event in inp.events:
        event.episode = inp.episode_names.get(event.episode, event.episode)
    return inp


def _messages(path: Path) -> Iterator[Source]:
    """The log's messages: everything but the side-car (which an archive holds beside them)."""
    return (s for s in iter_sources([path]) if (s.member or "").rsplit("/", 1)[-1] != SIDECAR)


def _load_sidecar(path: Path, inp: ReplayInput) -> None:
    """The events.jsonl next to the messages (in the directory, or at the root of the archive)."""
    if path.is_dir():
        if (path / SIDECAR).exists():
            load_timeline(path / SIDECAR, inp)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if SIDECAR in archive.namelist():
                text = archive.read(SIDECAR).decode("utf-8")
                _load_lines(text.splitlines(), f"{path}!{SIDECAR}", inp)


def _input_rules(inp: ReplayInput) -> tuple[list[Event], dict[str, list[Violation]]]:
    """M-DUP, M-ORDER, M-REF and cancellations, applied before the engine runs."""
    found: dict[str, list[Violation]] = {}

    def note(event: Event, rule: str, severity: str, text: str) -> None:
        found.setdefault(event.episode, []).append(
            Violation(rule, severity, None, event.at, [event.id] if event.id else [], text))

    ordered = sorted(inp.events, key=lambda e: (e.at.astimezone(UTC), e.seq))
    seen: dict[str, Event] = {}
    facts_seen: set[tuple[str, str, object]] = set()
    kept: list[Event] = []
    for event in ordered:
        if not event.is_message:  # the same fact stated by two messages (advice and report) counts once
            fact = (event.episode, event.kind, event.at.astimezone(UTC))
            if fact in facts_seen:
                continue
            facts_seen.add(fact)
        if event.is_message and event.id:
            if event.id in seen:
                inp.duplicates += 1
                note(event, "M-DUP", "info", f"message {event.id} arrived again; not evaluated again (it gets the "
                     "same receipt as the first)")
                continue
            seen[event.id] = event
        if event.id in inp.cancelled:
            note(event, "M-STATUS", "info", f"message {event.id} was cancelled (annulleretbrev): left out of the "
                 "rule evaluation")
            continue
        kept.append(event)
    for event in kept:
        for key in ("reply_to", "ref", "correction_of"):
            target = event.data.get(key)
            if not target:
                continue
            original = seen.get(target)
            if original is None:
                note(event, "M-REF", "warning", f"{event.kind} refers ({key}) to {target}, which is not in the log")
            elif key == "correction_of" and original.at > event.at:
                note(event, "M-ORDER", "info", f"correction {event.id} arrived before its original {target}; "
                     "applied when the original arrived")
    for event in kept:
        event.at = event.at.astimezone(UTC)
        for key in TIME_KEYS:
            if event.data.get(key) is not None:
                event.data[key] = event.data[key].astimezone(UTC)
    return kept, found


def replay(inp: ReplayInput, policy: Policy, rules: list[Rule] | None = None) -> ReplayResult:
    """Run the inputs through the engine with every rule (or `rules`)."""
    with batch_gc():
        return _replay(inp, policy, rules)


def _replay(inp: ReplayInput, policy: Policy, rules: list[Rule] | None) -> ReplayResult:
    events, input_violations = _input_rules(inp)
    has_receipts = any(e.kind == "receipt_sent" for e in events)
    for e in events:
        if e.is_message and e.kind != "receipt_sent" and e.source.endswith(".jsonl"):
            e.receipt_requested = has_receipts  # timelines: receipts are checked where the log holds any
    engine = Engine(policy, all_rules() if rules is None else rules,
                    log_has_phone_calls=any(e.kind == "phone_call" for e in events), log_has_receipts=has_receipts)
    return ReplayResult(inp, engine.run(events), input_violations)
