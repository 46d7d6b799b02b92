"""The counterpart's report (medcom.counterpart.session.report) as text, JSON, JUnit and HTML.

JUnit has one test case per flow step: a step of the system under test (SUT) fails when its message never came,
was rejected, or broke a rule; a step medcom played fails when the SUT broke a rule about it (no receipt). Each
failure line names the rule, the deadline and the message. Violations by medcom's own side (a flow that breaks a
rule on purpose) are output, not failures: the run judges the SUT.

A run in which medcom's own clock fell behind by more than its half of the grace where a verdict depended on it
(`clock.trusted` false) judges nothing about the SUT's timing: every format says so first, with the moments and
the remedy; the violations and missing steps are listed as not judged (in JUnit: output, not failures, and one
test case with an <error>, a tool-side problem), and the command exits 2. A message's findings (what it says, not
when it came) still fail it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html import escape
from typing import Any

from lxml import etree

from medcom.reports.html_page import page
from medcom.reports.junit import Case
from medcom.reports.junit import to_junit as junit_xml
from medcom.reports.schemas import COUNTERPART

NOT_JUDGED = "not judged: medcom's clock fell behind"


def _failing(report: dict[str, Any]) -> set[str]:
    return {"error", "warning"} if report.get("fail_on") == "warning" else {"error"}


def _judged(report: dict[str, Any]) -> bool:
    """Whether the run's timing verdicts are ones on the SUT (reports before `clock` existed were)."""
    return bool(report.get("clock", {}).get("trusted", True))


def clock_lines(report: dict[str, Any]) -> list[str]:
    """What medcom's falling behind means for the run, and each moment it did (empty when it kept up)."""
    clock = report.get("clock", {})
    if clock.get("trusted", True):
        return []
    worst = max(late["behind"] for late in clock["late"]) if clock["late"] else clock["behind_max"]
    lines = [f"medcom's own clock fell behind the wall clock by up to {worst:.1f} s, more than its half of the grace "
             f"of {clock['grace']:g} s, where a verdict depended on it: a problem on medcom's side (a loaded "
             "machine), not the system under test's. Its violations and missing steps are not judged; the run "
             "exits 2."]
    lines += [f"{late['what']} {_time(late['at'])}, {late['behind']:.1f} s behind: {late['text']}"
              for late in clock["late"]]
    if clock["late_not_listed"]:
        lines.append(f"... and {clock['late_not_listed']} more such moments")
    lines.append(f"remedy: {clock['remedy']}")
    return lines


def verdict_text(report: dict[str, Any]) -> str:
    if not _judged(report):
        return "NOT JUDGED (medcom's clock fell behind)"
    return "BROKE the agreement" if report["sut_failed"] else "passed"


