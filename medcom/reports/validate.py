"""Render a validation batch: text for a terminal, JSON for scripts, JUnit XML for CI servers,
and the per-sender risk table (red/yellow/green, after the risk-based supervision idea).

Timelines are reported beside the messages, their lines counted apart (`"events"`). CPR numbers are masked
in every format unless `show_cpr` (the output boundary: see medcom.reports.masking); `fail_on` decides both
the JUnit failures and the exit code (medcom.reports.junit.FailOn).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import click

from medcom.findings import Finding, Severity
from medcom.identifiers import mask_cprs
from medcom.policy import RiskPolicy
from medcom.reports.formatting import plural
from medcom.reports.junit import Case, FailOn
from medcom.reports.junit import to_junit as junit_xml
from medcom.reports.masking import mask_data
from medcom.reports.schemas import VALIDATE
from medcom.validate import DocumentResult, TimelineResult


@dataclass
class SenderRow:
    ean: str
    name: str = ""  # the organisation its messages name most often ("" when none does)
    messages: int = 0
    with_errors: int = 0
    errors: int = 0
    warnings: int = 0
    risk: str = "green"

    @property
    def error_rate(self) -> float:
        return self.with_errors / self.messages if self.messages else 0.0


@dataclass
class BatchResult:
    documents: list[DocumentResult] = field(default_factory=list)
    timelines: list[TimelineResult] = field(default_factory=list)

    @classmethod
    def of(cls, results: Iterable[DocumentResult | TimelineResult]) -> BatchResult:
        batch = cls()
        for r in results:
            (batch.timelines if isinstance(r, TimelineResult) else batch.documents).append(r)  # type: ignore[arg-type]
        return batch

    def all_findings(self, suppressed: bool = False) -> Iterator[Finding]:
        for d in (*self.documents, *self.timelines):
            yield from (d.suppressed if suppressed else d.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.all_findings() if f.severity is severity)

    def fails(self, fail_on: FailOn = FailOn.ERROR) -> bool:
        """Whether the run fails (exit 1) under the policy `fail_on`."""
        return any(fail_on.fails(f.severity) for f in self.all_findings())

    def events(self) -> dict[str, int]:
        lines = sum(t.lines for t in self.timelines)
        accepted = sum(t.accepted for t in self.timelines)
        return {"lines": lines, "accepted": accepted, "rejected": lines - accepted}

    @property
    def accepted(self) -> int:
        return sum(1 for d in self.documents if d.accepted)

    @property
    def has_errors(self) -> bool:
        return self.accepted < len(self.documents)

    def by_rule(self, suppressed: bool = False) -> dict[str, int]:
        return dict(sorted(Counter(f.rule for f in self.all_findings(suppressed)).items()))

    def families(self) -> dict[str, int]:
        """Messages per family and version ('XDIS21 XD2134C': 3), unknown inputs apart."""
        return dict(sorted(Counter(" ".join(x for x in (d.family, d.version) if x) or "(not a message)"
                                   for d in self.documents).items()))

    def receipts(self) -> dict[str, int]:
        return dict(sorted(Counter(d.receipt.kind for d in self.documents if d.receipt).items()))

    def senders(self, risk: RiskPolicy) -> list[SenderRow]:
        """One row per sender EAN ('unknown' where none could be read), riskiest first.

        Risk: the share of a sender's messages with at least one error; red at or above
        `red_error_rate`, yellow at or above `yellow_error_rate`, else green.
        """
        rows: dict[str, SenderRow] = defaultdict(lambda: SenderRow(""))
        names: dict[str, Counter[str]] = defaultdict(Counter)
        for d in self.documents:
            row = rows[d.sender_ean or "unknown"]
            row.ean = d.sender_ean or "unknown"
            if d.sender_name:
                names[row.ean][d.sender_name] += 1
            row.messages += 1
            row.with_errors += not d.accepted
            row.errors += sum(f.severity is Severity.ERROR for f in d.findings)
            row.warnings += sum(f.severity is Severity.WARNING for f in d.findings)
        for row in rows.values():
            row.name = names[row.ean].most_common(1)[0][0] if names[row.ean] else (
                "(sender not readable)" if row.ean == "unknown" else "")
            row.risk = ("red" if row.error_rate >= risk.red_error_rate
                        else "yellow" if row.error_rate >= risk.yellow_error_rate else "green")
        return sorted(rows.values(), key=lambda r: (-r.error_rate, -r.messages, r.ean))


# What each kind of answer (medcom.validate.receipts.Answer) means, for the text report (JSON keeps the kinds).
RECEIPT_WORDS = {
    "positive": "positive receipts written (message accepted)",
    "negative": "negative receipts written (message refused, with the reason)",
    "not_requested": "accepted without a receipt (the sender asked for none: no 'pluspositivkvitt')",
    "not_for_receipts": "not answered because they are receipts or acknowledgements themselves",
    "impossible": "cannot be answered (envelope, sender or receiver not readable)",
    "not_written": "receipts that could not be written",
}


def to_json(batch: BatchResult, risk: RiskPolicy | None = None, show_cpr: bool = False) -> str:
    report: dict[str, object] = {
        "$schema": VALIDATE,
        "inputs": {"messages": len(batch.documents), "accepted": batch.accepted,
                   "rejected": len(batch.documents) - batch.accepted},
        "events": batch.events(),
        "files": [_file_entry(d) for d in batch.documents],
        "timelines": [_timeline_entry(t) for t in batch.timelines],
        "summary": {"errors": batch.count(Severity.ERROR), "warnings": batch.count(Severity.WARNING),
                    "infos": batch.count(Severity.INFO), "findings_by_rule": batch.by_rule(),
                    "suppressed_by_rule": batch.by_rule(suppressed=True), "receipts": batch.receipts(),
                    "by_family": batch.families()},
    }
    if risk is not None:
        report["senders"] = [{"ean": r.ean, "name": r.name or None, "messages": r.messages,
                              "messages_with_errors": r.with_errors,
                              "errors": r.errors, "warnings": r.warnings, "error_rate": round(r.error_rate, 4),
                              "risk": r.risk} for r in batch.senders(risk)]
    return json.dumps(report if show_cpr else mask_data(report), indent=2, ensure_ascii=False)


def _file_entry(d: DocumentResult) -> dict[str, object]:
    entry: dict[str, object] = {"file": d.source, "format": d.format, "family": d.family, "version": d.version,
                                "generation": d.generation, "schema": d.schema, "envelope_id": d.envelope_id,
                                "valid": d.accepted, "findings": [f.as_dict() for f in d.findings]}
    if d.suppressed:
        entry["suppressed"] = [f.as_dict() for f in d.suppressed]
    if d.receipt:
        entry["receipt"] = {"kind": d.receipt.kind, "detail": d.receipt.detail}
    return entry


def _timeline_entry(t: TimelineResult) -> dict[str, object]:
    entry: dict[str, object] = {"file": t.source, "lines": t.lines, "accepted": t.accepted, "rejected": t.rejected,
                                "valid": t.valid, "findings": [f.as_dict() for f in t.findings]}
    if t.suppressed:
        entry["suppressed"] = [f.as_dict() for f in t.suppressed]
    return entry


_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def to_text(batch: BatchResult, risk: RiskPolicy | None = None, show_cpr: bool = False) -> str:
    """Findings grouped per file, a summary, and the sender table if asked; colour is stripped off a TTY."""
    lines: list[str] = []
    for d in (*batch.documents, *batch.timelines):
        if not d.findings:
            continue
        if isinstance(d, TimelineResult):
            what = f"timeline, {plural(d.lines, 'line')}"
        else:
            what = ", ".join(x for x in (" ".join(y for y in (d.family, d.version) if y), d.schema) if x)
        lines.append(click.style(d.source, bold=True) + (f"  ({what})" if what else ""))
        for f in d.findings:
            where = f"line {f.line}" if f.line else "file"
            lines.append(f"  {click.style(f'{f.severity:<7}', fg=_COLOURS[f.severity])} {f.rule:<15} "
                         f"{where}: {f.text}")
            if f.xpath:
                lines.append(f"  {'':7} {'':15} at {f.xpath}")
    rejected = len(batch.documents) - batch.accepted
    lines.append(f"{plural(len(batch.documents), 'message')}: {batch.accepted} valid, {rejected} invalid; "
                 f"{plural(batch.count(Severity.ERROR), 'error')}, {plural(batch.count(Severity.WARNING), 'warning')}, "
                 f"{batch.count(Severity.INFO)} info")
    if families := batch.families():
        lines.append("messages by family: " + ", ".join(f"{name} {n}" for name, n in families.items()))
    if batch.timelines:
        events = batch.events()
        lines.append(f"{plural(len(batch.timelines), 'timeline')}: {plural(events['lines'], 'line')}, "
                     f"{events['accepted']} accepted, {events['rejected']} rejected")
    if suppressed := batch.by_rule(suppressed=True):
        lines.append("suppressed: " + ", ".join(f"{rule} {n}" for rule, n in suppressed.items()))
    if receipts := batch.receipts():
        lines.append("receipts: " + "; ".join(f"{n} {RECEIPT_WORDS.get(kind, kind)}" for kind, n in receipts.items()))
    if risk is not None:
        lines += ["", f"{'sender GLN/SOR':<14} {'messages':>8} {'invalid':>8} {'errors':>7} {'warnings':>8} "
                      f"{'error rate':>10}  {'risk':<6}  sender"]
        for r in batch.senders(risk):
            colour = {"red": "red", "yellow": "yellow", "green": "green"}[r.risk]
            lines.append(f"{r.ean:<14} {r.messages:>8} {r.with_errors:>8} {r.errors:>7} {r.warnings:>8} "
                         f"{r.error_rate:>10.1%}  {click.style(f'{r.risk:<6}', fg=colour)}  {r.name}".rstrip())
    text = "\n".join(lines)
    return text if show_cpr else mask_cprs(text)


def to_junit(batch: BatchResult, fail_on: FailOn = FailOn.ERROR, show_cpr: bool = False) -> str:
    """JUnit XML: one testcase per input file (message or timeline); findings that fail under `fail_on` are
    failures, the others go to system-out."""
    cases = []
    for d in (*batch.documents, *batch.timelines):
        family = getattr(d, "family", None) or ("timeline" if isinstance(d, TimelineResult) else "unknown")
        failing = [f for f in d.findings if fail_on.fails(f.severity)]
        cases.append(Case(d.source, f"medcom.validate.{family}", [_line(f) for f in failing],
                          failing[0].rule if failing else "", [f.rule for f in failing],
                          [_line(f) for f in d.findings if f not in failing]))
    xml = junit_xml("medcom validate", cases)
    return xml if show_cpr else mask_cprs(xml)


def _line(f: Finding) -> str:
    where = f"line {f.line}" if f.line else "file"
    return f"{f.severity} {f.rule} {where}{' at ' + f.xpath if f.xpath else ''}: {f.text}"
