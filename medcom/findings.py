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
