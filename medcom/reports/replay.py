"""The replay report: CONTRACT.md's JSON shape, a text summary for people, JUnit for CI servers.

Every replay, in memory or in partitions, gives its report the same way: each partition's replay makes a typed
`EpisodeReport` per episode (medcom.reports.episode; in the partition's worker) and a `ReplaySummary` of them;
the summaries are joined once, and every format renders from the `ReplayReport`, reading its episodes once (back
from disk, in name order) as it writes. CPR numbers are masked in every string of the report unless `show_cpr`
(masked as the episode reports are made); `FailOn` decides both the JUnit failures and the exit code, from each
violation's and finding's `Severity`.
"""

from __future__ import annotations

import difflib
import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple, Protocol

import click

from medcom.calendar import to_local
from medcom.catalogue import BY_ID, close_matches
from medcom.engine.engine import Episode, Violation
from medcom.events import Event
from medcom.findings import Finding, Severity
from medcom.gc_tuning import batch_gc
from medcom.identifiers import mask_cpr, mask_cprs, municipality_name
from medcom.policy import Policy
from medcom.replay import LogFacts, ReplayInput, ReplayResult
from medcom.replay.input_rules import Order
from medcom.replay.partition import PartitionedReplay
from medcom.reports.deferred import Deferred
from medcom.reports.episode import (
    CompletionTax,
    Drawing,
    DrawnEvent,
    EpisodeReport,
    Inquiry,
    MessagePlace,
    ReportedObligation,
    ReportedViolation,
    Responsibility,
    Side,
    State,
)
from medcom.reports.formatting import number, plural
from medcom.reports.junit import Case, FailOn
from medcom.reports.junit import junit_chunks as junit_xml_chunks
from medcom.reports.schemas import REPLAY

_LAST = datetime.max.replace(tzinfo=UTC)
_SOURCE = {"side-car": "timeline", "simulation": "timeline"}  # a side-car is in the timeline format


@dataclass(frozen=True)
class Filters:
    episodes: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    def keep_episode(self, name: str) -> bool:
        return not self.episodes or name in self.episodes

    def keep(self, v: Violation) -> bool:
        when = v.actual or v.due
        return ((not self.rules or v.rule in self.rules)
                and (self.since is None or when is None or when >= self.since)
                and (self.until is None or when is None or when <= self.until))


def _iso(at: datetime | None) -> str | None:
    return to_local(at).isoformat() if at is not None else None


def _state(ep: Episode | None, cancelled: bool) -> State:
    if cancelled:
        return "cancelled"
    if ep is not None and ep.last("deceased") is not None:
        return "deceased"
    if ep is not None and ep.last("discharged") is not None:
        return "discharged"
    return "open"


Locations = Mapping[str, list[tuple[str, int | None]]]  # message id -> (file, line) of each copy read


def message_locations(inp: ReplayInput) -> Locations:
    """Where each message id of the inputs was read: file (with the path through its wrappers, and which letter
    of an Emessage), line (the letter's or Bundle's, or the timeline's line), one per copy (a duplicate or
    resend names both). The report points every violation at its messages with it."""
    where: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for event in (*(e for u in inp.units for e in u.events.events), *inp.sidecar_messages, *inp.facts):
        ident = event.id
        if ident and event.source:
            place = (event.source, event.line)
            if place not in where[ident]:
                where[ident].append(place)
    return where


Mask = Callable[[str], str]  # a report string as shown: CPR numbers masked, or (--show-cpr) as it is


def _as_is(text: str) -> str:
    return text


def _violation(v: Violation, locations: Locations, mask: Mask) -> ReportedViolation:
    """A violation as the report shows it, with its messages: id, file and line of each (the file is None for a
    message the log lacks)."""
    places = tuple(MessagePlace(mask(i), mask(file) if file is not None else None, line) for i in v.message_ids
                   for file, line in (locations.get(i) or _NOWHERE))
    return ReportedViolation(v.rule, v.severity, _iso(v.due), _iso(v.actual), tuple(map(mask, v.message_ids)),
                             mask(v.text), places, v.code and mask(v.code), v.location, v.judged_by)


