"""Replay a timeline or an XML message log through the engine: inputs -> events -> rules -> report data.

Input handling rules live here: M-DUP (a repeated message id is counted, not evaluated again), M-STATUS
and M-ORDER (corrections and cancellations, held until their original arrives), M-REF (references to
messages not in the log). Every input is counted once: accepted + rejected + duplicates = messages.

A log's timelines are read after its messages: every `*.jsonl` the walk finds, at any depth of the directory
or archive (what `zip -r log.zip log/` makes puts the side-car one folder down). A side-car belongs beside
the messages it completes, one per folder; a log with several is read whole, and an info finding lists them,
so that a merged or misplaced side-car is seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from functools import partial
from pathlib import Path

from medcom.calendar import TimeOutOfRange, check_year
from medcom.engine.engine import Engine, Episode, Rule, Violation
from medcom.engine.rules import all_rules
from medcom.events import TIME_KEYS, Event
from medcom.events.from_dialect import events_from_message
from medcom.events.timeline import TimelineLine, read_source
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import DEFAULT_MAX_FINDINGS, Finding, FindingLimit, Severity
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


DEFAULT_MAX_TIMELINE_BYTES = 200_000_000


def load_timeline(path: Path, into: ReplayInput | None = None, max_bytes: int = DEFAULT_MAX_TIMELINE_BYTES,
                  max_findings: int = DEFAULT_MAX_FINDINGS) -> ReplayInput:
    """Every line of a timeline: an event, or a rejected line with its finding (at most `max_findings` listed
    for the file, the rest counted)."""
    return _load_lines(read_source(Source(str(path)), max_bytes), into or ReplayInput(), max_findings)


def _load_lines(lines: Iterable[TimelineLine], inp: ReplayInput,
                max_findings: int = DEFAULT_MAX_FINDINGS) -> ReplayInput:
    found: list[Finding] = []
    limit = FindingLimit(found, max_findings)
    for line in lines:
        inp.messages += 1
        if line.event is not None:
            line.event.seq = inp.messages  # input order breaks ties in time
        for finding in line.findings:
            limit.add(finding)
        if line.event is None:
            inp.rejected += 1
        else:
            inp.events.append(line.event)
    limit.close()
    inp.findings.extend(found)
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


def _read_message(source: Source, max_bytes: int, max_findings: int = DEFAULT_MAX_FINDINGS) -> _ReadMessage:
    """Read, check and turn one message into events (in a worker process, if there are workers)."""
    doc = source.read(max_bytes)
    if doc.data is None:
        return _ReadMessage([Finding("M-XML", Severity.ERROR, doc.error or "unreadable", doc.source)], False)
    checked = check_bytes(doc.data, doc.source, max_bytes=max_bytes, decode_message=True, max_findings=max_findings)
    if not checked.ok or checked.message is None:
        return _ReadMessage(checked.findings, False)
    events, cancels = events_from_message(checked.message, doc.source, seq=0)
    if problem := _out_of_range(events):
        return _ReadMessage([*checked.findings, Finding("M-TIME", Severity.ERROR, problem, doc.source)], False)
    return _ReadMessage(checked.findings, True, events, cancels, checked.envelope_id, checked.letter_id)


def _out_of_range(events: list[Event]) -> str | None:
    """Why a message's times cannot be replayed (a year the rules' arithmetic cannot reach), or None."""
    for event in events:
        for key, value in (("sent", event.at), *((k, event.data.get(k)) for k in TIME_KEYS)):
            try:
                if value is not None:
                    check_year(value, key)
            except TimeOutOfRange as exc:
                return str(exc)
    return None


def load_xml_log(path: Path, max_bytes: int, workers: int = 1, max_timeline_bytes: int = DEFAULT_MAX_TIMELINE_BYTES,
                 max_findings: int = DEFAULT_MAX_FINDINGS) -> ReplayInput:
    """A directory or .zip of messages (envelope sent time = event time) plus its events.jsonl side-car(s).
    With workers > 1 the messages are parsed and checked in that many processes (same result)."""
    with batch_gc():
        return _load_xml_log(path, max_bytes, workers, max_timeline_bytes, max_findings)


def _load_xml_log(path: Path, max_bytes: int, workers: int, max_timeline_bytes: int,
                  max_findings: int) -> ReplayInput:
    inp = ReplayInput()
    envelope_to_letter: dict[str, str] = {}
    timelines: list[Source] = []
    for read in map_in_order(partial(_read_message, max_bytes=max_bytes, max_findings=max_findings),
                             _messages(path, timelines),
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
    _load_timelines(timelines, inp, max_timeline_bytes, max_findings)
    names = {e.episode for e in inp.events if e.source.endswith(SIDECAR)}
    inp.episode_names = {episode_of_care_id(n): n for n in names}
    for event in inp.events:
        event.episode = inp.episode_names.get(event.episode, event.episode)
    return inp


def _messages(path: Path, timelines: list[Source]) -> Iterator[Source]:
    """The log's messages; its timelines (side-cars) are put aside in `timelines`, to be read after them."""
    for source in iter_sources([path]):
        if source.is_timeline:
            timelines.append(source)
        else:
            yield source


def _load_timelines(timelines: list[Source], inp: ReplayInput, max_bytes: int, max_findings: int) -> None:
    """Every timeline of the log, in walk order; several side-cars are said (an info finding)."""
    sidecars = [s.name for s in timelines if s.basename == SIDECAR]
    if len(sidecars) > 1:
        inp.findings.append(Finding("M-SIDECAR", Severity.INFO, f"{len(sidecars)} {SIDECAR} side-cars read, one "
                                    f"per folder: {', '.join(sidecars)}", sidecars[0]))
    for source in timelines:
        _load_lines(read_source(source, max_bytes), inp, max_findings)


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
