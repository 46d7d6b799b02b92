"""Findings: one rule broken by one input, with where and how bad (every format's validator makes them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One rule broken by one input: what, where, how bad."""

    rule: str
    severity: Severity
    text: str
    file: str
    line: int | None = None
    xpath: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": str(self.severity), "file": self.file, "line": self.line,
                "xpath": self.xpath, "text": self.text}


@dataclass(frozen=True)
class MoreFindings(Finding):
    """The finding that closes a listing: `count` more findings of its rule, not listed (see FindingLimit)."""

    count: int = 0


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
DEFAULT_MAX_FINDINGS = 100


class FindingLimit:
    """At most `limit` findings listed for one input; the rest are counted, per rule, and closed with one
    finding per rule saying how many more there were (at the worst severity among them, so that the input's
    outcome and a suppression by rule stay as if all were listed). Memory stays bounded whatever the input."""

    def __init__(self, findings: list[Finding], limit: int = DEFAULT_MAX_FINDINGS) -> None:
        self.findings, self.limit = findings, limit
        self.more: dict[str, tuple[int, Severity, str]] = {}  # rule -> (count, worst severity, file)

    @property
    def full(self) -> bool:
        return len(self.findings) >= self.limit

    def add(self, finding: Finding) -> None:
        if isinstance(finding, MoreFindings):  # a listing capped before (when read): its count carries over
            count, worst, _ = self.more.get(finding.rule, (0, finding.severity, finding.file))
            self.more[finding.rule] = (count + finding.count, min(worst, finding.severity, key=_RANK.__getitem__),
                                       finding.file)
        elif self.full:
            self.skip(finding.rule, finding.severity, finding.file)
        else:
            self.findings.append(finding)

    def skip(self, rule: str, severity: Severity, file: str) -> None:
        """Count a finding that is not listed (the caller did not build it: it was over the limit)."""
        count, worst, _ = self.more.get(rule, (0, severity, file))
        self.more[rule] = (count + 1, min(worst, severity, key=_RANK.__getitem__), file)

    def close(self) -> None:
        """Append the closing findings; call once, after the last add."""
        for rule, (count, worst, file) in self.more.items():
            self.findings.append(MoreFindings(
                rule, worst, f"{count:,} more {rule} finding{'s' if count != 1 else ''} in this input, not listed (at "
                f"most {self.limit:,} are listed per input)", file, count=count))
        self.more = {}


def capped(findings: list[Finding], limit: int = DEFAULT_MAX_FINDINGS) -> list[Finding]:
    """At most `limit` of `findings` listed; the rest counted per rule (FindingLimit)."""
    if len(findings) <= limit and not any(isinstance(f, MoreFindings) for f in findings):
        return findings
    kept: list[Finding] = []
    cap = FindingLimit(kept, limit)
    for finding in findings:
        cap.add(finding)
    cap.close()
    return kept