_NOWHERE: list[tuple[str | None, int | None]] = [(None, None)]


def episode_report(name: str, ep: Episode | None, extra: list[Violation], filters: Filters, mask: Mask,
                   cancelled: bool = False, locations: Locations | None = None, html: bool = False,
                   draw: bool = False) -> EpisodeReport:
    """One episode of the report (`extra`: its input violations; `mask`: how its strings are shown); for the HTML
    page (`html`) with its municipality, and (`draw`) what its timeline draws."""
    if cancelled:
        extra = []
    tax = ep.tax if ep else None
    until = ep.responsibility_until if ep else None
    violations = sorted((v for v in [*(ep.violations if ep else []), *extra] if filters.keep(v)),
                        key=lambda v: v.actual or v.due or _LAST)  # in time order; undated ones last
    admitted = ep.first("admitted") if ep else None
    cpr = admitted.data.get("cpr") if admitted else None
    discharged = ep.last("discharged") if ep else None
    last_admitted = ep.last("admitted") if ep else None
    return EpisodeReport(
        name, mask(name), admitted=_iso(last_admitted.at) if last_admitted else None,
        discharged=_iso(discharged.at) if discharged else None, state=_state(ep, cancelled),
        sources=tuple(mask(s) for s in sorted({_SOURCE.get(e.origin, e.origin) for e in ep.events})) if ep else (),
        tax_days=tax.days if tax else 0, tax_dkk=tax.dkk if tax else 0,
        disputable_days=tax.disputable_days if tax else 0,
        responsibility=Responsibility(until is not None, _iso(until),
                                      None if until is not None else mask(_r72_reason(ep, discharged))),
        violations=tuple(_violation(v, locations or {}, mask) for v in violations),
        obligations=tuple(ReportedObligation(o.rule, mask(o.text), _iso(o.due)) for o in (ep.obligations if ep else [])
                          if not filters.rules or o.rule in filters.rules),
        patient=(str(cpr) if mask is _as_is else mask(mask_cpr(str(cpr)))) if cpr else None,
        tax=CompletionTax(to_local(tax.start).isoformat(), tuple(tax.counted_dates),
                          tax.disputable_reason and mask(tax.disputable_reason), tuple(map(mask, tax.notes)))
        if tax else None,
        inquiries=tuple(Inquiry(mask(str(i["at"])), mask(str(i["via"])), mask(str(i["responsible"])))
                        for i in ep.inquiries) if ep else (),
        municipality=_municipality(ep) if html else "-",
        drawing=_drawing(ep) if draw else None)


def _r72_reason(ep: Episode | None, discharged: object) -> str:
    """Why the 72-hour responsibility does not apply to an episode (the rule's reason, R72-1)."""
    if ep is None or discharged is None:
        return "not discharged"
    return ep.responsibility_reason or "does not apply"


DEFAULT_POLICY = "the shipped default (Region Nordjylland 2024)"
MAX_DRAWINGS = 500  # timelines an HTML page draws (replay_html.MAX_TIMELINES): the first, in name order


