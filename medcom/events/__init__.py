"""Events: what happened in an episode, whoever told it: a timeline, OIOXML or FHIR messages, or the simulation.

`Event` and the event kinds are here; `timeline` reads the timeline format (JSON lines), `from_messages` holds the
shape every message mapping gives (`MessageEvents`), `from_oioxml` and `from_fhir` map read messages to events,
`to_oioxml` and `to_fhir` write events as messages, and `build` writes a whole timeline as a log (`medcom build`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Events that are messages (they have ids, may be receipted, duplicated, corrected).
MESSAGE_EVENTS = frozenset({
    "admission_advice_sent", "admission_report_sent", "care_plan_sent", "care_plan_ack_sent",
    "correspondence_sent", "completion_notice_sent", "discharge_advice_sent", "discharge_report_sent",
    "receipt_sent", "leave_notice_sent",
})
FACT_EVENTS = frozenset({
    "admitted", "phone_call", "ready_for_discharge", "conference_ready", "guardianship_info_sent", "terminal",
    "leave_started", "leave_ended", "discharged", "responsibility_extended", "deceased",
})
EVENT_KINDS = MESSAGE_EVENTS | FACT_EVENTS

# Who sends each message kind (correspondence and phone calls say it themselves).
HOSPITAL_MESSAGES = frozenset({"admission_advice_sent", "care_plan_sent", "completion_notice_sent",
                               "discharge_advice_sent", "discharge_report_sent", "leave_notice_sent"})
MUNICIPALITY_MESSAGES = frozenset({"admission_report_sent", "care_plan_ack_sent"})

# What `medcom build` writes (events.build): the wrappers around each message, and the formats.
WRAPS = ("none", "vans", "sbdh")
FORMATS = ("national", "oioxml")  # national: FHIR where MedCom's FHIR messages replace OIOXML (advices, correspondence)

# Keys whose values are times (parsed like `at`).
TIME_KEYS = ("discharge_at", "agreed_discharge_at", "extended_responsibility_until", "until")


@dataclass(slots=True)
class Event:
    """One event. `seq` is the input order, which breaks ties in time (replay is stable)."""

    at: datetime
    episode: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    source: str = ""
    line: int | None = None
    receipt_requested: bool = False
    envelope_id: str | None = None
    origin: str = "timeline"  # the format that told it: timeline, oioxml, fhir, side-car, simulation

    def __reduce__(self) -> tuple[type[Event], tuple[object, ...]]:
        """Pickled as its fields in order (worker processes send many events; this is faster than slots' state)."""
        return Event, (self.at, self.episode, self.kind, self.data, self.seq, self.source, self.line,
                       self.receipt_requested, self.envelope_id, self.origin)

    @property
    def id(self) -> str | None:
        return self.data.get("id")

    @property
    def is_message(self) -> bool:
        return self.kind in MESSAGE_EVENTS

    @property
    def from_hospital(self) -> bool:
        """Sent or made by the hospital (messages, correspondence, phone calls)."""
        if self.kind in HOSPITAL_MESSAGES:
            return True
        return self.data.get("sender", self.data.get("caller")) == "hospital"

    @property
    def from_municipality(self) -> bool:
        if self.kind in MUNICIPALITY_MESSAGES:
            return True
        return self.data.get("sender", self.data.get("caller")) == "municipality"
