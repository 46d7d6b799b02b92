"""Run validation over a batch: stream the inputs, check each (in worker processes if asked), write receipts.

Messages and timelines (.jsonl: a log's events.jsonl side-car, or a timeline of its own) are checked apart:
a message is one input, accepted or rejected; a timeline is checked line by line (JSON, required keys, event,
times, CPR), each line accepted or rejected, and its lines are counted apart from the messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from tqdm import tqdm

from medcom.events.timeline import read_source
from medcom.executors import SOURCES_PER_TASK, map_in_order
from medcom.findings import DEFAULT_MAX_FINDINGS, Finding, FindingLimit, Severity
from medcom.formats.dialect.validation import CheckedDocument, check_bytes
from medcom.formats.inputs import InputDocument, Source, iter_sources
from medcom.validate.receipts import write_receipt
from medcom.validate.suppress import Suppressions


@dataclass
class DocumentResult:
    """What a report keeps of one checked document (not the message itself)."""

    source: str
    family: str | None
    envelope_id: str | None
    sender_ean: str | None
    findings: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)
    receipt: tuple[str, str] | None = None  # (kind, detail), see medcom.validate.receipts.write_receipt

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
    max_bytes: int
    suppressions: Suppressions = Suppressions()
    receipts_dir: Path | None = None
    receipt_time: datetime | None = None
    max_findings: int = DEFAULT_MAX_FINDINGS
    max_timeline_bytes: int = 200_000_000
    show_cpr: bool = False  # receipts' refuse texts quote findings: CPR numbers masked unless this


def check_source(source: Source, options: BatchOptions) -> DocumentResult | TimelineResult:
    """Read and check one input (in a worker process, if there are workers)."""
    if source.is_timeline:
        return check_timeline(source, options)
    return check_document(source.read(options.max_bytes), options)


def check_timeline(source: Source, options: BatchOptions) -> TimelineResult:
    """Every line of a timeline, as replay reads it; at most `max_findings` findings listed."""
    lines = accepted = 0
    findings: list[Finding] = []
    limit = FindingLimit(findings, options.max_findings)
    for line in read_source(source, options.max_timeline_bytes):
        lines += 1
        accepted += line.event is not None
        for finding in line.findings:
            limit.add(finding)
    limit.close()
    suppressed = [f for f in findings if options.suppressions.matches(f)]
    kept = [f for f in findings if f not in suppressed] if suppressed else findings
    return TimelineResult(source.name, lines, accepted, kept, suppressed)


def check_document(doc: InputDocument, options: BatchOptions) -> DocumentResult:
    """Check one input; an unreadable one is an M-XML finding. Writes its receipt if asked."""
    if doc.data is None:
        checked = CheckedDocument(doc.source)
        checked.findings.append(Finding("M-XML", Severity.ERROR, doc.error or "unreadable", doc.source))
    else:
        checked = check_bytes(doc.data, doc.source, max_bytes=options.max_bytes, max_findings=options.max_findings)
    suppressed = [f for f in checked.findings if options.suppressions.matches(f)] if checked.findings else []
    if suppressed:
        checked.findings = [f for f in checked.findings if f not in suppressed]
    kept = checked.findings
    receipt = None  # the receipt answers what the report says: an accepted (suppressed) finding is no refusal
    if options.receipts_dir is not None and options.receipt_time is not None:
        receipt = write_receipt(checked, options.receipts_dir, options.receipt_time, options.show_cpr)
    return DocumentResult(checked.source, checked.family.code if checked.family else None, checked.envelope_id,
                          checked.sender_ean, kept, suppressed, receipt)


def run_batch(paths: Iterable[str | Path], options: BatchOptions, *, workers: int = 1,
              progress: bool | None = None) -> Iterator[DocumentResult | TimelineResult]:
    """Results in input order, whatever the number of workers. The progress bar shows on a terminal only."""
    sources = iter_sources(paths)
    check = partial(check_source, options=options)
    bar = tqdm(desc="validating", unit="msg", disable=None if progress is None else not progress, leave=False)
    with bar:
        for result in map_in_order(check, sources, workers, chunksize=SOURCES_PER_TASK):
            yield result
            bar.update()
