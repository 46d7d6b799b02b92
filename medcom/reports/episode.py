"""One episode of the replay report, typed: what every format shows of it.

The replay of a partition makes an `EpisodeReport` per episode in the partition's worker (its strings already
masked unless --show-cpr); the partitions pickle them to disk, and each format reads the fields it shows: JSON by
`to_dict` (CONTRACT.md's shape, medcom/schemas/reports/replay.schema.json), text, JUnit and HTML by the fields
themselves, and whether the run fails by each violation's `Severity`. Times are kept as the report shows them
(ISO 8601, Europe/Copenhagen); only the drawing of a timeline keeps instants, to place its markers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from medcom.findings import EPISODE, Location, Problem, Severity

State = Literal["open", "discharged", "deceased", "cancelled"]
Side = Literal["hospital", "municipality", ""]


@dataclass(frozen=True, slots=True)
class MessagePlace:
    """Where a message a violation names was read: its file (with the path through its wrappers) and line; the
    file is None for a message the log lacks. A duplicate or resend has a place per copy."""

    id: str
    file: str | None
    line: int | None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "file": self.file, "line": self.line}


@dataclass(frozen=True, slots=True)
class ReportedViolation(Problem):
    """A rule of the agreement broken in the episode, as the report shows it (the engine's `Violation`, its times
    local ISO text and its messages placed)."""

    rule: str
    severity: Severity
    due: str | None
    actual: str | None
    message_ids: tuple[str, ...]
    text: str
    messages: tuple[MessagePlace, ...] = ()
    code: str | None = None  # how the wait ended: 'late', 'missing'
    location: Location = EPISODE
    judged_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"rule": self.rule, "severity": str(self.severity), "due": self.due,
                                  "actual": self.actual, "message_ids": list(self.message_ids), "text": self.text}
        if self.code is not None:
            out["code"] = self.code
        out["messages"] = [place.to_dict() for place in self.messages]
        return out


@dataclass(frozen=True, slots=True)
class ReportedObligation:
    """Something the agreement asks that the log cannot show kept or broken."""

    rule: str
    text: str
    due: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "text": self.text, **({"due": self.due} if self.due else {})}


@dataclass(frozen=True, slots=True)
class CompletionTax:
    """How the completion tax was counted (TAX-1..5): from when, which dates, why some are disputable."""

    start: str
    counted_dates: tuple[str, ...]
    disputable_reason: str | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start, "counted_dates": list(self.counted_dates),
                "disputable_reason": self.disputable_reason, "notes": list(self.notes)}


@dataclass(frozen=True, slots=True)
class Responsibility:
    """The 72-hour responsibility after the discharge (R72-1): until when, or why it does not apply."""

    applies: bool
    until: str | None
    reason: str | None

    def to_dict(self) -> dict[str, object]:
        return {"applies": self.applies, "until": self.until, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Inquiry:
    """An inquiry about the patient after the discharge, and who answers it (R72-2)."""

    at: str
    via: str
    responsible: str

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "via": self.via, "responsible": self.responsible}


@dataclass(frozen=True, slots=True)
class DrawnEvent:
    """An event as a timeline draws it. `side`: whose lane a message, call or receipt goes on (a receipt is sent
    by the receiver of the message it answers); '' for facts, and for a receipt whose message the episode lacks."""

    at: datetime
    kind: str
    id: str | None
    side: Side


@dataclass(frozen=True, slots=True)
class Drawing:
    """What an episode's timeline draws: its events in time order (ties in arrival order), where the completion
    tax starts, the discharge, and the end of the 72-hour responsibility."""

    events: tuple[DrawnEvent, ...]
    tax_start: datetime | None
    discharged_at: datetime | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class EpisodeReport:
    """One episode of the report. `name` orders the report (and is the merge key across partitions); `episode`
    is the name as shown (masked unless --show-cpr). `municipality` and `drawing` are for the HTML page (the
    drawing only for the first episodes of a partition that the page draws)."""

    name: str
    episode: str
    admitted: str | None
    discharged: str | None
    state: State
    sources: tuple[str, ...]
    tax_days: int
    tax_dkk: int
    disputable_days: int
    responsibility: Responsibility
    violations: tuple[ReportedViolation, ...]
    obligations: tuple[ReportedObligation, ...]
    patient: str | None = None
    tax: CompletionTax | None = None
    inquiries: tuple[Inquiry, ...] = ()
    municipality: str = "-"  # 'code name' of the admission's municipality ('-': none)
    drawing: Drawing | None = None

    def to_dict(self) -> dict[str, object]:
        """The episode in the JSON report (CONTRACT.md)."""
        out: dict[str, object] = {
            "episode": self.episode, "admitted": self.admitted, "discharged": self.discharged, "state": self.state,
            "sources": list(self.sources), "completion_tax_days": self.tax_days, "completion_tax_dkk": self.tax_dkk,
            "disputable_days": self.disputable_days, "extended_responsibility": self.responsibility.to_dict(),
            "violations": [v.to_dict() for v in self.violations],
            "obligations": [o.to_dict() for o in self.obligations]}
        if self.patient is not None:
            out["patient"] = self.patient
        if self.tax is not None:
            out["completion_tax"] = self.tax.to_dict()
        if self.inquiries:
            out["inquiries"] = [i.to_dict() for i in self.inquiries]
        return out

    @property
    def rules(self) -> set[str]:
        """The rules of its violations and obligations."""
        return {v.rule for v in self.violations} | {o.rule for o in self.obligations}
