"""One JUnit policy shared with the exit code (item 10); receipts on the receiver's lane, plurals (item 11)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import ROOT
from helpers.cli import invoke, no_traceback
from lxml import etree, html

LOG = ROOT / "examples" / "log"


def _junit(result) -> etree._Element:
    return etree.fromstring(result.stdout.encode())


def test_replay_junit_is_red_exactly_when_the_exit_code_is_1() -> None:
    """The example log breaks CP-1 (a warning): green by default, red with --fail-on warning."""
    default = no_traceback(invoke("replay", LOG, "--format", "junit"))
    assert default.exit_code == 0 and _junit(default).get("failures") == "0"
    assert "warning CP-1" in default.stdout  # reported, in system-out
    strict = no_traceback(invoke("replay", LOG, "--format", "junit", "--fail-on", "warning"))
    suites = _junit(strict)
    assert strict.exit_code == 1 and suites.get("failures") == "1"
    (failure,) = suites.iter("failure")
    assert failure.get("type") == "CP-1" and failure.getparent().get("name") == "E2"
    assert no_traceback(invoke("replay", LOG, "--fail-on", "warning")).exit_code == 1


def test_replay_junit_fails_on_input_errors_as_the_exit_code_does(tmp_path: Path) -> None:
    timeline = tmp_path / "t.jsonl"
    timeline.write_text((ROOT / "tests" / "timelines" / "clean.jsonl").read_text(encoding="utf-8") + "not json\n",
                        encoding="utf-8")
    result = no_traceback(invoke("replay", timeline, "--format", "junit"))
    suites = _junit(result)
    assert result.exit_code == 1 and suites.get("failures") == "1"
    (failure,) = suites.iter("failure")
    assert failure.getparent().get("name") == "inputs" and failure.get("type") == "M-SCHEMA"


def test_validate_fail_on_warning_decides_exit_code_and_failures(tmp_path: Path) -> None:
    fold = tmp_path / "fold.xml"  # sent in the autumn fold: an M-TIME warning, nothing worse
    report = next(LOG.glob("E3-*-admission_report_sent.xml")).read_bytes()  # sent 2025-10-20 14:30
    fold.write_bytes(report.replace(b"<Time>14:30</Time>", b"<Time>02:30</Time>", 1)
                     .replace(b"<Date>2025-10-20</Date>", b"<Date>2025-10-26</Date>", 1))
    default = no_traceback(invoke("validate", fold, "--format", "junit"))
    assert default.exit_code == 0 and _junit(default).get("failures") == "0" and "warning M-TIME" in default.stdout
    strict = no_traceback(invoke("validate", fold, "--format", "junit", "--fail-on", "warning"))
    assert strict.exit_code == 1 and _junit(strict).get("failures") == "1"
    assert no_traceback(invoke("validate", fold, "--fail-on", "warning")).exit_code == 1


def test_receipts_are_drawn_on_the_lane_of_their_sender() -> None:
    """A receipt is sent by the receiver of the message it answers."""
    result = no_traceback(invoke("replay", LOG, "--format", "html"))
    page = html.fromstring(result.stdout.encode())
    receipts = [c for c in page.iter("circle") if c.findtext("title", "").startswith("receipt_sent")]
    lanes = {c.findtext("title").rsplit("— ", 1)[1]: c.get("cy") for c in receipts}
    assert lanes["Mon 2025-03-24 08:43"] == "56"  # the municipality answers E1's admission advice (a FHIR ack)
    assert lanes["Mon 2025-03-24 09:14"] == "28"  # the hospital answers the municipality's admission report
    assert len(receipts) == 22


def test_plurals_in_text_and_html(tmp_path: Path) -> None:
    timeline = ROOT / "tests" / "timelines" / "clean.jsonl"
    text = no_traceback(invoke("replay", timeline)).stdout
    assert "1 episode, completion tax 0 days" in text and "6 messages" in text
    page = no_traceback(invoke("replay", LOG, "--format", "html")).stdout
    assert "violation(s)" not in page and "day(s)" not in page
    assert ">1 violation<" in page and "tax 1 day," in page and ">0 violations<" in page
    plan = next(LOG.glob("E1-*-care_plan_sent.xml"))
    report = json.loads(no_traceback(invoke("validate", plan, "--format", "json")).stdout)
    assert report["inputs"]["messages"] == 1
    assert "1 message: 1 valid" in no_traceback(invoke("validate", plan)).stdout


def test_an_episode_spanning_centuries_draws_a_bounded_page(tmp_path: Path) -> None:
    """Ready in 1901, discharged in 2198: 108,000 tax days; the page stays small (a line per label)."""
    lines = [{"at": "1901-03-24T08:40", "episode": "L", "event": "admitted", "cpr": "2509479989"},
             {"at": "1901-03-25T11:00", "episode": "L", "event": "care_plan_sent", "id": "L-CP"},
             {"at": "1901-03-27T10:00", "episode": "L", "event": "ready_for_discharge"},
             {"at": "2198-03-27T13:00", "episode": "L", "event": "discharged", "destination": "home_nursing"}]
    timeline = tmp_path / "long.jsonl"
    timeline.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    page = no_traceback(invoke("replay", timeline, "--format", "html")).stdout
    assert len(page) < 100_000 and "more" in page
