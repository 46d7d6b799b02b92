"""The replay report: CONTRACT.md's JSON shape, a text summary for people, JUnit for CI servers.

CPR numbers are masked in every string of the report unless `show_cpr` (`report_dict` is the output
boundary every format renders from); `FailOn` decides both the JUnit failures and the exit code.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import click

from medcom.calendar import to_local
from medcom.engine.engine import Episode, Violation
from medcom.gc_tuning import batch_gc
from medcom.identifiers import mask_cpr
from medcom.policy import Policy
from medcom.replay import ReplayResult
from medcom.reports.formatting import number, plural
from medcom.reports.junit import Case, FailOn
from medcom.reports.junit import to_junit as junit_xml
from medcom.reports.masking import mask_data

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


def _episode_entry(name: str, ep: Episode | None, extra: list[Violation], filters: Filters,
                   show_cpr: bool, cancelled: bool = False) -> dict[str, object]:
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
        "violations": [v.as_dict() for v in violations],
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


def report_dict(result: ReplayResult, filters: Filters = Filters(), show_cpr: bool = False,
                policy: Policy | None = None) -> dict[str, object]:
    """The report; with the `policy` replayed under, the summary names the completion-tax rate tables used."""
    with batch_gc():
        report = _report_dict(result, filters, show_cpr)
    if policy is not None:
        years = sorted({policy.completion_tax.rates_year(int(day[:4])) for e in report["episodes"]
                        for day in (e.get("completion_tax") or {}).get("counted_dates", [])})  # type: ignore[union-attr]
        report["summary"]["completion_tax_rates"] = " and ".join(map(str, years)) + " rates" if years else None  # type: ignore[index]
    return report


def _report_dict(result: ReplayResult, filters: Filters, show_cpr: bool) -> dict[str, object]:
    names = sorted(set(result.episodes) | set(result.input_violations))
    episodes = [_episode_entry(n, result.episodes.get(n), result.input_violations.get(n, []), filters, show_cpr,
                               n in result.cancelled)
                for n in names if filters.keep_episode(n)]
    by_rule = Counter(v["rule"] for e in episodes for v in e["violations"])  # type: ignore[union-attr]
    inp = result.inputs
    report = {
        "inputs": {"messages": inp.messages, "accepted": inp.accepted, "rejected": inp.rejected,
                   "duplicates": inp.duplicates},
        "events": {"lines": inp.lines, "accepted": inp.lines - inp.lines_rejected, "rejected": inp.lines_rejected},
        "episodes": episodes,
        "summary": {"episodes": len(episodes),
                    "completion_tax_days": sum(e["completion_tax_days"] for e in episodes),  # type: ignore[misc]
                    "completion_tax_dkk": sum(e["completion_tax_dkk"] for e in episodes),  # type: ignore[misc]
                    "violations_by_rule": dict(sorted(by_rule.items()))},
        "input_findings": [f.as_dict() for f in result.inputs.findings],
    }
    return report if show_cpr else mask_data(report)


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


def to_text(report: dict[str, object]) -> str:
    inputs, summary = report["inputs"], report["summary"]
    rates = f" ({summary['completion_tax_rates']})" if summary.get("completion_tax_rates") else ""
    lines = [f"inputs: {plural(inputs['messages'], 'message')}, {inputs['accepted']} accepted, "
             f"{inputs['rejected']} rejected, {plural(inputs['duplicates'], 'duplicate')}",
             f"{plural(summary['episodes'], 'episode')}, completion tax {plural(summary['completion_tax_days'], 'day')}"
             f" = {number(summary['completion_tax_dkk'])} DKK{rates}", ""]
    lines.append(f"{'episode':<34} {'tax days':>8} {'DKK':>9} {'disputable':>10} {'72 h until':<17} violations")
    for e in report["episodes"]:
        until = e["extended_responsibility"]["until"]
        lines.append(f"{e['episode']:<34} {e['completion_tax_days']:>8} {e['completion_tax_dkk']:>9} "
                     f"{e['disputable_days']:>10} {short_time(until) if until else '-':<17} {len(e['violations'])}")
    for e in report["episodes"]:
        if not e["violations"] and not e["obligations"]:
            continue
        lines += ["", click.style(f"{e['episode']}", bold=True) + (f"  patient {e['patient']}" if "patient" in e
                                                                    else "")]
        for v in e["violations"]:
            sev = click.style(f"{v['severity']:<7}", fg=_COLOURS.get(v["severity"]))
            lines.append(f"  {sev} {v['rule']:<9} due {short_time(v['due']):<16} actual {short_time(v['actual']):<16} "
                         f"{v['text']}")
        for o in e["obligations"]:
            lines.append(f"  {'must':<7} {o['rule']:<9} {o['text']}")
    if report["input_findings"]:
        lines += ["", "input findings:"]
        for f in report["input_findings"]:
            lines.append(f"  {f['severity']:<7} {f['rule']:<9} {f['file']}"
                         f"{':' + str(f['line']) if f['line'] else ''}: {f['text']}")
    by_rule = summary["violations_by_rule"]
    if by_rule:
        lines += ["", "violations by rule: " + ", ".join(f"{k} {n}" for k, n in by_rule.items())]
    return "\n".join(lines)


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
        rest = [f"{v['severity']} {v['rule']}: {v['text']}" for v in e["violations"] if v not in bad]
        rest += [f"obligation {o['rule']}: {o['text']}" for o in e["obligations"]]
        cases.append(Case(e["episode"], "medcom.replay", [f"{v['severity']} {v['rule']} due {v['due']} actual "
                                                          f"{v['actual']}: {v['text']}" for v in bad],
                          bad[0]["rule"] if bad else "", [v["rule"] for v in bad], rest))
    return junit_xml("medcom replay", cases)


def _finding_line(f: dict) -> str:
    return f"{f['severity']} {f['rule']} {f['file']}{':' + str(f['line']) if f['line'] else ''}: {f['text']}"