@dataclass
class ReplaySummary:
    """The report's summary, accumulated in one pass over the episode reports (each partition's, then joined):
    no format reads the episodes again to count them."""

    episodes: int = 0
    completion_tax_days: int = 0
    completion_tax_dkk: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    tax_years: set[int] = field(default_factory=set)  # of the counted tax dates (which rate tables were used)
    severities: set[Severity] = field(default_factory=set)  # of the violations (whether the run fails)
    rules: set[str] = field(default_factory=set)  # of the violations and obligations (the HTML page's filter)

    def add(self, entry: EpisodeReport) -> None:
        self.episodes += 1
        self.completion_tax_days += entry.tax_days
        self.completion_tax_dkk += entry.tax_dkk
        self.by_rule.update(v.rule for v in entry.violations)
        self.severities.update(v.severity for v in entry.violations)
        self.rules.update(entry.rules)
        if entry.tax is not None:
            self.tax_years.update(int(day[:4]) for day in entry.tax.counted_dates)

    def join(self, other: ReplaySummary) -> ReplaySummary:
        """The summary of two parts' episodes together."""
        return ReplaySummary(self.episodes + other.episodes, self.completion_tax_days + other.completion_tax_days,
                             self.completion_tax_dkk + other.completion_tax_dkk, self.by_rule + other.by_rule,
                             self.tax_years | other.tax_years, self.severities | other.severities,
                             self.rules | other.rules)

    @classmethod
    def of(cls, entries: Iterable[EpisodeReport]) -> ReplaySummary:
        summary = cls()
        for entry in entries:
            summary.add(entry)
        return summary

    def rates(self, policy: Policy) -> str | None:
        """The completion-tax rate tables the counted dates were priced by ("2024 and 2025 rates")."""
        years = sorted({policy.completion_tax.rates_year(year) for year in self.tax_years})
        return " and ".join(map(str, years)) + " rates" if years else None

    def as_dict(self, log: LogFacts | None, policy: Policy | None) -> dict[str, object]:
        """The report's "summary"; with the `policy` replayed under, it names the completion-tax rate tables
        used."""
        out: dict[str, object] = {
            "episodes": self.episodes, "completion_tax_days": self.completion_tax_days,
            "completion_tax_dkk": self.completion_tax_dkk, "violations_by_rule": dict(sorted(self.by_rule.items())),
            "not_checked": not_checked(log)}
        if policy is not None:
            out["completion_tax_rates"] = self.rates(policy)
        return out


def _entries(result: ReplayResult, filters: Filters, show_cpr: bool, drawings: int = 0) -> list[EpisodeReport]:
    """The report's episodes, in name order (CPR numbers masked unless `show_cpr`); with `drawings`, each with
    its municipality, and the first `drawings` with what their timelines draw."""
    names = sorted(set(result.episodes) | set(result.input_violations))
    locations = message_locations(result.inputs)
    mask: Mask = _as_is if show_cpr else mask_cprs
    entries: list[EpisodeReport] = []
    for name in names:
        if filters.keep_episode(name):
            entries.append(episode_report(name, result.episodes.get(name), result.input_violations.get(name, []),
                                          filters, mask, name in result.cancelled, locations, drawings > 0,
                                          len(entries) < drawings))
    return entries


def _municipality(ep: Episode | None) -> str:
    """'code name' of the municipality the admission names ('-' when none does)."""
    admitted = ep.first("admitted") if ep is not None else None
    code = str(admitted.data.get("municipality") or "") if admitted is not None else ""
    return f"{code} {municipality_name(code) or ''}".strip() if code else "-"


def _drawing(ep: Episode | None) -> Drawing | None:
    """What an episode's timeline draws: its events, where the tax starts, the discharge and the 72-hour window
    (not its rules' state)."""
    if ep is None:
        return None
    by_id = {e.id: e for e in ep.events if e.id and e.kind != "receipt_sent"}
    discharged = ep.first("discharged")
    return Drawing(tuple(DrawnEvent(e.at, e.kind, e.id, _side(e, by_id)) for e in sorted(ep.events,
                                                                                      key=lambda e: (e.at, e.seq))),
                   ep.tax.start if ep.tax else None, discharged.at if discharged else None, ep.responsibility_until)


def _side(e: Event, by_id: Mapping[str, Event]) -> Side:
    """Whose lane an event goes on: a message's sender's, a call's caller's, a receipt's sender's (the receiver
    of the message it answers; '' when the episode lacks that message); '' for a fact."""
    if e.kind == "phone_call":
        return "hospital" if e.from_hospital else "municipality"
    if e.kind == "receipt_sent":
        original = by_id.get(e.data.get("ref") or "")
        if original is None:
            return ""
        return "hospital" if original.from_municipality else "municipality"
    if e.is_message:
        return "municipality" if e.from_municipality else "hospital"
    return ""


