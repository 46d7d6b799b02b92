"""The replay report: CONTRACT.md's JSON shape, a text summary for people, JUnit for CI servers.

Every replay, in memory or in partitions, gives its report the same way: each partition's replay emits typed
`EpisodeEntry` records (in the partition's worker) and a `ReplaySummary` of them; the summaries are joined once,
and every format renders from the `ReplayReport` (its entries read back from disk, in name order, as each format
writes). CPR numbers are masked in every string of the report unless `show_cpr` (masked as the entries are made);
`FailOn` decides both the JUnit failures and the exit code.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple, Protocol

import click

from medcom.calendar import to_local
from medcom.catalogue import BY_ID, close_matches
from medcom.engine.engine import Episode, Violation
from medcom.findings import Finding
from medcom.gc_tuning import batch_gc
from medcom.identifiers import mask_cpr, municipality_name
from medcom.policy import Policy
from medcom.replay import LogFacts, ReplayInput, ReplayResult
from medcom.replay.partition import PartitionedReplay
from medcom.reports.formatting import number, plural
from medcom.reports.junit import Case, FailOn
from medcom.reports.junit import to_junit as junit_xml
from medcom.reports.masking import mask_data
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


def _state(ep: Episode | None, cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    if ep is not None and ep.last("deceased") is not None:
        return "deceased"
    if ep is not None and ep.last("discharged") is not None:
        return "discharged"
    return "open"


Locations = Mapping[str, list[dict[str, object]]]


def message_locations(inp: ReplayInput) -> Locations:
    """Where each message id of the inputs was read: file (with the path through its wrappers, and which letter
    of an Emessage), line (the letter's or Bundle's, or the timeline's line), one per copy (a duplicate or
    resend names both). The report points every violation at its messages with it."""
    where: dict[str, list[dict[str, object]]] = defaultdict(list)
    for event in (*(e for u in inp.units for e in u.events.events), *inp.sidecar_messages, *inp.facts):
        ident = event.id
        if ident and event.source:
            place = {"file": event.source, "line": event.line}
            if place not in where[ident]:
                where[ident].append(place)
    return where


def _violation_dict(v: Violation, locations: Locations) -> dict[str, object]:
    """A violation with its messages: id, file and line of each (the file is None for a message the log lacks)."""
    entry = v.as_dict()
    entry["messages"] = [{"id": i, **place} for i in v.message_ids
                         for place in (locations.get(i) or [{"file": None, "line": None}])]
    return entry


def _episode_entry(name: str, ep: Episode | None, extra: list[Violation], filters: Filters,
                   show_cpr: bool, cancelled: bool = False, locations: Locations | None = None) -> dict[str, object]:
    if cancelled:
        extra = []
    tax = ep.tax if ep else None
    until = ep.responsibility_until if ep else None
    violations = sorted((v for v in [*(ep.violations if ep else []), *extra] if filters.keep(v)),
                        key=lambda v: v.actual or v.due or _LAST)  # in time order; undated ones last
    admitted = ep.first("admitted") if ep else None
    cpr = admitted.data.get("cpr") if admitted else None
    discharged = ep.last("discharged") if ep else None
    entry: dict[str, object] = {
        "episode": name,
        "admitted": _iso(ep.last("admitted").at) if ep and ep.last("admitted") else None,
        "discharged": _iso(discharged.at) if discharged else None,
        "state": _state(ep, cancelled),
        "sources": sorted({_SOURCE.get(e.origin, e.origin) for e in ep.events}) if ep else [],
        "completion_tax_days": tax.days if tax else 0,
        "completion_tax_dkk": tax.dkk if tax else 0,
        "disputable_days": tax.disputable_days if tax else 0,
        "extended_responsibility": {"applies": until is not None,
                                    "until": to_local(until).isoformat() if until else None,
                                    "reason": None if until is not None else _r72_reason(ep, discharged)},
        "violations": [_violation_dict(v, locations or {}) for v in violations],
        "obligations": [o.as_dict() for o in (ep.obligations if ep else []) if not filters.rules
                        or o.rule in filters.rules],
    }
    if cpr:
        entry["patient"] = cpr if show_cpr else mask_cpr(str(cpr))
    if tax:
        entry["completion_tax"] = {"start": to_local(tax.start).isoformat(), "counted_dates": list(tax.counted_dates),
                                   "disputable_reason": tax.disputable_reason, "notes": list(tax.notes)}
    if ep and ep.inquiries:
        entry["inquiries"] = ep.inquiries
    return entry


def _r72_reason(ep: Episode | None, discharged: object) -> str:
    """Why the 72-hour responsibility does not apply to an episode (the rule's reason, R72-1)."""
    if ep is None or discharged is None:
        return "not discharged"
    return ep.responsibility_reason or "does not apply"


DEFAULT_POLICY = "the shipped default (Region Nordjylland 2024)"


@dataclass(frozen=True, slots=True)
class EpisodeEntry:
    """One episode of the report, as the replay of its partition emits it: its shape in the JSON report
    (CONTRACT.md; CPR numbers masked unless --show-cpr), and for the HTML page its municipality and, for the first
    `MAX_DRAWINGS` episodes of a partition, what its timeline draws."""

    name: str
    data: dict[str, Any]
    municipality: str = "-"  # 'code name' of the admission's municipality ('-': none)
    drawing: Episode | None = None  # the episode's events, tax and 72-hour window (only when drawn)


MAX_DRAWINGS = 500  # timelines an HTML page draws (replay_html.MAX_TIMELINES): the first, in name order


@dataclass
class ReplaySummary:
    """The report's summary, accumulated in one pass over the episode entries (each partition's, then joined):
    no format reads the episodes again to count them."""

    episodes: int = 0
    completion_tax_days: int = 0
    completion_tax_dkk: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    tax_years: set[int] = field(default_factory=set)  # of the counted tax dates (which rate tables were used)
    severities: set[str] = field(default_factory=set)  # of the violations (whether the run fails)
    rules: set[str] = field(default_factory=set)  # of the violations and obligations (the HTML page's filter)

    def add(self, entry: Mapping[str, Any]) -> None:
        self.episodes += 1
        self.completion_tax_days += entry["completion_tax_days"]
        self.completion_tax_dkk += entry["completion_tax_dkk"]
        violations = entry["violations"]
        self.by_rule.update(v["rule"] for v in violations)
        self.severities.update(v["severity"] for v in violations)
        self.rules.update(v["rule"] for v in violations)
        self.rules.update(o["rule"] for o in entry["obligations"])
        self.tax_years.update(int(day[:4]) for day in (entry.get("completion_tax") or {}).get("counted_dates", []))

    def join(self, other: ReplaySummary) -> ReplaySummary:
        """The summary of two parts' episodes together."""
        return ReplaySummary(self.episodes + other.episodes, self.completion_tax_days + other.completion_tax_days,
                             self.completion_tax_dkk + other.completion_tax_dkk, self.by_rule + other.by_rule,
                             self.tax_years | other.tax_years, self.severities | other.severities,
                             self.rules | other.rules)

    @classmethod
    def of(cls, entries: Iterable[EpisodeEntry]) -> ReplaySummary:
        summary = cls()
        for entry in entries:
            summary.add(entry.data)
        return summary

    def as_dict(self, log: LogFacts | None, policy: Policy | None) -> dict[str, object]:
        """The report's "summary"; with the `policy` replayed under, it names the completion-tax rate tables
        used."""
        out: dict[str, object] = {
            "episodes": self.episodes, "completion_tax_days": self.completion_tax_days,
            "completion_tax_dkk": self.completion_tax_dkk, "violations_by_rule": dict(sorted(self.by_rule.items())),
            "not_checked": not_checked(log)}
        if policy is not None:
            years = sorted({policy.completion_tax.rates_year(year) for year in self.tax_years})
            out["completion_tax_rates"] = " and ".join(map(str, years)) + " rates" if years else None
        return out


def _entries(result: ReplayResult, filters: Filters, show_cpr: bool, drawings: int = 0) -> list[EpisodeEntry]:
    """The report's episode entries, in name order (CPR numbers masked unless `show_cpr`); the first `drawings`
    carry what their timelines draw."""
    names = sorted(set(result.episodes) | set(result.input_violations))
    locations = message_locations(result.inputs)
    entries: list[EpisodeEntry] = []
    for name in names:
        if not filters.keep_episode(name):
            continue
        ep = result.episodes.get(name)
        data = _episode_entry(name, ep, result.input_violations.get(name, []), filters, show_cpr,
                              name in result.cancelled, locations)
        if drawings:
            entries.append(EpisodeEntry(name, data if show_cpr else mask_data(data), _municipality(ep),
                                        _drawing(ep) if len(entries) < drawings else None))
        else:
            entries.append(EpisodeEntry(name, data if show_cpr else mask_data(data)))
    return entries


def _municipality(ep: Episode | None) -> str:
    """'code name' of the municipality the admission names ('-' when none does)."""
    admitted = ep.first("admitted") if ep is not None else None
    code = str(admitted.data.get("municipality") or "") if admitted is not None else ""
    return f"{code} {municipality_name(code) or ''}".strip() if code else "-"


def _drawing(ep: Episode | None) -> Episode | None:
    """What an episode's timeline draws: its events, tax and 72-hour window (not its rules' state)."""
    if ep is None:
        return None
    drawn = Episode(ep.name, tax=ep.tax, responsibility_until=ep.responsibility_until)
    for event in ep.events:
        drawn.add(event)
    return drawn


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


# --- the pipeline's report: a replay's episode entries (in memory, or streamed from a partitioned run) ----------


@dataclass(frozen=True)
class EpisodeEntries:
    """What a partition's replay gives the report: its episode entries in name order, and its summary (a
    picklable callable, run where the partition runs). `drawings`: the entries to draw timelines for (HTML)."""

    filters: Filters = Filters()
    show_cpr: bool = False
    drawings: int = 0

    def __call__(self, result: ReplayResult) -> tuple[list[EpisodeEntry], PartitionSummary]:
        """The entries, and the partition's summary: the summary of its entries, its findings that belong to no
        episode, and `episode_matches` of the --episode values."""
        entries = _entries(result, self.filters, self.show_cpr, self.drawings)
        return entries, PartitionSummary(ReplaySummary.of(entries), result.findings,
                                         episode_matches(result, self.filters.episodes))


class PartitionSummary(NamedTuple):
    """What a partition's replay tells the whole report beside its episode entries."""

    summary: ReplaySummary  # of its entries
    findings: list[Finding]  # input findings of its messages that belong to no episode
    episode_matches: dict[str, list[str] | None]  # --episode value -> None (found) or the close names


class StreamedEpisodes(list):  # type: ignore[type-arg]
    """The episodes of a report read anew from its entries each time they are iterated (a partitioned run's are
    on disk: the report is written without holding them all). A list, so that the JSON encoder streams it."""

    def __init__(self, entries: Callable[[], Iterator[EpisodeEntry]], count: int) -> None:
        super().__init__()
        self._entries, self._count = entries, count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (entry.data for entry in self._entries())

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StreamedEpisodes({len(self)} episodes)"


@dataclass
class ReplayReport:
    """A replay's report, whichever way it ran: counts of the inputs, the summary (accumulated once), the input
    findings, and the episode entries (read anew by `entries()`). Every format renders from it."""

    policy: str
    counts: Counts
    summary: ReplaySummary
    log: LogFacts | None
    findings: list[Finding]
    show_cpr: bool
    read_entries: Callable[[], Iterator[EpisodeEntry]]
    rates: Policy | None = None  # the policy replayed under: the summary names its rate tables

    def entries(self) -> Iterator[EpisodeEntry]:
        return self.read_entries()

    def fails(self, fail_on: FailOn = FailOn.ERROR) -> bool:
        """Whether the run fails (exit 1) under `fail_on`: an input finding or a violation of that severity."""
        return any(fail_on.fails(str(f.severity)) for f in self.findings) or any(
            fail_on.fails(s) for s in self.summary.severities)

    def as_dict(self) -> dict[str, object]:
        """CONTRACT.md's JSON shape; its episodes are read from the entries as the report is encoded."""
        inp = self.counts
        head: dict[str, object] = {
            "$schema": REPLAY,
            "inputs": {"messages": inp.messages, "accepted": inp.accepted, "rejected": inp.rejected,
                       "duplicates": inp.duplicates},
            "events": {"lines": inp.lines, "accepted": inp.lines - inp.lines_rejected,
                       "rejected": inp.lines_rejected},
        }
        tail: dict[str, object] = {"summary": self.summary.as_dict(self.log, self.rates),
                                   "input_findings": [f.as_dict() for f in self.findings]}
        if not self.show_cpr:
            head, tail = mask_data(head), mask_data(tail)
        return {"policy": self.policy, **head, "episodes": StreamedEpisodes(self.read_entries, self.summary.episodes),
                **tail}


def whole_report(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                 policy: Policy | None = None, policy_name: str = DEFAULT_POLICY, drawings: int = 0) -> ReplayReport:
    """The report of a replay made in memory: the pipeline's report of one partition."""
    with batch_gc():
        entries, part = EpisodeEntries(filters, show_cpr, drawings)(result)
    return ReplayReport(policy_name, result.inputs, part.summary, result.log,
                        [*result.inputs.findings, *part.findings], show_cpr, lambda: iter(entries), policy)


def report_dict(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> dict[str, object]:
    """The JSON report of a replay made in memory (`whole_report` as CONTRACT.md's shape, its episodes a list)."""
    report = whole_report(result, filters, show_cpr, policy, policy_name)
    out = report.as_dict()
    out["episodes"] = [e.data for e in report.entries()]
    return out


def partitioned_report(run: PartitionedReplay[EpisodeEntry, PartitionSummary], show_cpr: bool = False,
                       policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> ReplayReport:
    """The report of a partitioned replay (its partitions built with `EpisodeEntries`): the same as
    `whole_report` of the whole log's replay, with the entries streamed from disk."""
    summary = ReplaySummary()
    found: list[Finding] = [*run.findings]
    for part in run.summaries:
        summary = summary.join(part.summary)
        found += part.findings
    return ReplayReport(policy_name, run, summary, run.log, found, show_cpr, partial(_merged, run), policy)


def _merged(run: PartitionedReplay[EpisodeEntry, PartitionSummary]) -> Iterator[EpisodeEntry]:
    previous = None
    for entry in run.merged_items(key=_name):
        if entry.name == previous:  # every episode lives in one partition (medcom.replay.partition)
            raise RuntimeError(f"partitioned replay: episode {previous!r} came from two partitions")
        previous = entry.name
        yield entry


def _name(entry: EpisodeEntry) -> str:
    return entry.name


def has_errors(report: dict[str, object], fail_on: FailOn = FailOn.ERROR) -> bool:
    """Whether a JSON report (a dict as `report_dict` makes it) fails under `fail_on`: an input finding or a
    violation of that severity."""
    return any(fail_on.fails(f["severity"]) for f in report["input_findings"]) or any(  # type: ignore[index,union-attr]
        fail_on.fails(v["severity"]) for e in report["episodes"] for v in e["violations"])  # type: ignore[union-attr]


def to_json(report: dict[str, object]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}


def short_time(iso: str | None) -> str:
    """An ISO time from a report as "YYYY-MM-DD HH:MM" for people ("-" when there is none)."""
    return iso[:16].replace("T", " ") if iso else "-"


def where(place: Mapping[str, Any]) -> str:
    """A message's place for people: "E2-CP in log/E2-0006-care_plan_sent.xml line 10" (the file names the path
    through its wrappers, "inbox.xml > SBDH BinaryContent > VANS Data", whose innermost document the line counts)."""
    if place.get("file") is None:
        return f"{place['id']} (not in the log)"
    line = f" line {place['line']}" if place.get("line") else ""
    return f"{place['id']} in {place['file']}{line}"


def text_lines(report: dict[str, Any]) -> Iterator[str]:
    """The text report line by line."""
    inputs, summary = report["inputs"], report["summary"]
    rates = f" ({summary['completion_tax_rates']})" if summary.get("completion_tax_rates") else ""
    yield f"policy: {report['policy']}" if "policy" in report else "policy: -"
    lines = [f"inputs: {plural(inputs['messages'], 'message')}, {inputs['accepted']} accepted, "
             f"{inputs['rejected']} rejected, {plural(inputs['duplicates'], 'duplicate')}",
             f"{plural(summary['episodes'], 'episode')}, completion tax {plural(summary['completion_tax_days'], 'day')}"
             f" = {number(summary['completion_tax_dkk'])} DKK{rates}", ""]
    yield from lines
    yield (f"{'episode':<34} {'admitted':<16} {'discharged':<16} {'state':<10} {'tax days':>8} {'DKK':>9} "
           f"{'disputable':>10} {'72 h until':<17} violations")
    for e in report["episodes"]:
        until = e["extended_responsibility"]["until"]
        yield (f"{e['episode']:<34} {short_time(e['admitted']):<16} {short_time(e['discharged']):<16} "
               f"{e['state']:<10} {e['completion_tax_days']:>8} {e['completion_tax_dkk']:>9} "
               f"{e['disputable_days']:>10} {short_time(until) if until else '-':<17} {len(e['violations'])}")
    for e in report["episodes"]:
        if not e["violations"] and not e["obligations"]:
            continue
        yield ""
        yield click.style(f"{e['episode']}", bold=True) + (f"  patient {e['patient']}" if "patient" in e else "")
        for v in e["violations"]:
            sev = click.style(f"{v['severity']:<7}", fg=_COLOURS.get(v["severity"]))
            yield (f"  {sev} {v['rule']:<9} due {short_time(v['due']):<16} actual {short_time(v['actual']):<16} "
                   f"{v['text']}")
            for place in v.get("messages", []):
                yield f"{'':<20}message {where(place)}"
        for o in e["obligations"]:
            yield f"  {'must':<7} {o['rule']:<9} {o['text']}"
    if report["input_findings"]:
        yield ""
        yield "input findings:"
        for f in report["input_findings"]:
            yield (f"  {f['severity']:<7} {f['rule']:<9} {f['file']}"
                   f"{':' + str(f['line']) if f['line'] else ''}: {f['text']}")
    for rule, why in summary.get("not_checked", {}).items():
        yield ""
        yield f"{rule} {why}"
    by_rule = summary["violations_by_rule"]
    if by_rule:
        yield ""
        yield "violations by rule: " + ", ".join(f"{k} {n}" for k, n in by_rule.items())


def to_junit(report: dict[str, object], fail_on: FailOn = FailOn.ERROR) -> str:
    """One testcase per episode, and one for the inputs when they have findings; violations and findings that
    fail under `fail_on` are failures (as they make the exit code 1), the rest goes to system-out."""
    cases = []
    findings = report["input_findings"]
    if findings:
        failing = [f for f in findings if fail_on.fails(f["severity"])]  # type: ignore[union-attr,index]
        cases.append(Case("inputs", "medcom.replay.inputs", [_finding_line(f) for f in failing],
                          failing[0]["rule"] if failing else "", [f["rule"] for f in failing],
                          [_finding_line(f) for f in findings if f not in failing]))  # type: ignore[union-attr]
    for e in report["episodes"]:  # type: ignore[union-attr]
        bad = [v for v in e["violations"] if fail_on.fails(v["severity"])]
        rest = [f"{v['severity']} {v['rule']}: {v['text']}{_places(v)}" for v in e["violations"] if v not in bad]
        rest += [f"obligation {o['rule']}: {o['text']}" for o in e["obligations"]]
        cases.append(Case(e["episode"], "medcom.replay", [f"{v['severity']} {v['rule']} due {v['due']} actual "
                                                          f"{v['actual']}: {v['text']}{_places(v)}" for v in bad],
                          bad[0]["rule"] if bad else "", [v["rule"] for v in bad], rest))
    return junit_xml("medcom replay", cases, {"policy": str(report.get("policy", ""))})


def _places(v: Mapping[str, Any]) -> str:
    """The violation's messages, for a one-line JUnit entry."""
    places = v.get("messages") or []
    return ("; messages: " + ", ".join(map(where, places))) if places else ""


def _finding_line(f: dict) -> str:
    return f"{f['severity']} {f['rule']} {f['file']}{':' + str(f['line']) if f['line'] else ''}: {f['text']}"
