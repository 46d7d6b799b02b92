"""validate: JUnit, suppressions, receipts, the per-sender risk table, workers."""

import json
from pathlib import Path

from click.testing import CliRunner
from freezegun import freeze_time
from helpers import ROOT
from lxml import etree

from medcom.cli import main
from medcom.formats.oioxml.generations import GEN_2005
from medcom.formats.oioxml.schemas import shipped
from medcom.formats.read import read_document
from medcom.formats.xmlsafe import parse_bytes

EXAMPLES = ROOT / "examples"
CARE_PLAN = next((EXAMPLES / "log").glob("E1-*-care_plan_sent.xml"))
HOSPITAL = read_document(CARE_PLAN.read_bytes(), "cp")[0].sender  # E1's ward: the invalid set is made from its messages


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_junit_has_one_testcase_per_file_and_a_failure_per_invalid_one() -> None:
    result = run("validate", str(EXAMPLES), "--format", "junit")
    assert result.exit_code == 1
    suites = etree.fromstring(result.output.encode())
    cases = suites.findall(".//testcase")
    assert len(cases) == len([p for p in EXAMPLES.rglob("*") if p.suffix in (".xml", ".json", ".jsonl")])
    failed = {Path(c.get("name")).name: c.find("failure").get("message") for c in cases
              if c.find("failure") is not None}
    broken = {p.name: "-".join(p.name.split("-")[:2]) for p in (EXAMPLES / "invalid").iterdir()}
    assert set(failed) == {name for name, rule in broken.items() if rule != "M-GLN"}  # M-GLN only warns
    assert all(broken[name] in message for name, message in failed.items())
    assert suites.get("failures") == str(len(failed))


def test_suppression_by_rule_and_glob(tmp_path: Path) -> None:
    suppress = tmp_path / "accepted.txt"
    suppress.write_text("# known issues\nM-XML\nM-CPR@*/invalid/M-CPR-*   # vendor X, ticket 123\n"
                        "M-GLN@*/elsewhere/*\n")
    report = json.loads(run("validate", str(EXAMPLES / "invalid"), "--format", "json", "--suppress",
                            str(suppress)).output)
    assert report["summary"]["suppressed_by_rule"] == {"M-CPR": 1, "M-XML": 4}
    assert "M-GLN" in report["summary"]["findings_by_rule"]
    assert report["inputs"]["messages"] == 11  # suppressed files are still counted
    only_suppressed = tmp_path / "all.txt"
    only_suppressed.write_text("M-XML\n")
    clean = run("validate", str(EXAMPLES / "invalid" / "M-XML-truncated.xml"), "--suppress", str(only_suppressed))
    assert clean.exit_code == 0 and "suppressed: M-XML 1" in clean.output


def test_bad_suppression_file_exits_2(tmp_path: Path) -> None:
    suppress = tmp_path / "bad.txt"
    suppress.write_text("M-CPR\nnot a rule\n")
    result = CliRunner().invoke(main, ["validate", str(EXAMPLES / "log"), "--suppress", str(suppress)])
    assert result.exit_code == 2 and "bad.txt:2" in result.output


@freeze_time("2025-06-02 09:30:00")
def test_receipts_positive_and_negative_are_schema_valid(tmp_path: Path) -> None:
    out = tmp_path / "receipts"
    result = run("validate", str(CARE_PLAN), str(EXAMPLES / "invalid"), "--receipts", str(out), "--format", "json")
    report = json.loads(result.output)
    kinds = {Path(f["file"]).name: f["receipt"]["kind"] for f in report["files"]}
    assert kinds[CARE_PLAN.name] == "positive"
    assert kinds["M-XML-truncated.xml"] == "impossible"
    assert kinds["M-GLN-wrong-check-digit.xml"] == "positive"  # a warning does not refuse a message
    schema = shipped(GEN_2005).schema
    receipts = []
    for path in out.glob("*.xml"):
        tree = parse_bytes(path.read_bytes())
        assert schema.validate(tree), schema.error_log
        (message,) = read_document(path.read_bytes(), path.name)
        receipts.append(message.content)
    positive = [r for r in receipts if r.family.code == "XCTL03"]
    negative = {r.original.refuse_code for r in receipts if r.family.code == "XCTL02"}
    care_plan = read_document(CARE_PLAN.read_bytes(), "cp")[0]
    assert any(r.original.envelope_id == care_plan.envelope_id and r.original.letter_ids == (care_plan.letter_id,)
               for r in positive)
    assert positive[0].sent.isoformat() == "2025-06-02T11:30:00+02:00"
    assert not positive[0].receipt_requested  # a receipt never asks for one
    assert negative == {"syntaksfejl", "problem_med_modtagerID", "ikke_specificeret", "problem_med_version"}
    assert report["summary"]["receipts"] == {"impossible": 4, "negative": 6, "positive": 2}
    (ack,) = out.glob("*.ack.json")  # the FHIR notification is answered with a fatal-error Acknowledgement
    (answer,) = read_document(ack.read_bytes(), ack.name)
    assert answer.accepted and answer.family == "Acknowledgement"
    assert answer.content.message.response_code == "fatal-error" and answer.content.message.issues


def test_unknown_version_gets_a_version_refusal(tmp_path: Path) -> None:
    data = CARE_PLAN.read_bytes().replace(b"XD2134C", b"XD2199C")
    (tmp_path / "future.xml").write_bytes(data)
    run("validate", str(tmp_path / "future.xml"), "--receipts", str(tmp_path / "r"))
    (receipt,) = (tmp_path / "r").glob("*.xml")
    (refused,) = read_document(receipt.read_bytes(), receipt.name)
    assert refused.family == "XCTL02" and refused.content.original.refuse_code == "problem_med_version"


def test_by_sender_risk_table() -> None:
    report = json.loads(run("validate", str(EXAMPLES), "--format", "json", "--by-sender").output)
    rows = {r["ean"]: r for r in report["senders"]}
    assert sum(r["messages"] for r in rows.values()) == report["inputs"]["messages"]
    ward = rows[HOSPITAL]  # E1's ward: 6 of its messages are broken on purpose (the GLN one only warns)
    assert ward["messages_with_errors"] == 6 and ward["risk"] == "red"
    assert rows["unknown"]["messages_with_errors"] == rows["unknown"]["messages"]  # not even XML
    assert any(r["risk"] == "green" for r in rows.values())
    rate = f"{ward['messages_with_errors'] / ward['messages']:.1%}"
    text = run("validate", str(EXAMPLES), "--by-sender").output
    assert "sender GLN/SOR" in text and rate in text


def test_risk_thresholds_come_from_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "lenient.toml"
    policy.write_text("[risk]\nyellow_error_rate = 0.15\nred_error_rate = 0.9\n")
    report = json.loads(run("validate", str(EXAMPLES), "--format", "json", "--by-sender", "--policy",
                            str(policy)).output)
    assert {r["ean"]: r["risk"] for r in report["senders"]}[HOSPITAL] == "yellow"


def test_workers_give_the_same_report(tmp_path: Path) -> None:
    one = run("validate", str(EXAMPLES), "--format", "json", "--out", str(tmp_path / "1.json"))
    two = run("validate", str(EXAMPLES), "--format", "json", "--workers", "2", "--out", str(tmp_path / "2.json"))
    assert one.exit_code == two.exit_code == 1
    assert (tmp_path / "1.json").read_text() == (tmp_path / "2.json").read_text()
