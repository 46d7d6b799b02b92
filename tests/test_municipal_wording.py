"""Findings municipal IT can act on (issue 25, M1-M4): schema findings in plain words saying what to fix (CPR
still masked), organisation names beside the sender's GLN/SOR, receipts named after the input they answer
(never with a CPR in the name), receipt counts in words."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from helpers import ROOT

from medcom.cli import main
from medcom.formats.oioxml.plain import plain

LOG = ROOT / "examples" / "log"
CARE_PLAN = (LOG / "E1-0006-care_plan_sent.xml").read_bytes()
HOSPITAL = "5790062330645"


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_cpr_with_a_hyphen_says_what_a_cpr_must_be_masked(tmp_path: Path) -> None:
    (tmp_path / "plan.xml").write_bytes(CARE_PLAN.replace(b">2509479989<", b">250947-9989<"))
    report = json.loads(run("validate", tmp_path / "plan.xml", "--format", "json").stdout)
    texts = [f["text"] for f in report["files"][0]["findings"] if f["rule"] == "M-SCHEMA"]
    assert texts and texts[0].startswith("CPR must be ten digits DDMMYYSSSS, without a hyphen; got '250947-****'")
    assert "0000000000" not in texts[0] and "9989" not in json.dumps(report)


def test_schema_messages_in_plain_words() -> None:
    assert plain("Element 'NotificationOfAdmission': Missing child element(s). Expected is ( Admission ).") == \
        "NotificationOfAdmission lacks Admission, which the schema requires here: add it"
    assert plain("Element 'VersionCode': [facet 'enumeration'] The value 'XD2031C' is not an element of the set .") \
        == "VersionCode must be one of the values the schema lists; got 'XD2031C'"
    assert plain("Element 'Date': '2025-02-30' is not a valid value of the atomic type 'xs:date'.") == \
        "Date must be a date YYYY-MM-DD that exists; got '2025-02-30'"
    assert plain("Element 'PersonSurnameName': This element is not expected. Expected is one of ( "
                 "CivilRegistrationNumber, PersonGivenName ).").startswith("PersonSurnameName is not allowed here")
    unknown = "something libxml2 says that medcom does not know"
    assert plain(unknown) == unknown


def test_by_sender_names_the_organisation_beside_the_gln() -> None:
    report = json.loads(run("validate", LOG, "--format", "json", "--by-sender").stdout)
    names = {r["ean"]: r["name"] for r in report["senders"]}
    assert "Aalborg Universitetshospital" in names[HOSPITAL]
    assert all(names.values()), names  # every sender of the examples names itself, OIOXML and FHIR alike
    text = run("validate", LOG, "--by-sender").stdout
    assert any(line.startswith(HOSPITAL) and "Aalborg Universitetshospital" in line for line in text.splitlines())


def test_receipts_are_named_after_the_input_they_answer_without_a_cpr(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "plan-2509479989.xml").write_bytes(CARE_PLAN)  # a sender put the CPR in the file name
    (inbox / "broken.xml").write_bytes(CARE_PLAN.replace(b">2509479989<", b">250947-9989<"))
    for name in ("E1-0012-discharge_advice_sent.json", "E1-0005-receipt_sent.xml"):
        (inbox / name).write_bytes((LOG / name).read_bytes())
    result = run("validate", inbox, "--receipts", tmp_path / "out", "--show-cpr")
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".medcom-output")
    assert names == ["E1-0012-discharge_advice_sent.ack.json", "broken.E00000000004.negative.xml",
                     "plan-250947-____.E00000000004.positive.xml"], names
    assert "not_for_receipts" not in result.stdout
    assert "1 not answered because they are receipts or acknowledgements themselves" in result.stdout
