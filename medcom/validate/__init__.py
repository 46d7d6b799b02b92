"""Run validation over a batch: stream the inputs, read and check each (in worker processes if asked), answer
with receipts. Every message is one result; an input that holds no readable message is one rejected result.

Messages and timelines (.jsonl: a log's events.jsonl side-car, or a timeline of its own) are checked apart:
a message is one input, accepted or rejected; a timeline is checked line by line (JSON, required keys, event,
times, CPR), each line accepted or rejected, and its lines are counted apart from the messages.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from medcom.events.timeline import read_source
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import Finding, FindingLimit, Severity, capped
from medcom.formats.inputs import Source, iter_sources
from medcom.formats.messages import ReadMessage, ReadOptions, unreadable
from medcom.formats.read import read_document
from medcom.identifiers import mask_cprs
from medcom.validate.receipts import Answer, answer_envelope
from medcom.validate.suppress import Suppressions


@dataclass
class DocumentResult:
    """What a report keeps of one checked message (not the message itself)."""

    source: str
    format: str
    family: str | None
    version: str | None
    generation: str | None
    schema: str | None
    envelope_id: str | None
    sender_ean: str | None
    findings: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)
    receipt: Answer | None = None
    sender_name: str | None = None  # the organisation the message names beside its GLN/SOR

    @property
    def accepted(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass
class TimelineResult:
    """What a report keeps of one checked timeline: its lines counted, its findings (file and line)."""

    source: str
    lines: int
    accepted: int
    findings: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.lines - self.accepted

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass(frozen=True)
class BatchOptions:
    read: ReadOptions = ReadOptions()
    suppressions: Suppressions = Suppressions()
    receipts_dir: Path | None = None
    receipt_time: datetime | None = None
    show_cpr: bool = False  # receipts' refuse texts quote findings: CPR numbers masked unless this


def check_source(source: Source, options: BatchOptions) -> list[DocumentResult | TimelineResult]:
    """Read and check one input (in a worker process, if there are workers); write its receipts if asked."""
    if source.is_timeline:
        return [check_timeline(source, options)]
    doc = source.read(options.read.max_bytes)
    if doc.data is None:
        messages = [unreadable(doc.source, "M-XML", doc.error or "unreadable")]
    else:
        messages = read_document(doc.data, doc.source, options.read)
    suppressed = []
    for message in messages:  # the receipt answers what the report says: a suppressed finding is no refusal
        suppressed.append([f for f in message.findings if options.suppressions.matches(f)])
        message.findings = capped([f for f in message.findings if not options.suppressions.matches(f)],
                                   options.read.max_findings)
    answers: list[Answer | None] = [None] * len(messages)
    if options.receipts_dir is not None and options.receipt_time is not None:
        answers = _answer(messages, options)
    return [DocumentResult(m.source, m.format, m.family, m.version, m.generation, m.schema, m.envelope_id, m.sender,
                           m.findings, hidden, answer, m.sender_name)
            for m, hidden, answer in zip(messages, suppressed, answers, strict=True)]


def check_timeline(source: Source, options: BatchOptions) -> TimelineResult:
    """Every line of a timeline, as replay reads it; at most `max_findings` findings listed."""
    lines = accepted = 0
    findings: list[Finding] = []
    limit = FindingLimit(findings, options.read.max_findings)
    for line in read_source(source, options.read.max_timeline_bytes):
        lines += 1
        accepted += line.event is not None
        for finding in line.findings:
            limit.add(finding)
    limit.close()
    suppressed = [f for f in findings if options.suppressions.matches(f)]
    kept = [f for f in findings if f not in suppressed] if suppressed else findings
    return TimelineResult(source.name, lines, accepted, kept, suppressed)


def _answer(messages: list[ReadMessage], options: BatchOptions) -> list[Answer | None]:
    """One answer per message; the letters of one envelope share their receipts."""
    assert options.receipts_dir is not None and options.receipt_time is not None
    mask = str if options.show_cpr else mask_cprs
    answers: list[Answer | None] = []
    start = 0
    while start < len(messages):
        end = start + 1
        while end < len(messages) and messages[end].envelope_id == messages[start].envelope_id \
                and messages[end].position > messages[end - 1].position:
            end += 1
        answers += answer_envelope(messages[start:end], options.receipts_dir, options.receipt_time, mask)
        start = end
    return answers


def run_batch(paths: Iterable[str | Path], options: BatchOptions, *, workers: int = 1,
              progress: bool | None = None) -> Iterator[DocumentResult | TimelineResult]:
    """Results in input order, whatever the number of workers. The progress bar shows on a terminal only."""
    sources = iter_sources(paths)
    options = replace(options, read=replace(options.read, letter_content=False))  # reports do not need them
    check = partial(check_source, options=options)
    checked = map_in_order(check, sources, workers, chunksize=SOURCES_PER_TASK)
    if not _shows_bar(progress):  # tqdm only for a bar: ~20-30M instructions
        for results in checked:
            yield from results
        return
    from tqdm import tqdm

    with tqdm(desc="validating", unit="msg", leave=False) as bar:
        for results in checked:
            yield from results
            bar.update(len(results))


def _shows_bar(progress: bool | None) -> bool:
    """Whether run_batch shows a bar: as asked, or (None) when stderr is a terminal, as tqdm's `disable=None`
    decides for its own stream."""
    if progress is not None:
        return progress
    if not hasattr(sys.stderr, "isatty"):
        return sys.stderr is not None  # tqdm's rule: a stream it cannot ask gets a bar
    try:
        return bool(sys.stderr.isatty())
    except ValueError:  # a closed stderr: nothing to show a bar on
        return False
