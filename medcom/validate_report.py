"""Run validation over a batch of inputs and render the result as text or JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click

from medcom.inputs import iter_documents
from medcom.validation import CheckedDocument, Finding, Severity, check_bytes


@dataclass
class DocumentResult:
    """What a report keeps of one checked document (not the message itself)."""

    source: str
    family: str | None
    envelope_id: str | None
    sender_ean: str | None
    findings: list[Finding]

    @property
    def accepted(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass
class BatchResult:
    documents: list[DocumentResult] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.documents for f in d.findings if f.severity is severity)

    @property
    def has_errors(self) -> bool:
        return any(not d.accepted for d in self.documents)

    def by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(f.rule for d in self.documents for f in d.findings).items()))


def check_inputs(paths: Iterable[str | Path], max_bytes: int) -> Iterator[CheckedDocument]:
    """Check every document under `paths`; unreadable ones become an M-XML finding."""
    for doc in iter_documents(paths, max_bytes):
        if doc.data is None:
            checked = CheckedDocument(doc.source)
            checked.findings.append(Finding("M-XML", Severity.ERROR, doc.error or "unreadable", doc.source))
            yield checked
        else:
            yield check_bytes(doc.data, doc.source, max_bytes=max_bytes)


def summarise(checked: CheckedDocument) -> DocumentResult:
    return DocumentResult(checked.source, checked.family.code if checked.family else None,
                          checked.envelope_id, checked.sender_ean, list(checked.findings))


def to_json(batch: BatchResult) -> str:
    accepted = sum(1 for d in batch.documents if d.accepted)
    return json.dumps({
        "inputs": {"messages": len(batch.documents), "accepted": accepted,
                   "rejected": len(batch.documents) - accepted},
        "files": [{"file": d.source, "family": d.family, "envelope_id": d.envelope_id, "valid": d.accepted,
                   "findings": [f.as_dict() for f in d.findings]} for d in batch.documents],
        "summary": {"errors": batch.count(Severity.ERROR), "warnings": batch.count(Severity.WARNING),
                    "infos": batch.count(Severity.INFO), "findings_by_rule": batch.by_rule()},
    }, indent=2, ensure_ascii=False)


_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def to_text(batch: BatchResult) -> str:
    """Findings grouped per file, then a summary line; ANSI colour is stripped by click off a TTY."""
    lines: list[str] = []
    for d in batch.documents:
        if not d.findings:
            continue
        lines.append(click.style(d.source, bold=True) + (f"  ({d.family})" if d.family else ""))
        for f in d.findings:
            where = f"line {f.line}" if f.line else "file"
            lines.append(f"  {click.style(f'{f.severity:<7}', fg=_COLOURS[f.severity])} {f.rule:<15} "
                         f"{where}: {f.text}")
            if f.xpath:
                lines.append(f"  {'':7} {'':15} at {f.xpath}")
    accepted = sum(1 for d in batch.documents if d.accepted)
    lines.append(f"{len(batch.documents)} messages: {accepted} valid, {len(batch.documents) - accepted} invalid; "
                 f"{batch.count(Severity.ERROR)} errors, {batch.count(Severity.WARNING)} warnings, "
                 f"{batch.count(Severity.INFO)} info")
    return "\n".join(lines)