def episode_matches(result: ReplayResult, wanted: frozenset[str]) -> dict[str, list[str] | None]:
    """For each episode `wanted` (--episode): None when the replay has it, else the names close to it (difflib),
    so that a typo is a usage error with suggestions, not an empty report."""
    names = set(result.episodes) | set(result.input_violations)
    return {w: None if w in names else difflib.get_close_matches(w, names, n=3, cutoff=0.5) for w in wanted}


def unknown_episodes(matches: Iterable[dict[str, list[str] | None]]) -> dict[str, list[str]]:
    """The --episode values no part of the log has, with the closest names of all parts (`episode_matches` of
    each partition, or of the whole replay)."""
    found: set[str] = set()
    close: dict[str, set[str]] = defaultdict(set)
    for part in matches:
        for wanted, near in part.items():
            if near is None:
                found.add(wanted)
            else:
                close[wanted].update(near)
    return {w: difflib.get_close_matches(w, sorted(near), n=3, cutoff=0.5)
            for w, near in sorted(close.items()) if w not in found}


def unknown_rules(rules: Iterable[str]) -> dict[str, list[str]]:
    """The --rule values that are no catalogued rule id (as written: ids are upper case), with the closest ids
    (the catalogue's own "did you mean", as `medcom rules` uses)."""
    return {r: close_matches(r)[:3] for r in sorted(set(rules)) if r not in BY_ID}


def not_checked(log: LogFacts | None) -> dict[str, str]:
    """The rules a log cannot show kept or broken, with why (RULES.md: M-RECEIPT is checked only where the log
    holds receipts, and the report says when it was not)."""
    if log is not None and not log.has_receipts:
        return {"M-RECEIPT": "not checked: the log holds no receipts"}
    return {}


class Counts(Protocol):
    """What the report counts of the inputs (a ReplayInput, or a partitioned replay's pass over the log)."""

    messages: int
    rejected: int
    duplicates: int
    lines: int
    lines_rejected: int

    @property
    def accepted(self) -> int: ...


# --- the pipeline's report: a replay's episode reports (in memory, or streamed from a partitioned run) ----------


@dataclass(frozen=True)
class EpisodeReports:
    """What a partition's replay gives the report: its episode reports in name order, and its summary (a
    picklable callable, run where the partition runs). `drawings`: the episodes to draw timelines for (HTML)."""

    filters: Filters = Filters()
    show_cpr: bool = False
    drawings: int = 0

    def __call__(self, result: ReplayResult) -> tuple[list[EpisodeReport], PartitionSummary]:
        """The episodes, and the partition's summary: the summary of its episodes, its findings that belong to
        no episode, and `episode_matches` of the --episode values."""
        entries = _entries(result, self.filters, self.show_cpr, self.drawings)
        return entries, PartitionSummary(ReplaySummary.of(entries), list(zip(result.finding_order, result.findings,
                                                                             strict=True)),
                                         episode_matches(result, self.filters.episodes))


class PartitionSummary(NamedTuple):
    """What a partition's replay tells the whole report beside its episode reports."""

    summary: ReplaySummary  # of its episodes
    findings: Collection[tuple[Order, Finding]]  # input findings of its messages that belong to no episode, in order
    episode_matches: dict[str, list[str] | None]  # --episode value -> None (found) or the close names

    def on_disk(self, path: Path) -> PartitionSummary:
        """This summary with its findings appended to the file at `path` (medcom.replay.partition keeps each
        partition's summary this way until the report reads them back, merged)."""
        from medcom.replay.spool import append_stretch  # (numpy: only where there are partitions)

        return self._replace(findings=append_stretch(path, self.findings))


