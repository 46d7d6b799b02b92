"""Load what replay reads: message logs (files, directories, .zip; OIOXML bare or wrapped) with their
events.jsonl side-cars, and timelines (.jsonl). Messages are read by the format adapters `validate` uses
and mapped to events; every input is counted once (`accepted + rejected + duplicates = messages`), and the
lines of timelines and side-cars that are facts are counted apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from medcom.calendar import TimeOutOfRange, check_year
from medcom.events import FACT_EVENTS, MESSAGE_EVENTS, TIME_KEYS, Event
from medcom.events.from_messages import CANCELLED, CORRECTED, NEW, MessageEvents
from medcom.events.from_oioxml import events_of_letter
from medcom.events.timeline import TimelineLine, read_source
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import DEFAULT_MAX_FINDINGS, Finding, FindingLimit, Severity, capped
from medcom.formats.inputs import InputDocument, Source, iter_sources
from medcom.formats.messages import ReadMessage, ReadOptions, unreadable
from medcom.formats.oioxml.letters import Letter
from medcom.formats.read import DEFAULT_OPTIONS, read_document

R = TypeVar("R")
SIDECAR = "events.jsonl"
TIMELINE_SUFFIX = ".jsonl"


@dataclass
class Unit:
    """One accepted message and its events, in input order (`seq`)."""

    events: MessageEvents
    seq: int
    origin: str  # oioxml, fhir, timeline, side-car

    @property
    def primary(self) -> Event | None:
        """The message event itself (not the facts it states); receipts have one per letter they answer."""
        for event in self.events.events:
            if event.kind in MESSAGE_EVENTS:
                return event
        return None


@dataclass
class ReplayInput:
    """Everything read, before the input rules run."""

    units: list[Unit] = field(default_factory=list)  # accepted messages
    facts: list[Event] = field(default_factory=list)  # fact lines of timelines and side-cars
    sidecar_messages: list[Event] = field(default_factory=list)  # message lines of side-cars (details or messages)
    findings: list[Finding] = field(default_factory=list)
    messages: int = 0
    rejected: int = 0
    duplicates: int = 0
    lines: int = 0  # fact lines of timelines and side-cars
    lines_rejected: int = 0
    seq: int = 0

    @property
    def accepted(self) -> int:
        return self.messages - self.rejected - self.duplicates

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # --- as the sink of a log's reading (see `read_log`) -----------------------------------------------------

    def add_unit(self, unit: Unit) -> None:
        self.units.append(unit)

    def add_fact(self, event: Event) -> None:
        self.facts.append(event)

    def add_sidecar_message(self, event: Event) -> None:
        self.sidecar_messages.append(event)

    def add_read(self, read: Read[tuple[MessageEvents, str]]) -> None:
        """What a worker read of one document."""
        take_read(self, read)


class FindingsSink(Protocol):
    """Where the input findings of a log's reading go: a list, or a file (medcom.replay.spool.FindingSpool)."""

    def append(self, finding: Finding, /) -> None: ...

    def extend(self, findings: Iterable[Finding], /) -> None: ...


class Sink(Protocol):
    """Where a log's reading goes: a ReplayInput in memory, or a spool on disk (medcom.replay.partition)."""

    @property
    def findings(self) -> FindingsSink: ...

    messages: int
    rejected: int
    lines: int
    lines_rejected: int

    def next_seq(self) -> int: ...

    def add_unit(self, unit: Unit) -> None: ...

    def add_fact(self, event: Event) -> None: ...

    def add_sidecar_message(self, event: Event) -> None: ...


def message_unit(event: Event, seq: int, origin: str) -> Unit:
    """A timeline's message line as a unit: a message with `correction_of` corrects the one it names (a care plan,
    an admission advice), one with `cancels` cancels it (an admission advice: the admission is withdrawn)."""
    status = CORRECTED if event.data.get("correction_of") else CANCELLED if event.data.get("cancels") else NEW
    event.origin = origin
    return Unit(MessageEvents([event], status, event.kind, None, event.episode,
                              replaces=event.data.get("correction_of") or event.data.get("cancels")), seq, origin)


