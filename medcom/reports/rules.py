"""The rule catalogue for people and programs: `medcom rules` (text, JSON) and docs/RULES.md (markdown).

Everything comes from `medcom.catalogue`; the values in force are read from the policy object the rules run with,
and an example violation is the catalogue's example timeline replayed under that policy, so what `medcom rules ID`
shows is what `medcom replay` would report.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import fields, is_dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any, cast

from medcom.catalogue import AGREEMENT, MEDCOM_FHIR, MEDCOM_OIOXML, RULES, SUNDHEDSLOVEN, RuleInfo
from medcom.policy import Policy, load_policy
from medcom.replay import ReplayInput, load_timeline, replay
from medcom.reports.replay import report_dict

RULES_SCHEMA_VERSION = "1"


def show_value(value: object) -> str:
    """A policy value as a policy file writes it: a duration as "72h", a clock time as HH:MM, a list, a rate table."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show_value(v)}" for k, v in sorted(value.items()))
    if is_dataclass(value) and not isinstance(value, type) and {f.name for f in fields(value)} == {
            "first_days", "first_rate", "later_rate"}:
        return (f"days 1-{value.first_days} {value.first_rate} DKK a day, then "  # type: ignore[attr-defined]
                f"{value.later_rate} DKK")  # type: ignore[attr-defined]
    return str(value)


def policy_value(policy: Policy, key: str) -> object:
    """The value of a dotted policy key ("care_plan.cutoff") in the policy object the rules read."""
    value: object = policy
    for part in key.split("."):
        value = getattr(value, part)
    return value


def example_findings(info: RuleInfo, policy: Policy) -> list[dict[str, object]]:
    """The violations and obligations of `info`'s rule when its example timeline is replayed under `policy`."""
    if not info.timeline:
        return []
    with tempfile.TemporaryDirectory(prefix="medcom-rule-") as tmp:
        path = Path(tmp) / f"{info.id}.jsonl"
        path.write_text("\n".join(info.timeline) + "\n", encoding="utf-8")
        inputs = ReplayInput()
        load_timeline(path, inputs)
        report = report_dict(replay(inputs, policy), policy=policy)
    found: list[dict[str, object]] = []
    for episode in cast(list[dict[str, Any]], report["episodes"]):
        found += [{"kind": "violation", **v} for v in episode["violations"] if v["rule"] == info.id]
        found += [{"kind": "obligation", **o} for o in episode["obligations"] if o["rule"] == info.id]
    return found


def rule_dict(info: RuleInfo, policy: Policy | None = None, *, example: bool = True) -> dict[str, object]:
    """One rule as JSON: the catalogue's fields, the values in force under `policy`, and the example's findings."""
    policy = policy or load_policy()
    entry: dict[str, object] = {
        "id": info.id, "title": info.title, "severity": list(info.severities), "origin": info.origin,
        "source": info.source, "checks": info.checks, "reading": info.reading or None,
        "policy": {key: show_value(policy_value(policy, key)) for key in info.policy},
        "implementation": info.implementation, "commands": list(info.commands),
    }
    if example:
        entry["example"] = {"text": info.example or None, "timeline": list(info.timeline),
                            "findings": example_findings(info, policy)}
    return entry


def rules_json(rules: tuple[RuleInfo, ...] | list[RuleInfo], policy: Policy | None = None) -> str:
    """The catalogue (or one rule) as one JSON document."""
    policy = policy or load_policy()
    return json.dumps({"schema_version": RULES_SCHEMA_VERSION,
                       "rules": [rule_dict(r, policy, example=len(rules) == 1) for r in rules]},
                      indent=2, ensure_ascii=False)


def reported_by(info: RuleInfo, code: str = "{}") -> str:
    """The commands whose reports can print the rule, or why none does."""
    if info.commands:
        return ", ".join(code.format(f"medcom {c}") for c in info.commands)
    return "none: it computes what other rules and the report read" if not info.severities else \
        "none: see how medcom reads it"


def list_text(rules: tuple[RuleInfo, ...]) -> str:
    """One line a rule: id, severity, where it comes from, title."""
    return "\n".join(f"{r.id:<15} {r.severity:<17} {r.origin:<9} {r.title}" for r in rules) + "\n"


def explain_text(info: RuleInfo, policy: Policy | None = None) -> str:
    """What `medcom rules ID` prints: what the rule checks, its source, the values in force, an example."""
    policy = policy or load_policy()
    lines = [f"{info.id}: {info.title}", "", f"Severity: {info.severity}", f"Source: {info.source}",
             f"Implemented by: {info.implementation}",
             f"Reported by: {reported_by(info)}", "",
             info.checks]
    if info.reading:
        lines += ["", f"How medcom reads it: {info.reading}"]
    if info.policy:
        lines += ["", "Values in force:"]
        lines += [f"  {key} = {show_value(policy_value(policy, key))}" for key in info.policy]
    if info.example:
        lines += ["", f"Example: {info.example}"]
    if info.timeline:
        lines += ["", "Example timeline (medcom replay):"] + [f"  {line}" for line in info.timeline]
        found = example_findings(info, policy)
        lines += ["gives:"] + [f"  {f.get('severity', 'must')} {f['rule']}: {f['text']}" for f in found]
    return "\n".join(lines) + "\n"


