"""Replay reports point at the messages behind each violation (issue 25, I1): file, wrapper path and line in
every format; the text report says admitted, discharged and state; a typo in --episode or --rule is a usage
error with the close matches; every report names the policy in force."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT
from lxml import etree

from medcom.cli import main

LOG = ROOT / "examples" / "log"
TIMELINE = ROOT / "examples" / "timeline.jsonl"
WRAPPER = " > SBDH BinaryContent > VANS Data"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def sbdh_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sbdh") / "log"
    assert run("build", TIMELINE, "--out", out, "--formats", "oioxml", "--wrap", "sbdh").exit_code == 0
    return out


def test_json_violation_names_file_wrapper_path_and_line(sbdh_log: Path) -> None:
    result = run("replay", sbdh_log, "--format", "json")
    report = json.loads(result.stdout)
    (v,) = [v for e in report["episodes"] for v in e["violations"]]
    places = {(m["id"], Path(m["file"].split(" > ")[0]).name, m["line"]) for m in v["messages"]}
    message = next(m for m in v["messages"] if m["file"].endswith(WRAPPER))
    assert message["id"] == "E2-CP" and Path(message["file"].split(" > ")[0]).name == "E2-0006-care_plan_sent.xml"
    assert isinstance(message["line"], int) and message["line"] >= 1
    assert ("E2-CP", "events.jsonl", 5) in places  # the side-car line that adds the care plan's details


def test_the_line_is_the_letters_in_a_bare_oioxml_file() -> None:
    report = json.loads(run("replay", LOG, "--format", "json").stdout)
    (v,) = [v for e in report["episodes"] for v in e["violations"]]
    xml = next(m for m in v["messages"] if m["file"].endswith(".xml"))
    lines = (ROOT / xml["file"]).read_text().splitlines()  # absolute or relative: ROOT / either works
    assert "ProgressOfCarePlan" in lines[xml["line"] - 1]


def test_text_junit_and_html_name_the_file_and_line(sbdh_log: Path, tmp_path: Path) -> None:
    text = run("replay", sbdh_log).stdout
    assert re.search(r"message E2-CP in \S*E2-0006-care_plan_sent\.xml > SBDH BinaryContent > VANS Data line \d+",
                     text), text
    junit = etree.fromstring(run("replay", sbdh_log, "--format", "junit").stdout.encode())
    assert re.search(r"E2-CP in \S*E2-0006-care_plan_sent\.xml > SBDH BinaryContent > VANS Data line \d+",
                     "".join(junit.itertext()))
    html = tmp_path / "r.html"
    assert run("replay", sbdh_log, "--format", "html", "--out", html).exit_code == 0
    assert re.search(r"E2-CP in \S*E2-0006-care_plan_sent\.xml &gt; SBDH BinaryContent &gt; VANS Data line \d+",
                     html.read_text())


def test_text_report_says_admitted_discharged_and_state() -> None:
    text = run("replay", LOG).stdout
    assert re.search(r"admitted\s+discharged\s+state", text)
    assert re.search(r"^E1\s+2025-03-24 08:40\s+2025-03-27 13:00\s+discharged\b", text, re.M), text


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "html"])
@pytest.mark.parametrize(("option", "value", "near"), [("--episode", "E9", "E1"), ("--rule", "CP-9", "CP-1"),
                                                        ("--rule", "cp-1", "CP-1")])
def test_a_typo_in_a_filter_is_a_usage_error_with_close_matches(fmt: str, option: str, value: str, near: str,
                                                                 tmp_path: Path) -> None:
    out = ["--out", tmp_path / "r"] if fmt == "html" else []
    result = run("replay", LOG, option, value, "--format", fmt, *out)
    assert result.exit_code == 2
    assert f"{option} {value}: no such" in result.stderr and near in result.stderr.splitlines()[-1]
    assert result.stdout == ""


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_an_episode_asked_of_an_empty_log_is_a_usage_error_too(fmt: str, tmp_path: Path) -> None:
    """A log of no partition at all (an empty folder) refuses an --episode it does not have, in every format."""
    empty = tmp_path / "empty"
    empty.mkdir()
    out = ["--out", tmp_path / "r"] if fmt == "html" else []
    result = run("replay", empty, "--episode", "E9", "--format", fmt, *out)
    assert result.exit_code == 2 and "--episode E9: no such" in result.stderr, result.stderr


def test_the_enumeration_a_value_is_not_in_is_said_in_plain_words() -> None:
    """libxml2's {'a', 'b'} of an enumeration is no namespace: the finding names the values the schema allows."""
    from medcom.formats.oioxml import _NS_IN_TEXT
    from medcom.formats.oioxml.plain import plain

    message = "Element '{urn:oio:medcom:x}Status': [facet 'enumeration'] The value 'c' is not an element of the " \
              "set {'a', 'b'}."
    assert plain(_NS_IN_TEXT.sub("", message)) == "Status must be one of 'a', 'b'; got 'c'"


def test_a_catalogued_rule_absent_from_the_log_is_no_error() -> None:
    result = run("replay", LOG, "--rule", "TERM-1", "--episode", "E2")
    assert result.exit_code == 0 and "E2" in result.stdout


def test_every_format_names_the_policy_in_force(tmp_path: Path) -> None:
    policy = ROOT / "examples" / "policy.toml"
    for extra, name in (([], "default"), (["--policy", policy], str(policy))):
        assert name in json.loads(run("replay", LOG, "--format", "json", *extra).stdout)["policy"]
        assert run("replay", LOG, *extra).stdout.splitlines()[0].startswith("policy: ")
        assert name in run("replay", LOG, *extra).stdout.splitlines()[0]
        junit = etree.fromstring(run("replay", LOG, "--format", "junit", *extra).stdout.encode())
        assert name in junit.find("testsuite/properties/property[@name='policy']").get("value")
        html = tmp_path / "r.html"
        run("replay", LOG, "--format", "html", "--out", html, *extra)
        assert re.search(rf'<p id="policy">policy: [^<]*{re.escape(name)}', html.read_text())