def add_lines(lines: Iterable[TimelineLine], inp: Sink, *, sidecar: bool = False,
              max_findings: int = DEFAULT_MAX_FINDINGS) -> None:
    """Timeline (or side-car) lines into `inp`: message lines as messages, fact lines as events; at most
    `max_findings` findings listed for the file, the rest counted."""
    found: list[Finding] = []
    limit = FindingLimit(found, max_findings)
    for parsed in lines:
        event = parsed.event
        for finding in parsed.findings:
            limit.add(finding)
        is_message = parsed.kind not in FACT_EVENTS  # an unreadable line counts as a message
        if sidecar or not is_message:
            inp.lines += 1
            if event is None:
                inp.lines_rejected += 1
                continue
            event.seq = inp.next_seq()
            event.origin = "side-car" if sidecar else "timeline"
            if sidecar and is_message:
                inp.add_sidecar_message(event)
            else:
                inp.add_fact(event)
            continue
        inp.messages += 1
        if event is None:
            inp.rejected += 1
            continue
        seq = inp.next_seq()
        event.seq = seq
        inp.add_unit(message_unit(event, seq, "timeline"))
    limit.close()
    inp.findings.extend(found)


def load_timeline(path: Path, into: Sink | None = None, options: ReadOptions = DEFAULT_OPTIONS) -> Sink:
    """Every line of a timeline: an event, or a rejected line with its finding."""
    inp = into if into is not None else ReplayInput()
    add_lines(read_source(Source(str(path)), options.max_timeline_bytes), inp, max_findings=options.max_findings)
    return inp


U = TypeVar("U")


@dataclass(slots=True)
class Read(Generic[U]):
    """What a worker sends back for one input document: its findings, how many messages it held and rejected,
    and a unit for each accepted message (its events and format; or as `partition` spools them)."""

    findings: list[Finding]
    messages: int
    rejected: int
    units: list[U]

    def __reduce__(self) -> tuple:
        return Read, (self.findings, self.messages, self.rejected, self.units)


def take_read(sink: Sink, read: Read[tuple[MessageEvents, str]]) -> None:
    """What was read of one document, into `sink`: its counts and findings, and each message as a unit with the
    next input sequence number (stamped on its events)."""
    sink.messages += read.messages
    sink.rejected += read.rejected
    sink.findings.extend(read.findings)
    for events, fmt in read.units:
        seq = sink.next_seq()
        for event in events.events:
            event.seq = seq
        sink.add_unit(Unit(events, seq, fmt))


def read_messages(source: Source, options: ReadOptions) -> Read[tuple[MessageEvents, str]]:
    """Read and check one input document and map its accepted messages to events (in a worker process)."""
    return messages_of(source.read(options.max_bytes), options)


def messages_of(doc: InputDocument, options: ReadOptions) -> Read[tuple[MessageEvents, str]]:
    """Check a document already read and map its accepted messages to events (anywhere: it needs no files)."""
    messages = [unreadable(doc.source, "M-XML", doc.error or "unreadable")] if doc.data is None \
        else read_document(doc.data, doc.source, options)
    return read_of(messages, options.max_findings)


def read_of(messages: list[ReadMessage], max_findings: int = DEFAULT_MAX_FINDINGS) -> Read[tuple[MessageEvents, str]]:
    """The messages of one document, already read and checked, as events (the counterpart reads each once); at
    most `max_findings` findings listed a message, the rest counted."""
    units = []
    rejected = 0
    for m in messages:
        events = MessageEvents()  # a valid message outside the agreement's families: counted, not replayed
        if isinstance(m.content, Letter):
            events = events_of_letter(m.content, m.source)
        elif m.content is not None:
            events = _events_of_fhir(m.content, m.source)
        for event in events.events:  # where the message is: the report points violations at it
            if event.line is None:
                event.line = m.line
        events.document = m.document_source
        events.wrappers = m.wrappers
        if m.accepted and (problem := _out_of_range(events.events)):
            m.findings.append(Finding("M-TIME", Severity.ERROR, problem, m.source))
        if not m.accepted:
            rejected += 1
        else:
            units.append((events, m.format))
    return Read([f for m in messages for f in capped(m.findings, max_findings)], len(messages), rejected, units)


