"""The replay report: CONTRACT.md's JSON shape, a text summary for people, JUnit for CI servers.

CPR numbers are masked in every string of the report unless `show_cpr` (`report_dict` is the output
boundary every format renders from); `FailOn` decides both the JUnit failures and the exit code.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import click

from medcom.calendar import to_local
from medcom.catalogue import BY_ID, close_matches
from medcom.engine.engine import Episode, Violation
from medcom.findings import Finding
from medcom.gc_tuning import batch_gc
from medcom.identifiers import mask_cpr
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


def report_dict(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> dict[str, object]:
    """The report; with the `policy` replayed under, the summary names the completion-tax rate tables used.
    `policy_name` says which policy that is (the file given with --policy, or the default)."""
    with batch_gc():
        report = _report_dict(result, filters, show_cpr)
    _name_rates(report, policy)
    return {"policy": policy_name, **report}


def _name_rates(report: dict[str, Any], policy: Policy | None) -> None:
    """With the `policy` replayed under, the summary names the completion-tax rate tables used."""
    if policy is not None:
        years = sorted({policy.completion_tax.rates_year(int(day[:4])) for e in report["episodes"]
                        for day in (e.get("completion_tax") or {}).get("counted_dates", [])})
        report["summary"]["completion_tax_rates"] = " and ".join(map(str, years)) + " rates" if years else None


def _report_dict(result: ReplayResult, filters: Filters, show_cpr: bool) -> dict[str, object]:
    episodes = _entries(result, filters, show_cpr)
    return _assemble(result.inputs, episodes, _summary(episodes, result.log),
                     [*result.inputs.findings, *result.findings], show_cpr)


def _entries(result: ReplayResult, filters: Filters, show_cpr: bool) -> list[dict[str, object]]:
    """The report's episode entries, in name order (CPR numbers masked unless `show_cpr`)."""
    names = sorted(set(result.episodes) | set(result.input_violations))
    locations = message_locations(result.inputs)
    entries = [_episode_entry(n, result.episodes.get(n), result.input_violations.get(n, []), filters, show_cpr,
                              n in result.cancelled, locations)
               for n in names if filters.keep_episode(n)]
    return entries if show_cpr else mask_data(entries)


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


def _summary(episodes: Iterable[dict[str, Any]], log: LogFacts | None) -> dict[str, object]:
    count = days = dkk = 0
    by_rule: Counter[str] = Counter()
    for e in episodes:
        count += 1
        days += e["completion_tax_days"]
        dkk += e["completion_tax_dkk"]
        by_rule.update(v["rule"] for v in e["violations"])
    return {"episodes": count, "completion_tax_days": days, "completion_tax_dkk": dkk,
            "violations_by_rule": dict(sorted(by_rule.items())), "not_checked": not_checked(log)}


def _assemble(inp: Counts, episodes: list[dict[str, Any]], summary: dict[str, object], findings: list[Finding],
              show_cpr: bool) -> dict[str, object]:
    """The report's shape (CONTRACT.md), from its parts; `episodes` are masked already."""
    head = {
        "$schema": REPLAY,
        "inputs": {"messages": inp.messages, "accepted": inp.accepted, "rejected": inp.rejected,
                   "duplicates": inp.duplicates},
        "events": {"lines": inp.lines, "accepted": inp.lines - inp.lines_rejected, "rejected": inp.lines_rejected},
    }
    tail = {"summary": summary, "input_findings": [f.as_dict() for f in findings]}
    if not show_cpr:
        head, tail = mask_data(head), mask_data(tail)
    return {**head, "episodes": episodes, **tail}


class Counts(Protocol):
    """What the report counts of the inputs (a ReplayInput, or a partitioned replay's pass over the log)."""

    messages: int
    rejected: int
    duplicates: int
    lines: int
    lines_rejected: int

    @property
    def accepted(self) -> int: ...


# --- a log replayed in partitions (medcom.replay.partition) ------------------------------------------------------


@dataclass(frozen=True)
class EpisodeEntries:
    """What a partition's replay gives the report: its episode entries in name order, and the input findings of
    its messages that belong to no episode (a picklable callable, run where the partition runs)."""

    filters: Filters = Filters()
    show_cpr: bool = False

    def __call__(self, result: ReplayResult) -> tuple[list[dict[str, object]], PartitionSummary]:
        """The entries, and the partition's summary: its findings that belong to no episode, and
        `episode_matches` of the --episode values."""
        return (_entries(result, self.filters, self.show_cpr),
                PartitionSummary(result.findings, episode_matches(result, self.filters.episodes)))


class PartitionSummary(NamedTuple):
    """What a partition's replay tells the whole report beside its episode entries."""

    findings: list[Finding]  # input findings of its messages that belong to no episode
    episode_matches: dict[str, list[str] | None]  # --episode value -> None (found) or the close names


class StreamedEpisodes(list):
    """The episode entries of a partitioned replay, read from its files in name order each time they are iterated
    (the report is written without holding them all). A list, so that the report keeps its shape."""

    def __init__(self, run: PartitionedReplay) -> None:
        super().__init__()
        self._run = run
        self._count: int | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        previous = None
        for entry in self._run.merged_items(key=lambda e: e["episode"]):
            if entry["episode"] == previous:  # every episode lives in one partition (medcom.replay.partition)
                raise RuntimeError(f"partitioned replay: episode {previous!r} came from two partitions")
            previous = entry["episode"]
            yield entry

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StreamedEpisodes({len(self)} episodes)"


def partitioned_report(run: PartitionedReplay, filters: Filters = Filters(), show_cpr: bool = False,
                       policy: Policy | None = None, policy_name: str = DEFAULT_POLICY) -> dict[str, object]:
    """The report of a partitioned replay (built with `EpisodeEntries(filters, show_cpr)`): the same as
    `report_dict` of the whole log's replay, with the episodes streamed from disk."""
    episodes = StreamedEpisodes(run)
    summary = _summary(episodes, run.log)
    episodes._count = summary["episodes"]  # type: ignore[assignment]
    found = [f for part in run.summaries if part is not None for f in part.findings]
    report = _assemble(run, episodes, summary, [*run.findings, *found], show_cpr)
    _name_rates(report, policy)
    return {"policy": policy_name, **report}


def has_errors(report: dict[str, object], fail_on: FailOn = FailOn.ERROR) -> bool:
    """Whether the run fails (exit 1) under `fail_on`: an input finding or a violation of that severity."""
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
