"""Load what replay reads: message logs (files, directories, .zip; OIOXML bare or wrapped) with their
events.jsonl side-cars, and timelines (.jsonl). Messages are read by the format adapters `validate` uses
and mapped to events; every input is counted once (`accepted + rejected + duplicates = messages`), and the
lines of timelines and side-cars that are facts are counted apart.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from medcom.events import FACT_EVENTS, Event
from medcom.events.from_fhir import events_of_fhir
from medcom.events.from_messages import CORRECTED, NEW, MessageEvents
from medcom.events.from_oioxml import events_of_letter
from medcom.events.timeline import read_lines
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import Finding, Severity
from medcom.formats.fhir_adapter import FhirContent
from medcom.formats.inputs import Source, iter_sources
from medcom.formats.messages import ReadOptions, unreadable
from medcom.formats.oioxml.letters import Letter
from medcom.formats.read import read_document

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
        return next((e for e in self.events.events if e.is_message), None)


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


def message_unit(event: Event, seq: int, origin: str) -> Unit:
    """A timeline's message line as a unit: a care plan with `correction_of` corrects the plan it names."""
    status = CORRECTED if event.data.get("correction_of") else NEW
    event.origin = origin
    return Unit(MessageEvents([event], status, event.kind, None, event.episode,
                              replaces=event.data.get("correction_of")), seq, origin)


def add_lines(lines: Iterable[str], source: str, inp: ReplayInput, *, sidecar: bool = False) -> None:
    """Timeline (or side-car) lines into `inp`: message lines as messages, fact lines as events."""
    for parsed in read_lines(lines, source):
        event = parsed.event
        inp.findings.extend(parsed.findings)
        is_message = parsed.kind not in FACT_EVENTS  # an unreadable line counts as a message
        if sidecar or not is_message:
            inp.lines += 1
            if event is None:
                inp.lines_rejected += 1
                continue
            event.seq = inp.next_seq()
            event.origin = "side-car" if sidecar else "timeline"
            (inp.sidecar_messages if sidecar and is_message else inp.facts).append(event)
            continue
        inp.messages += 1
        if event is None:
            inp.rejected += 1
            continue
        seq = inp.next_seq()
        event.seq = seq
        inp.units.append(message_unit(event, seq, "timeline"))


def load_timeline(path: Path, into: ReplayInput | None = None) -> ReplayInput:
    """Every line of a timeline: an event, or a rejected line with its finding."""
    inp = into or ReplayInput()
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        add_lines(handle, str(path), inp, sidecar=False)
    return inp


@dataclass
class _Read:
    """What a worker sends back for one input document."""

    findings: list[Finding]
    messages: int
    rejected: int
    units: list[tuple[MessageEvents, str]]


def _read_source(source: Source, options: ReadOptions) -> _Read:
    doc = source.read(options.max_bytes)
    messages = [unreadable(doc.source, "M-XML", doc.error or "unreadable")] if doc.data is None \
        else read_document(doc.data, doc.source, options)
    findings = [f for m in messages for f in m.findings]
    units = []
    rejected = 0
    for m in messages:
        if not m.accepted:
            rejected += 1
        elif isinstance(m.content, Letter):
            units.append((events_of_letter(m.content, m.source), m.format))
        elif isinstance(m.content, FhirContent):
            units.append((events_of_fhir(m.content.message, m.source), m.format))
        else:  # a valid message outside the agreement's families: counted, not replayed
            units.append((MessageEvents(), m.format))
    return _Read(findings, len(messages), rejected, units)


def is_timeline(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == TIMELINE_SUFFIX


def load_log(paths: Iterable[Path], options: ReadOptions, workers: int = 1) -> ReplayInput:
    """Message logs and timelines, in any mix; a log's side-cars come with it. With workers > 1 documents
    are read in that many processes (same result)."""
    inp = ReplayInput()
    logs = []
    for path in paths:
        if is_timeline(path):
            load_timeline(path, inp)
        else:
            logs.append(path)
    sources = (s for path in logs for s in iter_sources([path]) if not _is_sidecar(s))
    for read in map_in_order(partial(_read_source, options=options), sources, workers, chunksize=SOURCES_PER_TASK):
        inp.messages += read.messages
        inp.rejected += read.rejected
        inp.findings.extend(read.findings)
        for events, fmt in read.units:
            seq = inp.next_seq()
            for event in events.events:
                event.seq = seq
            inp.units.append(Unit(events, seq, fmt))
    for path in logs:
        for name, lines in _sidecars(path, options.max_bytes, inp):
            add_lines(lines, name, inp, sidecar=True)
    return inp


def _is_sidecar(source: Source) -> bool:
    name = source.member if source.member is not None else source.path
    return os.path.basename(name) == SIDECAR


def _sidecars(path: Path, max_bytes: int, inp: ReplayInput) -> Iterator[tuple[str, list[str]]]:
    """The events.jsonl side-cars of a log: beside the messages, or one folder down (what `zip -r` makes)."""
    if path.is_dir():
        for candidate in sorted([path / SIDECAR, *(p / SIDECAR for p in sorted(path.iterdir()) if p.is_dir())]):
            if candidate.is_file():
                if candidate.stat().st_size > max_bytes:
                    inp.findings.append(Finding("M-XML", Severity.ERROR, f"side-car is over the limit of "
                                                f"{max_bytes:,} bytes; not read", str(candidate)))
                    continue
                yield str(candidate), candidate.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if os.path.basename(info.filename) != SIDECAR or info.filename.count("/") > 1:
                    continue
                if info.file_size > max_bytes:
                    inp.findings.append(Finding("M-XML", Severity.ERROR, f"side-car is over the limit of "
                                                f"{max_bytes:,} bytes; not read", f"{path}!{info.filename}"))
                    continue
                text = archive.read(info).decode("utf-8", errors="surrogateescape")
                yield f"{path}!{info.filename}", text.splitlines()