def _events_of_fhir(content: object, source: str) -> MessageEvents:
    """The events of a FHIR message's content; the FHIR stack (~0.8 s) is imported only when one is met."""
    from medcom.events.from_fhir import events_of_fhir
    from medcom.formats.fhir_adapter import FhirContent

    return events_of_fhir(content.message, source) if isinstance(content, FhirContent) else MessageEvents()


def _out_of_range(events: list[Event]) -> str | None:
    """Why a message's times cannot be replayed (a year the rules' arithmetic cannot reach), or None."""
    for event in events:
        for key, value in (("sent", event.at), *((k, event.data.get(k)) for k in TIME_KEYS)):
            try:
                if isinstance(value, datetime):
                    check_year(value, key)
            except TimeOutOfRange as exc:
                return str(exc)
    return None


def is_timeline(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == TIMELINE_SUFFIX


def load_log(paths: Iterable[Path], options: ReadOptions, workers: int = 1) -> ReplayInput:
    """Message logs and timelines, in any mix, read into memory (see `read_log`)."""
    inp = ReplayInput()
    read_log(paths, options, inp, workers)
    return inp


def read_log(paths: Iterable[Path], options: ReadOptions, sink: Sink, workers: int = 1, *,
             read: Callable[[Source, ReadOptions], R] = read_messages,  # type: ignore[assignment]
             take: Callable[[R], None] | None = None, on_document: Callable[[R], None] | None = None,
             map_sources: Callable[[Iterator[Source]], Iterator[R]] | None = None) -> None:
    """Message logs and timelines, in any mix, into `sink`. A log's timelines (every `*.jsonl` at any depth of a
    directory or an archive: `zip -r log.zip log/` puts the side-car one folder down) are read after its
    messages, as side-cars; several `events.jsonl` are said in an info finding. With workers > 1 documents are
    read in that many processes (same result). `read` reads one document (in a worker) and `take` gives its
    outcome to the sink (by default `read_messages` and the sink's `add_read`); `on_document` sees each.
    `map_sources`, if given, reads the documents instead (in input order; e.g. on a cluster)."""
    logs = []
    for path in paths:
        if is_timeline(path):
            load_timeline(path, sink, options)
        else:
            logs.append(path)
    timelines: list[Source] = []
    take = take or sink.add_read  # type: ignore[attr-defined]
    sources = _messages(logs, timelines)
    outcomes = map_sources(sources) if map_sources is not None else \
        map_in_order(partial(read, options=options), sources, workers, chunksize=SOURCES_PER_TASK)
    for outcome in outcomes:
        take(outcome)
        if on_document is not None:
            on_document(outcome)
    sidecars = [s.name for s in timelines if s.basename == SIDECAR]
    if len(sidecars) > 1:
        sink.findings.append(Finding("M-SIDECAR", Severity.INFO, f"{len(sidecars)} {SIDECAR} side-cars read, "
                                     f"one per folder: {', '.join(sidecars)}", sidecars[0]))
    for source in timelines:
        add_lines(read_source(source, options.max_timeline_bytes), sink, sidecar=True,
                  max_findings=options.max_findings)


def count_documents(paths: Iterable[Path]) -> int:
    """How many message documents `read_log` will read (for progress)."""
    return sum(1 for path in paths if not is_timeline(path) for source in iter_sources([path])
               if not source.is_timeline)


def _messages(logs: list[Path], timelines: list[Source]) -> Iterator[Source]:
    """The logs' messages; their timelines (side-cars) are put aside in `timelines`, to be read after them."""
    for source in iter_sources(logs):
        if source.is_timeline:
            timelines.append(source)
        else:
            yield source