def _time(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "-"


def violation_line(v: dict[str, Any]) -> str:
    due = f"; deadline {_time(v.get('due'))}" if v.get("due") else ""
    actual = f"; came {_time(v.get('actual'))}" if v.get("actual") else ""
    ids = f"; message {', '.join(v['message_ids'])}" if v.get("message_ids") else ""
    return f"{v['rule']} {v['severity']} ({v['party']}): {v['text']}{due}{actual}{ids}"


def _finding_line(f: dict[str, Any]) -> str:
    line = f" line {f['line']}" if f.get("line") else ""
    return f"{f['rule']} {f['severity']}: {f['file']}{line}: {f['text']}"


def text_lines(report: dict[str, Any]) -> Iterator[str]:
    m = report["messages"]
    yield f"flow {report['flow']}: medcom played the {report['play']}, the system under test the {report['sut']}"
    yield (f"clock: {_time(report['start'])} to {_time(report['end'])} at speed {report['speed']:g}"
           + (f"; interrupted at {_time(report['reached'])}" if report["interrupted"] else ""))
    yield f"{report['transport']}; log {report['log']}"
    yield (f"messages: {m['sent']} sent, {m['received']} received, {m['rejected']} rejected, "
           f"{m['refused']} refused (queue full)")
    if not report["receipts_judged"]:
        yield "M-RECEIPT not judged: the log holds no receipt at all (as replay judges such a log)"
    clock = clock_lines(report)
    if clock:
        yield ""
        yield f"CLOCK BEHIND: {clock[0]}"
        yield from (f"    {line}" for line in clock[1:])
    note = "" if _judged(report) else f" ({NOT_JUDGED})"
    yield ""
    yield f"{'step':32} {'by':7} {'status':12} {'at':17} message"
    for s in report["steps"]:
        missing = note if s["by"] == "sut" and s["status"] == "missing" else ""
        yield f"{s['name'][:32]:32} {s['by']:7} {s['status']:12} {_time(s['at']):17} {s['message_id'] or ''}{missing}"
        for f in s["findings"]:
            yield f"    {_finding_line(f)}"
        for v in s["violations"]:
            yield f"    {violation_line(v)}{note}"
    loose = [v for v in report["violations"] if not v.get("step")]
    if loose:
        yield ""
        yield "violations outside the flow's steps:"
        yield from (f"    {violation_line(v)}{note}" for v in loose)
    if report["obligations"]:
        yield ""
        yield "obligations (to check by hand):"
        yield from (f"    {o['rule']}: {o['text']}" for o in report["obligations"])
    if report["findings"]:
        yield ""
        yield "findings:"
        yield from (f"    {_finding_line(f)}" for f in report["findings"])
    yield ""
    yield ("verdict: NOT JUDGED: medcom's clock fell behind (see CLOCK BEHIND above); exit 2" if not _judged(report)
           else "verdict: the system under test " + verdict_text(report))


def to_json(report: dict[str, Any]) -> str:
    """The verdict as JSON, naming its schema (medcom/schemas/reports/counterpart.schema.json)."""
    return json.dumps({"$schema": COUNTERPART, **report}, indent=2, ensure_ascii=False)


def to_junit(report: dict[str, Any]) -> str:
    failing = _failing(report)
    sut = report["sut"]
    judged = _judged(report)  # if not, the SUT's timing is not failed on: one <error> says why
    note = "" if judged else f" ({NOT_JUDGED})"
    cases = []
    for s in report["steps"]:
        case = Case(s["name"], f"counterpart.{report['flow']}.{s['by']}")
        case.output.append(f"{s['event']} by {s['party']} ({s['by']}): {s['status']}"
                           + (f", message {s['message_id']} at {_time(s['at'])}" if s["message_id"] else ""))
        if s["by"] == "sut" and s["status"] == "missing":
            missing = f"FLOW: the system under test never sent {s['event']} for step {s['name']}"
            if judged:
                case.failures.append(missing)
                case.failure_rules.append("FLOW")
            else:
                case.output.append(missing + note)
        for f in s["findings"]:
            (case.failures if f["severity"] in failing else case.output).append(_finding_line(f))
            if f["severity"] in failing:
                case.failure_rules.append(f["rule"])
        for v in s["violations"]:
            fails = judged and v["party"] == sut and v["severity"] in failing
            (case.failures if fails else case.output).append(violation_line(v) + ("" if fails else note))
            if fails:
                case.failure_rules.append(v["rule"])
        case.failure_type = case.failure_rules[0] if case.failure_rules else ""
        cases.append(case)
    rest = Case("outside the flow's steps", f"counterpart.{report['flow']}")
    for v in report["violations"]:
        if v.get("step"):
            continue
        fails = judged and v["party"] == sut and v["severity"] in failing
        (rest.failures if fails else rest.output).append(violation_line(v) + ("" if fails else note))
        if fails:
            rest.failure_rules.append(v["rule"])
    placed = [f for s in report["steps"] for f in s["findings"]]
    for f in report["findings"]:
        if f in placed:
            continue
        fails = f["severity"] in failing
        (rest.failures if fails else rest.output).append(_finding_line(f))
        if fails:
            rest.failure_rules.append(f["rule"])
    rest.output += [f"{o['rule']} obligation: {o['text']}" for o in report["obligations"]]
    rest.failure_type = rest.failure_rules[0] if rest.failure_rules else ""
    cases.append(rest)
    xml = junit_xml(f"medcom counterpart {report['flow']} (medcom plays the {report['play']})", cases)
    return xml if judged else _with_error(xml, f"counterpart.{report['flow']}", clock_lines(report))


def _with_error(xml: str, classname: str, lines: list[str]) -> str:
    """The report with a first test case "medcom's clock" in <error>: JUnit's tool-side problem (the test could not
    be run as meant), not a <failure> of the system under test."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_blank_text=True))  # pretty-printed anew
    suite = root.find("testsuite")
    assert suite is not None
    case = etree.Element("testcase", classname=classname, name="medcom's clock")
    error = etree.SubElement(case, "error", type="CLOCK", message=lines[0])
    error.text = "\n".join(lines)
    suite.insert(len(suite.findall("properties")), case)
    for element in (root, suite):
        element.set("tests", str(int(element.get("tests", "0")) + 1))
        element.set("errors", str(int(element.get("errors", "0")) + 1))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def to_html(report: dict[str, Any]) -> str:
    """One self-contained page (medcom.reports.html_page): the verdict, the steps with what went wrong in each."""
    sut = report["sut"]
    failing = _failing(report)
    m = report["messages"]
    judged = _judged(report)
    verdict = verdict_text(report)
    cards = "".join(f'<div class="card"><b>{escape(str(v))}</b>{escape(k)}</div>' for k, v in (
        ("the SUT", verdict), ("sent", m["sent"]), ("received", m["received"]), ("rejected", m["rejected"]),
        ("refused", m["refused"])))
    rows = []
    for s in report["steps"]:
        problems = [(f["severity"], _finding_line(f)) for f in s["findings"]] + \
            [(v["severity"] if v["party"] == sut and judged else "info",
              violation_line(v) + ("" if judged else f" ({NOT_JUDGED})")) for v in s["violations"]]
        items = "".join(f'<div class="sev-{escape(sev)}">{escape(text)}</div>' for sev, text in problems)
        failed = (judged and s["by"] == "sut" and s["status"] == "missing") \
            or any(sev in failing for sev, _ in problems)
        rows.append(f'<tr><td>{escape(s["name"])}</td><td>{escape(s["by"])}</td>'
                    f'<td class="{"sev-error" if failed else ""}">{escape(s["status"])}</td>'
                    f'<td>{escape(_time(s["at"]))}</td><td>{escape(s["message_id"] or "")}</td><td>{items}</td></tr>')
    loose = [v for v in report["violations"] if not v.get("step")]
    extra = "".join(f'<li class="sev-{escape(v["severity"] if judged else "info")}">'
                    f'{escape(violation_line(v) + ("" if judged else f" ({NOT_JUDGED})"))}</li>' for v in loose)
    extra += "".join(f'<li class="sev-info">{escape(o["rule"])} obligation: {escape(o["text"])}</li>'
                     for o in report["obligations"])
    extra += "".join(f'<li class="sev-{escape(f["severity"])}">{escape(_finding_line(f))}</li>'
                     for f in report["findings"])
    body = (f'<h1>medcom counterpart: {escape(report["flow"])}</h1>'
            f'<p class="muted">medcom played the {escape(report["play"])}, the system under test the {escape(sut)}; '
            f'{escape(_time(report["start"]))} to {escape(_time(report["end"]))} at speed {report["speed"]:g}'
            f'{"; interrupted" if report["interrupted"] else ""}. {escape(report["transport"])}; '
            f'log {escape(report["log"])}.</p><div class="cards">{cards}</div>{_clock_html(report)}<h2>Steps</h2>'
            '<table><tr><th>step</th><th>by</th><th>status</th><th>at</th><th>message</th><th>what went wrong'
            f'</th></tr>{"".join(rows)}</table>'
            + (f"<h2>Outside the steps, obligations, findings</h2><ul>{extra}</ul>" if extra else ""))
    return page(f"medcom counterpart {report['flow']}", body)


def _clock_html(report: dict[str, Any]) -> str:
    lines = clock_lines(report)
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines[1:])
    return f'<h2>medcom\'s clock fell behind</h2><p class="sev-error">{escape(lines[0])}</p><ul>{items}</ul>'
