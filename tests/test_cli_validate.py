"""End to end: `medcom validate` as a user runs it."""

import json
import zipfile
from pathlib import Path

import pytest
from helpers import EXAMPLES
from helpers.cli import medcom


def test_clean_log_exits_0_and_json_counts_every_input() -> None:
    run = medcom("validate", str(EXAMPLES / "log"), "--format", "json")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    files = sorted([*EXAMPLES.joinpath("log").glob("*.xml"), *EXAMPLES.joinpath("log").glob("*.json")])
    assert report["inputs"] == {"messages": len(files), "accepted": len(files), "rejected": 0}
    assert {f["file"] for f in report["files"]} == {str(p) for p in files}


def test_examples_exit_1_and_each_invalid_file_fails_with_its_rule() -> None:
    run = medcom("validate", str(EXAMPLES), "--format", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    inputs = report["inputs"]
    assert inputs["accepted"] + inputs["rejected"] == inputs["messages"]
    for entry in report["files"]:
        name = Path(entry["file"]).name
        rules = {f["rule"] for f in entry["findings"]}
        if "/invalid/" in entry["file"]:
            expected = "-".join(name.split("-")[:2])
            assert expected in rules, (name, rules)
            assert entry["valid"] == (expected == "M-GLN")  # real senders fail the check digit: a warning
        else:
            assert entry["valid"] and not rules, name


def test_text_report_names_file_line_rule() -> None:
    run = medcom("validate", str(EXAMPLES / "invalid" / "M-CPR-no-such-date.xml"))
    assert run.exit_code == 1
    line = next(n for n, text in enumerate((EXAMPLES / "invalid" / "M-CPR-no-such-date.xml").read_bytes()
                                           .splitlines(), start=1) if b"CivilRegistrationNumber" in text)
    assert "M-CPR-no-such-date.xml" in run.stdout and "M-CPR" in run.stdout and f"line {line}" in run.stdout
    assert "\x1b[" not in run.stdout  # no colour off a terminal
    assert "3102471234" not in run.stdout  # CPR masked


def test_broken_inputs_are_findings_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = next((EXAMPLES / "log").glob("E1-*-care_plan_sent.xml")).read_bytes()
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("good.xml", good)
        z.writestr("empty.xml", b"")
        z.writestr("notes.txt", b"not xml")
    corrupt = tmp_path / "corrupt.zip"
    data = bytearray(archive.read_bytes())
    data[60:80] = b"\0" * 20  # inside the first member's compressed data
    corrupt.write_bytes(bytes(data))
    (tmp_path / "truncated.xml").write_bytes(good[:300])
    (tmp_path / "wrong-encoding.xml").write_bytes(b'<?xml version="1.0" encoding="UTF-16"?>\n' + good)
    run = medcom("validate", str(tmp_path), "--format", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    by_file = {Path(f["file"].split("!")[0]).name + ("!" + f["file"].split("!")[1] if "!" in f["file"] else ""):
               f for f in report["files"]}
    assert by_file["batch.zip!good.xml"]["valid"]
    assert [f["rule"] for f in by_file["batch.zip!empty.xml"]["findings"]] == ["M-XML"]
    assert [f["rule"] for f in by_file["batch.zip!notes.txt"]["findings"]] == ["M-XML"]
    assert [f["rule"] for f in by_file["truncated.xml"]["findings"]] == ["M-XML"]
    assert [f["rule"] for f in by_file["wrong-encoding.xml"]["findings"]] == ["M-XML"]
    assert any(name.startswith("corrupt.zip") and not f["valid"] for name, f in by_file.items())
    assert report["inputs"]["messages"] == len(report["files"])


@pytest.mark.parametrize("args", [["validate"], ["validate", "x.xml", "--format", "yaml"],
                                  ["replay", "log"], ["nosuchcommand"],
                                  ["validate", "examples/log", "no-such-file.xml"]])  # a missing path: exit 2
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert medcom(*args).exit_code == 2


def test_bad_policy_exits_2_naming_the_key(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[care_plan]\ncutof = 12:00:00\n")
    run = medcom("validate", str(EXAMPLES / "log"), "--policy", str(policy))
    assert run.exit_code == 2 and "care_plan.cutof" in run.stderr
