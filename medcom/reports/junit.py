"""One JUnit XML writer for validate and replay, and the one failure policy shared with the exit code.

`--fail-on error` (the default) fails a test case, and the run, on error findings or violations;
`--fail-on warning` on warnings too. Whatever is not a failure goes to the case's system-out, so that a
JUnit report is red exactly when the command's exit code is 1.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from medcom.findings import Severity


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
    cases = list(cases)
    failures = sum(1 for c in cases if c.failures)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    suites = etree.Element("testsuites", name=suite_name, **counts)
    suite = etree.SubElement(suites, "testsuite", name=suite_name, **counts, skipped="0")
    if properties:
        holder = etree.SubElement(suite, "properties")
        for key, value in properties.items():
            etree.SubElement(holder, "property", name=key, value=value)
    for c in cases:
        case = etree.SubElement(suite, "testcase", classname=c.classname, name=c.name)
        if c.failures:
            rules = sorted(set(c.failure_rules))
            failure = etree.SubElement(case, "failure", type=c.failure_type or (rules[0] if rules else ""),
                                       message=f"{len(c.failures)} failure{'s' if len(c.failures) != 1 else ''}: "
                                               f"{', '.join(rules)}")
            failure.text = "\n".join(c.failures)
        if c.output:
            etree.SubElement(case, "system-out").text = "\n".join(c.output)
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()