@dataclass
class ReplayReport:
    """A replay's report, whichever way it ran: counts of the inputs, the summary (accumulated once), the input
    findings (as shown: masked unless `show_cpr`), and the episode reports (read anew by `entries()`). Every
    format renders from it."""

    policy: str
    counts: Counts
    summary: ReplaySummary
    log: LogFacts | None
    findings: Collection[Finding]  # (read anew from disk by each iteration, in a partitioned replay)
    show_cpr: bool
    read_entries: Callable[[], Iterator[EpisodeReport]]
    rates: Policy | None = None  # the policy replayed under: the summary names its rate tables

    def entries(self) -> Iterator[EpisodeReport]:
        return self.read_entries()

    def fails(self, fail_on: FailOn = FailOn.ERROR) -> bool:
        """Whether the run fails (exit 1) under `fail_on`: an input finding or a violation of that severity."""
        return any(fail_on.fails(f.severity) for f in self.findings) or any(
            fail_on.fails(s) for s in self.summary.severities)

    def rates_text(self) -> str | None:
        """The completion-tax rate tables used ("2025 rates"); None without a policy or counted days."""
        return self.summary.rates(self.rates) if self.rates is not None else None

    def _parts(self) -> tuple[dict[str, object], dict[str, object]]:
        """CONTRACT.md's JSON shape before its episodes, and between them and the input findings."""
        inp = self.counts
        head: dict[str, object] = {
            "policy": self.policy, "$schema": REPLAY,
            "inputs": {"messages": inp.messages, "accepted": inp.accepted, "rejected": inp.rejected,
                       "duplicates": inp.duplicates},
            "events": {"lines": inp.lines, "accepted": inp.lines - inp.lines_rejected,
                       "rejected": inp.lines_rejected},
        }
        return head, {"summary": self.summary.as_dict(self.log, self.rates)}  # then "input_findings"

    def to_dict(self) -> dict[str, object]:
        """CONTRACT.md's JSON shape, its episodes all read into a list (a report held in memory)."""
        head, tail = self._parts()
        return {**head, "episodes": [e.to_dict() for e in self.entries()], **tail,
                "input_findings": [f.as_dict() for f in self.findings]}

    def json_chunks(self) -> Iterator[str]:
        """The JSON report as `json.dumps(self.to_dict(), indent=2, ensure_ascii=False)` writes it, in pieces
        of about 64 kB, its episodes and input findings encoded one by one (the report is never held whole: an
        input finding encoded with the others cost about 3 kB while the report was written, the command's peak)."""
        head, tail = self._parts()
        shell = to_json({**head, "episodes": [], **tail, "input_findings": []})
        before, rest = shell.split('\n  "episodes": []', 1)  # a string's newline is escaped: only the key's
        between, after = rest.split('\n  "input_findings": []', 1)
        yield from _list_in_chunks(before + '\n  "episodes": ', (e.to_dict() for e in self.entries()))
        yield from _list_in_chunks(between + '\n  "input_findings": ', (f.as_dict() for f in self.findings))
        yield after


def _list_in_chunks(opening: str, items: Iterable[Mapping[str, object]]) -> Iterator[str]:
    """`opening` and a JSON array of `items` as `json.dumps(..., indent=2)` writes a top-level member's value, in
    pieces of about 64 kB, each item encoded when its turn comes."""
    pieces, size, first = [opening, "["], 0, True
    for item in items:
        pieces.append(("\n    " if first else ",\n    ") + to_json(item).replace("\n", "\n    "))
        size, first = size + len(pieces[-1]), False
        if size > 65_536:
            yield "".join(pieces)
            pieces, size = [], 0
    pieces.append("]" if first else "\n  ]")
    yield "".join(pieces)


def _shown(findings: Iterable[Finding], show_cpr: bool) -> list[Finding]:
    """Input findings as the report shows them: their strings masked unless `show_cpr`."""
    return list(findings) if show_cpr else [_masked(f) for f in findings]


def _masked(f: Finding) -> Finding:
    return replace(f, text=mask_cprs(f.text), file=mask_cprs(f.file), xpath=f.xpath and mask_cprs(f.xpath),
                   code=f.code and mask_cprs(f.code), judged_by=f.judged_by and mask_cprs(f.judged_by))


