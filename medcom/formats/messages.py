"""What every format adapter gives back for one message found in an input: where it was, what it is, what is
wrong with it, and its content for the events mapping. Format-agnostic, picklable (workers send it back)."""

from __future__ import annotations

from dataclasses import dataclass, field

from medcom.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How inputs are read: size limit, a user's schema folder, and which checks apply."""

    max_bytes: int = 10_000_000
    schemas_dir: str | None = None  # --schemas DIR: the user's official XSDs instead of the shipped ones
    max_timeline_bytes: int = 200_000_000  # a timeline or side-car larger than this is not read
    max_findings: int = 100  # findings listed per input; the rest are counted
    sent_before_event: bool = True  # M-TIME "sent before the event it reports" (validate; replay leaves it to rules)
    letter_content: bool = True  # read what the agreement needs of each OIOXML letter (replay; validate does not)


@dataclass(slots=True)
class ReadMessage:
    """One message (an OIOXML letter, a FHIR message Bundle), or an input that could not be read as one."""

    source: str  # file, archive member and the path through wrappers
    format: str  # "oioxml", "fhir", or "unknown" when the input could not be recognised
    findings: list[Finding] = field(default_factory=list)
    family: str | None = None  # XDIS21, XCTL03, HospitalNotification ...
    version: str | None = None  # XD2134C, a FHIR IG version ...
    generation: str | None = None  # OIOXML schema generation (2005/08/07, 34C), FHIR release
    schema: str | None = None  # which schema or profile judged it
    encoding: str | None = None
    envelope_id: str | None = None  # OIOXML envelope id, FHIR MessageHeader id
    letter_id: str | None = None
    sender: str | None = None  # location number (GLN/EAN) or other id of the sender
    sender_name: str | None = None  # the sender's organisation (and department) as the message names it
    receiver: str | None = None
    receipt_requested: bool = False
    content: object | None = None  # the format's typed record, for the events mapping and receipts
    position: int = 1  # letter number inside its Emessage
    line: int | None = None  # where the message starts in its (innermost) document: the letter, the Bundle
    document: str | None = None  # the source of the document that holds it, if not `source` (a letter's: no number)
    # The transport envelopes around it, outermost first: (its id's label, "VANS envelope <id>" or "SBDH
    # InstanceIdentifier <id>"; the document it is)
    wrappers: tuple[tuple[str, str], ...] = ()

    @property
    def document_source(self) -> str:
        """The source of the (innermost) document the message is in: its own, without a letter number."""
        return self.document or self.source

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def accepted(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


def unreadable(source: str, rule: str, text: str, line: int | None = None, fmt: str = "unknown") -> ReadMessage:
    """An input that yields no message: counted as one, rejected with its finding."""
    return ReadMessage(source, fmt, [Finding(rule, Severity.ERROR, text, source, line)])
