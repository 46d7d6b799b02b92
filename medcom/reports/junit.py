"""One JUnit XML writer for validate and replay, and the one failure policy shared with the exit code.

`--fail-on error` (the default) fails a test case, and the run, on error findings or violations;
`--fail-on warning` on warnings too. Whatever is not a failure goes to the case's system-out, so that a
JUnit report is red exactly when the command's exit code is 1.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lxml import etree

from medcom.findings import Severity
from medcom.reports.deferred import Deferred


class FailOn(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"

    def fails(self, severity: Severity) -> bool:
        """Whether a finding or violation of this severity fails the run (and its JUnit test case)."""
        return severity == Severity.ERROR or (self is FailOn.WARNING and severity == Severity.WARNING)


@dataclass
class Case:
    """One test case: `failures` (lines: what failed it) and `output` (lines: everything else)."""

    name: str
    classname: str
    failures: list[str] = field(default_factory=list)
    failure_type: str = ""  # the first failing rule
    failure_rules: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)


def to_junit(suite_name: str, cases: Iterable[Case], properties: dict[str, str] | None = None) -> str:
    """JUnit XML: one test suite of `cases` (and its `properties`, e.g. the policy in force); a case with failure
    lines gets one <failure>."""
    return "".join(junit_chunks(suite_name, cases, properties))


def junit_chunks(suite_name: str, cases: Iterable[Case], properties: dict[str, str] | None = None) -> Iterator[str]:
    """`to_junit` in pieces that end where lines end, reading `cases` once and holding none of them: the suite's
    counts come before its cases, so each case is written as it comes and put aside (medcom.reports.deferred: in
    memory up to a few MB, then a temporary file), then the counted header, the cases and the end follow. Each
    case is serialized by lxml at its depth in the tree, so the text is the one tree's, byte for byte."""
    aside, batch, held = Deferred(), [], 0
    tests = failures = 0
    for c in cases:
        tests += 1
        failures += bool(c.failures)
        batch.append(text := _case_text(c))
        held += len(text)
        if held >= _BATCH:
            aside.add(batch)
            batch, held = [], 0
    aside.add(batch)
    counts = {"tests": str(tests), "failures": str(failures), "errors": "0"}
    suites = etree.Element("testsuites", name=suite_name, **counts)
    suite = etree.SubElement(suites, "testsuite", name=suite_name, **counts, skipped="0")
    if properties:
        holder = etree.SubElement(suite, "properties")
        for key, value in properties.items():
            etree.SubElement(holder, "property", name=key, value=value)
    if tests:
        etree.SubElement(suite, "testcase")  # where the cases go
    head, marker, tail = _text(suites, xml_declaration=True).partition(f"{_INDENT * 2}<testcase/>\n")
    yield head
    yield from aside.pieces()
    yield tail if marker else ""


_BATCH = 1 << 16  # characters of cases put aside at a time
_INDENT = "  "  # lxml's pretty print, a level
_AROUND = ("<testsuites>\n" + _INDENT + "<testsuite>\n", _INDENT + "</testsuite>\n</testsuites>\n")


def _case_text(c: Case) -> str:
    """One <testcase> as the whole suite's pretty print writes it (inside a bare suite, which is cut off)."""
    root = etree.Element("testsuites")
    case = etree.SubElement(etree.SubElement(root, "testsuite"), "testcase", classname=c.classname, name=c.name)
    if c.failures:
        rules = sorted(set(c.failure_rules))
        failure = etree.SubElement(case, "failure", type=c.failure_type or (rules[0] if rules else ""),
                                   message=f"{len(c.failures)} failure{'s' if len(c.failures) != 1 else ''}: "
                                           f"{', '.join(rules)}")
        failure.text = "\n".join(c.failures)
    if c.output:
        etree.SubElement(case, "system-out").text = "\n".join(c.output)
    text = _text(root)
    return text[len(_AROUND[0]):-len(_AROUND[1])]


def _text(root: etree._Element, xml_declaration: bool = False) -> str:
    return etree.tostring(root, xml_declaration=xml_declaration, encoding="UTF-8", pretty_print=True).decode()