class _InputFindings(Collection[Finding]):
    """A partitioned replay's input findings as the report shows them, read anew by each iteration and never held
    together: pass 1's (on disk), then the partitions' merged in the whole log's order (medcom.replay.input_rules'
    `Order`), each masked as it is read unless `show_cpr`."""

    def __init__(self, run: PartitionedReplay[EpisodeReport, PartitionSummary], show_cpr: bool) -> None:
        self.run, self.show_cpr = run, show_cpr

    def __iter__(self) -> Iterator[Finding]:
        parts = (f for _, f in heapq.merge(*(part.findings for part in self.run.summaries), key=_ORDER))
        found = (f for found in (self.run.findings, parts) for f in found)
        return found if self.show_cpr else map(_masked, found)

    def __len__(self) -> int:
        return len(self.run.findings) + sum(len(part.findings) for part in self.run.summaries)

    def __contains__(self, item: object) -> bool:
        return any(item == f for f in self)


def whole_report(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                 policy: Policy | None = None, policy_name: str = DEFAULT_POLICY, drawings: int = 0) -> ReplayReport:
    """The report of a replay made in memory: the pipeline's report of one partition."""
    with batch_gc():
        entries, part = EpisodeReports(filters, show_cpr, drawings)(result)
    return ReplayReport(policy_name, result.inputs, part.summary, result.log,
                        _shown([*result.inputs.findings, *(f for _, f in part.findings)], show_cpr), show_cpr,
                        lambda: iter(entries),
                        policy)


