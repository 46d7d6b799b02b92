"""Problems: one rule broken by one input, with where and how bad, as data.

Every format's validator makes `Finding`s (a message, a file and line, an element); the engine's rules make
`Violation`s (`medcom.engine.engine`, an episode, deadlines and message ids). Both are `Problem`s: a rule id, a
`Severity`, the text for people, a structured `Location` (its kind and its path as steps), and, where a producer
knows them, a machine `code` (what exactly is wrong: 'min-cardinality', 'receiver-municipality', 'late') and what
judged it (`judged_by`: an XSD, a profile URL|version). Decisions read these fields, never the text: a text is
worded for people and quotes the input, so a value that happens to read "minimum" or a path that happens to pass
through an element named Receiver must not change a verdict.
"""

from __future__ import annotations

import enum
import re
from dataclasses import KW_ONLY, dataclass


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_OF: dict[str, Severity] = {s.value: s for s in Severity}  # a severity, or its name -> the Severity


class LocationKind(enum.StrEnum):
    """What a location's steps are a path in."""

    XPATH = "xpath"  # an element of an XML document: element names, a 1-based position where siblings share one
    FHIRPATH = "fhirpath"  # an element of a FHIR resource: the root type, element names, 0-based list indexes
    LINE = "line"  # a line of a line-based input (a timeline): the finding's file and line say which
    MESSAGE = "message"  # the message (document) as a whole
    EPISODE = "episode"  # an episode of a replay or simulation (a violation of the agreement)


Step = str | int
_XPATH_STEP = re.compile(r"([^/\[\]]+)\[([0-9]+)\]")
_FHIR_STEP = re.compile(r"([^.\[\]]+)((?:\[[0-9]+\])*)")


@dataclass(frozen=True, slots=True)
class Location:
    """Where in its input a problem is: a kind and a path as steps (names, and list positions as ints), printed
    as XPath (`/Emessage/X/Receiver[2]/Identifier`) or FHIRPath (`Bundle.entry[2].resource.class`)."""

    kind: LocationKind
    steps: tuple[Step, ...] = ()

    @classmethod
    def fhir(cls, root: str, path: tuple[Step, ...]) -> Location:
        """A FHIR element: the root resource type and the JSON path under it (a primitive's `_name` twin is
        located at the primitive)."""
        steps = tuple(s[1:] if isinstance(s, str) and s.startswith("_") and len(s) > 1 else s for s in path)
        return cls(LocationKind.FHIRPATH, (root, *steps))

    @classmethod
    def parse(cls, text: str) -> Location:
        """The location a rendered path names: XPath if it starts with '/', else FHIRPath (for producers that
        hand over a path as text; `render` gives the text back)."""
        steps: list[Step] = []
        if text.startswith("/"):
            for part in text[1:].split("/"):
                match = _XPATH_STEP.fullmatch(part) if part.endswith("]") else None
                steps += (match[1], int(match[2])) if match else (part,)
            return cls(LocationKind.XPATH, tuple(steps))
        for part in text.split("."):
            match = _FHIR_STEP.fullmatch(part) if part.endswith("]") else None
            if match is None:
                steps.append(part)
                continue
            steps.append(match[1])
            steps += (int(i) for i in match[2][1:-1].split("][")) if match[2] else ()
        return cls(LocationKind.FHIRPATH, tuple(steps))

    def render(self) -> str | None:
        """The path as XPath or FHIRPath text; None for a location without a path (a line, a message...)."""
        if not self.steps or self.kind not in (LocationKind.XPATH, LocationKind.FHIRPATH):
            return None
        parts: list[str] = []
        for step in self.steps:
            if isinstance(step, int) and parts:
                parts[-1] += f"[{step}]"
            else:
                parts.append(str(step))
        return "/" + "/".join(parts) if self.kind is LocationKind.XPATH else ".".join(parts)

    def within(self, other: Location) -> bool:
        """Whether this location is `other` or inside it."""
        return self.kind is other.kind and self.steps[:len(other.steps)] == other.steps

    def __str__(self) -> str:
        return self.render() or str(self.kind)


MESSAGE = Location(LocationKind.MESSAGE)
LINE = Location(LocationKind.LINE)
EPISODE = Location(LocationKind.EPISODE)


# Machine codes more than one format gives (a format's own live beside its rule ids).
RECEIVER_GLN = "receiver-gln"  # the receiver's location number (a receipt refuses with problem_med_modtagerID)
RECEIVER_MUNICIPALITY = "receiver-municipality"  # the receiver's municipality code (likewise)


class Problem:
    """What a finding and a violation share: the rule broken, how bad, the text for people, where (as data), and
    where known a machine code and what judged it. Decisions read these fields, never `text`."""

    __slots__ = ()
    rule: str
    severity: Severity
    text: str
    location: Location
    code: str | None
    judged_by: str | None


@dataclass(frozen=True)
class Finding(Problem):
    """One rule broken by one input: what, where, how bad. `xpath` is the location as printed (XPath or
    FHIRPath); give either it or `location` (the other is worked out)."""

    rule: str
    severity: Severity
    text: str
    file: str
    line: int | None = None
    xpath: str | None = None
    _: KW_ONLY
    location: Location = MESSAGE  # with `xpath` given: the location it names
    code: str | None = None
    judged_by: str | None = None  # the schema or profile that judged: an XSD's label, a profile's URL|version

    def __post_init__(self) -> None:
        if self.xpath is None:
            if self.location.steps:
                object.__setattr__(self, "xpath", self.location.render())
        elif self.location is MESSAGE:
            object.__setattr__(self, "location", Location.parse(self.xpath))

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"rule": self.rule, "severity": str(self.severity), "file": self.file,
                                    "line": self.line, "xpath": self.xpath, "text": self.text}
        if self.code is not None:
            found["code"] = self.code
        if self.judged_by is not None:
            found["judged_by"] = self.judged_by
        return found


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
