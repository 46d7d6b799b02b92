"""JUnit written in pieces (medcom.reports.junit.junit_chunks): the text of the one lxml tree it replaced, byte for
byte, for any cases and properties, while holding neither the cases nor the text (a replay of a million messages
writes tens of thousands of cases)."""

from __future__ import annotations

import tracemalloc
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.reports import junit
from medcom.reports.deferred import Deferred
from medcom.reports.junit import Case, junit_chunks, to_junit


def one_tree(suite_name: str, cases: list[Case], properties: dict[str, str] | None) -> str:
    """The JUnit text as it was made before: every case in one tree, serialized at once (the oracle)."""
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


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), min_codepoint=0x20) | st.sampled_from("\n\t\r<>&\"']]>"),
                   max_size=12)
CASES = st.lists(st.builds(Case, XML_TEXT, XML_TEXT, st.lists(XML_TEXT, max_size=3), XML_TEXT,
                           st.lists(XML_TEXT, max_size=3), st.lists(XML_TEXT, max_size=3)), max_size=6)


@settings(max_examples=300, deadline=None)
@given(XML_TEXT, CASES, st.none() | st.dictionaries(XML_TEXT, XML_TEXT, max_size=2))
def test_the_pieces_are_the_one_trees_text(name: str, cases: list[Case], properties: dict[str, str] | None) -> None:
    expected = one_tree(name, cases, properties)
    chunks = list(junit_chunks(name, iter(cases), properties))
    assert "".join(chunks) == to_junit(name, cases, properties) == expected
    assert all(chunk.endswith("\n") for chunk in chunks if chunk)  # (a CPR number is never cut between pieces)


def test_many_cases_are_written_without_holding_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 cases of ~400 bytes: the pieces are made holding at most a small fraction of the text (the one tree,
    or a list of the cases, held all of it)."""
    monkeypatch.setattr(junit, "Deferred", partial(Deferred, in_memory=1 << 16))
    cases = (Case(f"E{i}", "medcom.replay", [f"error CP-1 due 2026-01-0{i % 9 + 1} actual later: {'x' * 200}"],
                  "CP-1", ["CP-1"], [f"obligation DIS-2: {'y' * 100}"]) for i in range(5_000))
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in junit_chunks("medcom replay", cases, {"policy": "default"}))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 2_000_000 and peak < size / 5, (size, peak)