def report_dict(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> dict[str, object]:
    """The JSON report of a replay made in memory (`whole_report` as CONTRACT.md's shape)."""
    return whole_report(result, filters, show_cpr, policy, policy_name).to_dict()


def partitioned_report(run: PartitionedReplay[EpisodeReport, PartitionSummary], show_cpr: bool = False,
                       policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> ReplayReport:
    """The report of a partitioned replay (its partitions built with `EpisodeReports`): the same as
    `whole_report` of the whole log's replay, with the episodes streamed from disk."""
    summary = ReplaySummary()
    for part in run.summaries:
        summary = summary.join(part.summary)
    return ReplayReport(policy_name, run, summary, run.log, _InputFindings(run, show_cpr), show_cpr,
                        partial(_merged, run), policy)


_ORDER = itemgetter(0)


def _merged(run: PartitionedReplay[EpisodeReport, PartitionSummary]) -> Iterator[EpisodeReport]:
    previous = None
    for entry in run.merged_items(key=_name):
        if entry.name == previous:  # every episode lives in one partition (medcom.replay.partition)
            raise RuntimeError(f"partitioned replay: episode {previous!r} came from two partitions")
        previous = entry.name
        yield entry


def _name(entry: EpisodeReport) -> str:
    return entry.name


def to_json(report: Mapping[str, object]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def short_time(iso: str | None) -> str:
    """An ISO time from a report as "YYYY-MM-DD HH:MM" for people ("-" when there is none)."""
    return iso[:16].replace("T", " ") if iso else "-"


def where(place: MessagePlace) -> str:
    """A message's place for people: "E2-CP in log/E2-0006-care_plan_sent.xml line 10" (the file names the path
    through its wrappers, "inbox.xml > SBDH BinaryContent > VANS Data", whose innermost document the line counts)."""
    if place.file is None:
        return f"{place.id} (not in the log)"
    line = f" line {place.line}" if place.line else ""
    return f"{place.id} in {place.file}{line}"


def text_lines(report: ReplayReport) -> Iterator[str]:
    """The text report line by line: the table of every episode, then the details of those with violations or
    obligations (put aside as the table is written: the episodes are read once)."""
    inputs, summary = report.counts, report.summary
    rates = report.rates_text()
    yield f"policy: {report.policy}"
    yield (f"inputs: {plural(inputs.messages, 'message')}, {inputs.accepted} accepted, "
           f"{inputs.rejected} rejected, {plural(inputs.duplicates, 'duplicate')}")
    yield (f"{plural(summary.episodes, 'episode')}, completion tax {plural(summary.completion_tax_days, 'day')}"
           f" = {number(summary.completion_tax_dkk)} DKK{f' ({rates})' if rates else ''}")
    yield ""
    yield (f"{'episode':<34} {'admitted':<16} {'discharged':<16} {'state':<10} {'tax days':>8} {'DKK':>9} "
           f"{'disputable':>10} {'72 h until':<17} violations")
    details = Deferred()
    for e in report.entries():
        until = e.responsibility.until
        yield (f"{e.episode:<34} {short_time(e.admitted):<16} {short_time(e.discharged):<16} "
               f"{e.state:<10} {e.tax_days:>8} {e.tax_dkk:>9} "
               f"{e.disputable_days:>10} {short_time(until) if until else '-':<17} {len(e.violations)}")
        details.add(_details(e))
    yield from details.pieces()
    if report.findings:
        yield ""
        yield "input findings:"
        for f in report.findings:
            yield f"  {f.severity:<7} {f.rule:<9} {f.file}{':' + str(f.line) if f.line else ''}: {f.text}"
    for rule, why in not_checked(report.log).items():
        yield ""
        yield f"{rule} {why}"
    if summary.by_rule:
        yield ""
        yield "violations by rule: " + ", ".join(f"{k} {n}" for k, n in sorted(summary.by_rule.items()))


def _details(e: EpisodeReport) -> list[str]:
    """An episode's violations and obligations in the text report (none when it has neither)."""
    if not e.violations and not e.obligations:
        return []
    lines = ["", click.style(e.episode, bold=True) + (f"  patient {e.patient}" if e.patient is not None else "")]
    for v in e.violations:
        sev = click.style(f"{v.severity:<7}", fg=_COLOURS.get(v.severity))
        lines.append(f"  {sev} {v.rule:<9} due {short_time(v.due):<16} actual {short_time(v.actual):<16} {v.text}")
        lines += [f"{'':<20}message {where(place)}" for place in v.messages]
    lines += [f"  {'must':<7} {o.rule:<9} {o.text}" for o in e.obligations]
    return lines


def to_junit(report: ReplayReport, fail_on: FailOn = FailOn.ERROR) -> str:
    """One testcase per episode, and one for the inputs when they have findings; violations and findings that
    fail under `fail_on` are failures (as they make the exit code 1), the rest goes to system-out."""
    return "".join(junit_chunks(report, fail_on))


def junit_chunks(report: ReplayReport, fail_on: FailOn = FailOn.ERROR) -> Iterator[str]:
    """`to_junit` in pieces, holding no episode's case (the command writes a log's of any size)."""
    return junit_xml_chunks("medcom replay", _junit_cases(report, fail_on), {"policy": report.policy})


def _junit_cases(report: ReplayReport, fail_on: FailOn) -> Iterator[Case]:
    if report.findings:
        failing = [f for f in report.findings if fail_on.fails(f.severity)]
        yield Case("inputs", "medcom.replay.inputs", [_finding_line(f) for f in failing],
                   failing[0].rule if failing else "", [f.rule for f in failing],
                   [_finding_line(f) for f in report.findings if not fail_on.fails(f.severity)])
    for e in report.entries():
        bad = [v for v in e.violations if fail_on.fails(v.severity)]
        rest = [f"{v.severity} {v.rule}: {v.text}{_places(v)}" for v in e.violations if not fail_on.fails(v.severity)]
        rest += [f"obligation {o.rule}: {o.text}" for o in e.obligations]
        yield Case(e.episode, "medcom.replay", [f"{v.severity} {v.rule} due {v.due} actual {v.actual}: "
                                                f"{v.text}{_places(v)}" for v in bad],
                   bad[0].rule if bad else "", [v.rule for v in bad], rest)


def _places(v: ReportedViolation) -> str:
    """The violation's messages, for a one-line JUnit entry."""
    return ("; messages: " + ", ".join(map(where, v.messages))) if v.messages else ""


def _finding_line(f: Finding) -> str:
    return f"{f.severity} {f.rule} {f.file}{':' + str(f.line) if f.line else ''}: {f.text}"
