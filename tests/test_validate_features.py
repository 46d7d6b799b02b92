"""validate: JUnit, suppressions, receipts, the per-sender risk table, workers."""

import json
from pathlib import Path

from click.testing import CliRunner
from freezegun import freeze_time
from lxml import etree

from medcom.cli import main
from medcom.formats.dialect.codec import decode
from medcom.formats.dialect.families import schema_for
from medcom.formats.dialect.model import NegativeReceipt, PositiveReceipt, RefuseCode
from medcom.formats.xmlsafe import parse_bytes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_junit_has_one_testcase_per_file_and_a_failure_per_invalid_one() -> None:
    result = run("validate", str(EXAMPLES), "--format", "junit")
    assert result.exit_code == 1
    suites = etree.fromstring(result.output.encode())
    cases = suites.findall(".//testcase")
    assert len(cases) == len(list(EXAMPLES.rglob("*.xml"))) + len(list(EXAMPLES.rglob("*.jsonl")))  # timelines too
    failed = {Path(c.get("name")).name: c.find("failure").get("type") for c in cases if c.find("failure") is not None}
    assert failed == {p.name: "-".join(p.name.split("-")[:2]) for p in (EXAMPLES / "invalid").glob("*.xml")}
    assert suites.get("failures") == str(len(failed))


def test_suppression_by_rule_and_glob(tmp_path: Path) -> None:
    suppress = tmp_path / "accepted.txt"
    suppress.write_text("# known issues\nM-XML\nM-CPR@*/invalid/M-CPR-*   # vendor X, ticket 123\n"
                        "M-GLN@*/elsewhere/*\n")
    report = json.loads(run("validate", str(EXAMPLES / "invalid"), "--format", "json", "--suppress",
                            str(suppress)).output)
    assert report["summary"]["suppressed_by_rule"] == {"M-CPR": 1, "M-XML": 4}
    assert "M-GLN" in report["summary"]["findings_by_rule"]
    assert report["inputs"]["messages"] == 10  # suppressed files are still counted
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
    result = run("validate", str(EXAMPLES / "log" / "E1-03-CarePlan.xml"), str(EXAMPLES / "invalid"),
                 "--receipts", str(out), "--format", "json")
    report = json.loads(result.output)
    kinds = {Path(f["file"]).name: f["receipt"]["kind"] for f in report["files"]}
    assert kinds["E1-03-CarePlan.xml"] == "positive"
    assert kinds["M-XML-truncated.xml"] == "impossible"
    receipts = {}
    schema = schema_for("xctl.xsd")
    for path in out.glob("*.xml"):
        tree = parse_bytes(path.read_bytes())
        assert schema.validate(tree), schema.error_log
        receipts[path.name] = decode(tree.getroot())
    positive = [r for r in receipts.values() if isinstance(r, PositiveReceipt)]
    negative = {r.refuse_code for r in receipts.values() if isinstance(r, NegativeReceipt)}
    assert len(positive) == 1 and positive[0].original_envelope_id == "E1E0001"
    assert positive[0].envelope.sent.isoformat() == "2025-06-02T11:30:00+02:00"
    assert not positive[0].envelope.receipt_requested  # a receipt never asks for one
    assert negative == {RefuseCode.SYNTAX, RefuseCode.RECEIVER_ID, RefuseCode.UNSPECIFIED}
    assert report["summary"]["receipts"] == {"impossible": 4, "negative": 6, "positive": 1}


def test_unknown_version_gets_a_version_refusal(tmp_path: Path) -> None:
    data = (EXAMPLES / "log" / "E1-03-CarePlan.xml").read_bytes().replace(b"xd2101m", b"xd2199m")
    (tmp_path / "future.xml").write_bytes(data)
    run("validate", str(tmp_path / "future.xml"), "--receipts", str(tmp_path / "r"))
    (receipt,) = (tmp_path / "r").glob("*.xml")
    refused = decode(parse_bytes(receipt.read_bytes()).getroot())
    assert refused.refuse_code is RefuseCode.VERSION


def test_by_sender_risk_table() -> None:
    report = json.loads(run("validate", str(EXAMPLES), "--format", "json", "--by-sender").output)
    rows = {r["ean"]: r for r in report["senders"]}
    assert sum(r["messages"] for r in rows.values()) == report["inputs"]["messages"]
    hospital = rows["5790000182732"]  # the hospital: 5 of its 27 messages are broken on purpose
    assert (hospital["messages"], hospital["messages_with_errors"]) == (27, 5)
    assert hospital["risk"] == "red"  # 18.5 % >= red_error_rate 10 %
    assert rows["5790000161508"]["risk"] == "green"
    text = run("validate", str(EXAMPLES), "--by-sender").output
    assert "sender EAN" in text and "18.5%" in text


def test_risk_thresholds_come_from_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "lenient.toml"
    policy.write_text("[risk]\nyellow_error_rate = 0.15\nred_error_rate = 0.5\n")
    report = json.loads(run("validate", str(EXAMPLES), "--format", "json", "--by-sender", "--policy",
                            str(policy)).output)
    assert {r["ean"]: r["risk"] for r in report["senders"]}["5790000182732"] == "yellow"


def test_workers_give_the_same_report(tmp_path: Path) -> None:
    one = run("validate", str(EXAMPLES), "--format", "json", "--out", str(tmp_path / "1.json"))
    two = run("validate", str(EXAMPLES), "--format", "json", "--workers", "2", "--out", str(tmp_path / "2.json"))
    assert one.exit_code == two.exit_code == 1
    assert (tmp_path / "1.json").read_text() == (tmp_path / "2.json").read_text()