_HEADER = f"""# Rules

<!-- Generated from medcom/catalogue.py by `medcom rules --format markdown > docs/RULES.md`; a test fails when this
file is stale. Edit the catalogue, not this file. -->

Every rule id medcom reports, what it checks, where it comes from, how bad it is, the policy values it reads and
the code that implements it. `medcom rules` lists them; `medcom rules ID` explains one, with the values in force
under `--policy FILE` and its example replayed.

Rule ids are a public interface: reports, suppression files, tests and users' CI pipelines key on them. They stay
stable; new ids are added freely, an id is never reused for a different meaning.

## Sources

- **The agreement**: {AGREEMENT}. Section numbers refer to that text; it has two sections numbered 4, written here
  §4A (admission) and §4B (discharge).
- **The completion tax**: {SUNDHEDSLOVEN}, and the agreement's annex 4.
- **MedCom**: {MEDCOM_OIOXML}; {MEDCOM_FHIR}.
- **Added by medcom**: ids this project adds where the sources say nothing checkable (a broken input, a FHIR
  validation step, a policy figure for "real time").

## Reading the agreement

- Every clock time and duration is a policy value (`medcom/policy/default.toml`, overridden by `--policy FILE`),
  with the default shown; "before 14:00" excludes 14:00:00, "at the latest 14:00" includes it (T-4). The end of a
  day is 23:59:59 local.
- Ready time (all rules): a later `ready_for_discharge` of the same episode revises the earlier one. CP-1, FM-1,
  TAX-1..5 and R72-1 all use the episode's last ready time, wherever the revision comes from (a timeline event or
  a message's end-of-treatment field), so the same facts give the same report in every input format. An episode
  with no ready time (an unplanned discharge) has none: nothing is invented from the discharge time.
- A death (HospitalNotification MORS, XDIS17 `doed`) ends the episode without a discharge: the completion-tax
  count ends at the death, no 72-hour window follows, no discharge report is due.
- An obligation is what a rule needs the log cannot show kept or broken (a phone call when the log records none,
  a decision written as free text); the report lists it apart from the violations.
- A rule with severity "none (computes)" reports no finding of its own: it computes a count or a window that the
  report shows (completion-tax days, the 72-hour window) and other rules read.
"""

_SECTIONS = (("T-", "Time and calendar"), ("M-", "Messages"), ("ADM-", "Admission (§4A)"),
             ("CP-", "Care plan (§4B.1-4B.4)"), ("ACK-", "Acknowledgement of the care plan (§4B.5)"),
             ("COR-", "Correspondence (§2.2)"), ("CONF-", "Discharge conference and completion (§4B.6-4B.7)"),
             ("FM-", None), ("TAX-", "Completion tax (annex 4; sundhedsloven § 238)"), ("DIS-", "Discharge (§4B.8)"),
             ("R72-", "72-hour extended responsibility (§5.2)"), ("LEAVE-", "Leave (§7)"),
             ("TERM-", "Terminal patients (§8)"), ("F-", "FHIR validation"))


def _section(info: RuleInfo) -> str:
    if info.origin == "medcom" and info.id.startswith("M-"):
        return "Messages: added by medcom"
    if info.id.startswith("M-"):
        return "Messages (MedCom)"
    for prefix, title in _SECTIONS:
        if info.id.startswith(prefix):
            return title or "Discharge conference and completion (§4B.6-4B.7)"
    return "Other"


def markdown(rules: tuple[RuleInfo, ...] = RULES) -> str:
    """docs/RULES.md: the catalogue under the default policy, each example replayed."""
    policy = load_policy()
    out = [_HEADER]
    section = None
    for info in rules:
        if _section(info) != section:
            section = _section(info)
            out.append(f"\n## {section}\n")
        out.append(f"\n### {info.id}: {info.title}\n")
        facts: list[tuple[str, str]] = [("Severity", info.severity), ("Source", info.source),
                                        ("Implemented by", f"`{info.implementation}`")]
        if info.policy:
            facts.append(("Policy", ", ".join(f"`{k}` = {show_value(policy_value(policy, k))}" for k in info.policy)))
        facts.append(("Reported by", reported_by(info, "`{}`")))
        out.append("\n" + "\n".join(f"- {name}: {value}" for name, value in facts) + "\n")
        out.append(f"\n{info.checks}\n")
        if info.reading:
            out.append(f"\nHow medcom reads it: {info.reading}\n")
        if info.example:
            out.append(f"\nExample: {info.example}\n")
        if info.timeline:
            found = example_findings(info, policy)
            out.append("\nExample timeline:\n\n```jsonl\n" + "\n".join(info.timeline) + "\n```\n\ngives:\n\n```\n"
                       + "\n".join(f"{f.get('severity', 'must')} {f['rule']}: {f['text']}" for f in found) + "\n```\n")
    return "".join(out)


def close_match_text(unknown: str, matches: list[str]) -> str:
    return f"unknown rule id {unknown!r}" + (f"; did you mean {', '.join(matches)}?" if matches else
                                             "; `medcom rules` lists them")
