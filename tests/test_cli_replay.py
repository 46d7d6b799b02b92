"""End to end: `medcom replay` and `medcom build` as a user runs them."""

import json
import shutil
import zipfile
from pathlib import Path

from helpers import EXAMPLES
from helpers.cli import medcom
from helpers.timelines import clean_episode, replace, write_timeline
from lxml import etree

LOG = EXAMPLES / "log"


def test_example_log_json_counts_every_input_and_masks_cpr() -> None:
    run = medcom("replay", str(LOG), "--format", "json")
    assert run.exit_code == 0, run.stderr  # the log breaks deadlines (warnings) but no error-severity rule
    report = json.loads(run.stdout)
    inputs = report["inputs"]
    xml = len(list(LOG.glob("*.xml"))) + len(list(LOG.glob("*.json")))
    sidecar = len(LOG.joinpath("events.jsonl").read_text(encoding="utf-8").splitlines())
    assert inputs["messages"] == xml and report["events"]["lines"] == sidecar  # side-car lines are counted apart
    assert inputs["accepted"] + inputs["rejected"] + inputs["duplicates"] == inputs["messages"]
    assert [e["episode"] for e in report["episodes"]] == ["E1", "E2", "E3"]
    assert "2509479989" not in run.stdout and "250947-****" in run.stdout
    assert report["summary"]["violations_by_rule"] == {"CP-1": 1}
    assert report["summary"]["completion_tax_days"] == 1
    shown = json.loads(medcom("replay", str(LOG), "--format", "json", "--show-cpr").stdout)
    assert shown["episodes"][0]["patient"] == "2509479989"


def test_zip_log_gives_the_same_report(tmp_path: Path) -> None:
    archive = tmp_path / "log.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(LOG.iterdir()):
            z.write(path, path.name)
    from_dir = json.loads(medcom("replay", str(LOG), "--format", "json").stdout)
    from_zip = json.loads(medcom("replay", str(archive), "--format", "json").stdout)
    places = [m for e in from_zip["episodes"] for v in e["violations"] for m in v["messages"]]
    assert places and all(m["file"].startswith(f"{archive}!") for m in places)  # the member, in the archive
    for m in places:
        m["file"] = str(LOG / m["file"].partition("!")[2])
    assert from_zip["episodes"] == from_dir["episodes"] and from_zip["summary"] == from_dir["summary"]
    assert from_zip["inputs"] == from_dir["inputs"]  # the side-car is not taken for a message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.zip"]  # nothing written next to the input


def test_filters() -> None:
    only_e1 = json.loads(medcom("replay", str(LOG), "--format", "json", "--episode", "E1").stdout)
    assert [e["episode"] for e in only_e1["episodes"]] == ["E1"]
    other_rule = json.loads(medcom("replay", str(LOG), "--format", "json", "--rule", "ACK-1").stdout)
    assert all(not e["violations"] for e in other_rule["episodes"])
    before = json.loads(medcom("replay", str(LOG), "--format", "json", "--until", "2025-04-16T14:59").stdout)
    assert all(not e["violations"] for e in before["episodes"])
    since = json.loads(medcom("replay", str(LOG), "--format", "json", "--since", "2025-04-16T15:30").stdout)
    assert [v["rule"] for e in since["episodes"] for v in e["violations"]] == ["CP-1"]


def test_text_and_junit(tmp_path: Path) -> None:
    text = medcom("replay", str(LOG))
    assert "E2" in text.stdout and "CP-1" in text.stdout and "due 2025-04-16 14:00" in text.stdout
    out = tmp_path / "replay.xml"
    run = medcom("replay", str(LOG), "--format", "junit", "--out", str(out))
    assert run.exit_code == 0 and run.stdout == ""
    suite = etree.parse(str(out)).getroot()
    cases = suite.findall(".//testcase")
    assert {c.get("name") for c in cases} >= {"E1", "E2", "E3"}


def test_timeline_with_bad_lines_is_counted_and_replayed(tmp_path: Path) -> None:
    lines = replace(clean_episode(), "admission_advice_sent", at="2025-03-24T08:39:59")  # ADM-1 error
    path = write_timeline(tmp_path / "t.jsonl", lines)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
        handle.write('{"at": "2025-03-30T02:30", "episode": "E", "event": "phone_call"}\n')  # DST gap
    run = medcom("replay", str(path), "--format", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    messages = sum(1 for line in lines if line["event"].endswith("_sent"))
    # the unreadable line counts as a message, the phone call in the DST gap as a fact line
    assert report["inputs"] == {"messages": messages + 1, "accepted": messages, "rejected": 1, "duplicates": 0}
    assert report["events"] == {"lines": len(lines) - messages + 1, "accepted": len(lines) - messages, "rejected": 1}
    findings = {(f["line"], f["rule"]) for f in report["input_findings"]}
    assert {(len(lines) + 1, "M-SCHEMA"), (len(lines) + 2, "M-TIME")} <= findings
    assert "ADM-1" in report["summary"]["violations_by_rule"]


def test_build_then_replay_from_the_command_line(tmp_path: Path) -> None:
    timeline = write_timeline(tmp_path / "t.jsonl", clean_episode(plan="2025-03-26T15:00"))
    run = medcom("build", str(timeline), "--out", str(tmp_path / "log"))
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "log" / "events.jsonl").exists()
    valid = medcom("validate", str(tmp_path / "log"))
    assert valid.exit_code == 0, valid.stdout
    a = json.loads(medcom("replay", str(timeline), "--format", "json").stdout)
    b = json.loads(medcom("replay", str(tmp_path / "log"), "--format", "json").stdout)
    assert a["summary"] == b["summary"] and a["summary"]["violations_by_rule"] == {"CP-1": 1}


def test_bad_message_in_log_is_rejected_and_the_rest_replayed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    shutil.copytree(LOG, log)
    (log / "zz-truncated.xml").write_bytes(next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes()[:300])
    report = json.loads(medcom("replay", str(log), "--format", "json").stdout)
    assert report["inputs"]["rejected"] == 1
    assert [e["episode"] for e in report["episodes"]] == ["E1", "E2", "E3"]
    assert any(f["file"].endswith("zz-truncated.xml") for f in report["input_findings"])


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert medcom("replay", str(tmp_path / "missing")).exit_code == 2
    assert medcom("replay", str(LOG), "--since", "yesterday").exit_code == 2
    assert medcom("replay", str(LOG), "--format", "pdf").exit_code == 2


def test_workers_give_the_same_report() -> None:
    one = medcom("replay", str(LOG), "--format", "json")
    two = medcom("replay", str(LOG), "--format", "json", "--workers", "2")
    assert two.exit_code == one.exit_code and two.stdout == one.stdout
