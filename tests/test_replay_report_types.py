"""The replay report is typed (medcom.reports.episode): every format reads an episode's fields, and whether the run
fails is decided by each violation's and finding's `Severity`, never by its text."""

from __future__ import annotations

import json
import pickle

import pytest
from helpers import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.findings import Finding, Severity
from medcom.formats.messages import ReadOptions
from medcom.policy import load_policy
from medcom.replay import ReplayInput, load_log, replay
from medcom.reports.deferred import Deferred
from medcom.reports.episode import EpisodeReport, MessagePlace, ReportedViolation, Responsibility
from medcom.reports.junit import FailOn
from medcom.reports.replay import ReplayReport, ReplaySummary, text_lines, to_junit, whole_report
from medcom.reports.replay_html import to_html


def _episode(name: str, *violations: ReportedViolation) -> EpisodeReport:
    return EpisodeReport(name, name, "2025-03-24T08:40:00+01:00", None, "open", ("timeline",), 0, 0, 0,
                         Responsibility(False, None, "not discharged"), violations, ())


def _violation(severity: Severity, text: str, rule: str = "CP-1") -> ReportedViolation:
    return ReportedViolation(rule, severity, "2025-03-24T12:00:00+01:00", None, ("P1",), text,
                             (MessagePlace("P1", "log/p1.xml", 3),), "missing")


def _report(episodes: list[EpisodeReport], findings: list[Finding] = []) -> ReplayReport:  # noqa: B006
    return ReplayReport("p", ReplayInput(), ReplaySummary.of(episodes), None, findings, False,
                        lambda: iter(episodes))


def _junit_failures(report: ReplayReport, fail_on: FailOn) -> int:
    return int(etree.fromstring(to_junit(report, fail_on).encode()).get("failures"))


def test_a_violations_severity_decides_the_exit_not_its_text() -> None:
    worded_as_error = _report([_episode("E1", _violation(Severity.WARNING, "error: the care plan is missing"))])
    assert not worded_as_error.fails(FailOn.ERROR) and _junit_failures(worded_as_error, FailOn.ERROR) == 0
    assert worded_as_error.fails(FailOn.WARNING) and _junit_failures(worded_as_error, FailOn.WARNING) == 1
    worded_as_warning = _report([_episode("E1", _violation(Severity.ERROR, "warning: late"))])
    assert worded_as_warning.fails(FailOn.ERROR) and _junit_failures(worded_as_warning, FailOn.ERROR) == 1
    info = _report([_episode("E1", _violation(Severity.INFO, "error warning"))])
    assert not info.fails(FailOn.WARNING) and _junit_failures(info, FailOn.WARNING) == 0


def test_a_findings_severity_decides_the_exit_not_its_text() -> None:
    finding = Finding("M-SCHEMA", Severity.WARNING, "error in the message", "log/a.xml", 1)
    report = _report([_episode("E1")], [finding])
    assert not report.fails(FailOn.ERROR) and _junit_failures(report, FailOn.ERROR) == 0
    assert report.fails(FailOn.WARNING) and _junit_failures(report, FailOn.WARNING) == 1


def test_every_format_shows_the_typed_fields() -> None:
    report = _report([_episode("E7", _violation(Severity.ERROR, "no care plan", "ADM-1"))])
    text = "\n".join(text_lines(report))
    assert "E7" in text and "ADM-1" in text and "no care plan" in text and "P1 in log/p1.xml line 3" in text
    page = to_html(report, "log")
    assert 'data-rules="ADM-1"' in page and "P1 in log/p1.xml line 3" in page and 'class="sev-error"' in page
    data = json.loads("".join(report.json_chunks()))
    assert data["episodes"][0]["violations"][0] == {
        "rule": "ADM-1", "severity": "error", "due": "2025-03-24T12:00:00+01:00", "actual": None,
        "message_ids": ["P1"], "text": "no care plan", "code": "missing",
        "messages": [{"id": "P1", "file": "log/p1.xml", "line": 3}]}
    assert data["summary"]["violations_by_rule"] == {"ADM-1": 1} and data["episodes"][0]["state"] == "open"


@pytest.mark.parametrize("show_cpr", [False, True])
def test_the_episode_reports_pickle_and_encode_as_the_report(show_cpr: bool) -> None:
    """What the partitions pickle comes back equal; masking is done as the reports are made."""
    policy = load_policy()
    report = whole_report(replay(load_log([EXAMPLES / "log"], ReadOptions(sent_before_event=False)), policy),
                          show_cpr=show_cpr, policy=policy, drawings=3)
    entries = list(report.entries())
    assert entries and all(e.drawing is not None for e in entries)
    assert pickle.loads(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)) == entries
    patients = {e.patient for e in entries}
    assert all(p is not None and p.endswith("-****") != show_cpr for p in patients)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.text(max_size=300), max_size=5), max_size=30), st.integers(1, 2_000))
def test_deferred_pieces_come_back_exactly_in_memory_or_on_disk(batches: list[list[str]], in_memory: int) -> None:
    deferred = Deferred(in_memory)
    for batch in batches:
        deferred.add(batch)
    assert list(deferred.pieces()) == [piece for batch in batches for piece in batch]


class _Counted(Finding):
    """A finding that counts how many of its kind have been encoded for a report."""

    encoded = 0

    def as_dict(self) -> dict[str, object]:
        type(self).encoded += 1
        return super().as_dict()


@pytest.mark.parametrize("episodes, findings", [(0, 0), (0, 1), (3, 0), (2, 3), (400, 3000)])
def test_the_json_report_encodes_its_input_findings_one_by_one(episodes: int, findings: int) -> None:
    """A big log's input findings are encoded as the report is written, as its episodes are: encoded all at once
    into the report's head they were the command's peak memory (about 3 kB a finding while it lasted). The pieces
    are still exactly `json.dumps` of the whole report."""
    _Counted.encoded = 0
    found: list[Finding] = [_Counted("M-SCHEMA", Severity.ERROR, f"broken message {i}: " + "x" * 40, f"log/{i}.xml", i)
                            for i in range(findings)]
    report = _report([_episode(f"E{i}", _violation(Severity.ERROR, "late")) for i in range(episodes)], found)
    seen = []
    for chunk in report.json_chunks():
        seen.append((chunk, _Counted.encoded))
    whole = "".join(chunk for chunk, _ in seen)
    _Counted.encoded = 0
    assert whole == json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    if findings > 1000:  # several pieces hold findings, each yielded before the later ones were encoded
        holding = [count for chunk, count in seen if "broken message" in chunk]
        assert len(holding) > 2 and holding[0] < findings // 2
