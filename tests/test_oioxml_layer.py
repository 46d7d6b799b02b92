"""The OIOXML format layer on real material: MedCom's samples, encodings, wrappers, several letters, --schemas."""

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT
from helpers.samples import one_of_each
from lxml import etree

from medcom.cli import main
from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml.generations import FAMILIES, Family
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.formats.read import read_document
from medcom.formats.xmlsafe import parse_bytes

# MedCom's own sample messages, shipped unchanged beside their licence (tests/data/oioxml/medcom-samples/SOURCE.md).
SAMPLES = ROOT / "tests" / "data" / "oioxml" / "medcom-samples"
DATA_34C = ROOT / "tests" / "data" / "oioxml" / "34C"
SAMPLE_VERSIONS = {"CTL01_1.xml": ("XCTL01", "XC0130Q"), "CTL02_1.xml": ("XCTL02", "XC0230Q"),
                   "CTL03_1.xml": ("XCTL03", "XC0330Q"), "DIS17_1.xml": ("XDIS17", "XD1730C"),
                   "DIS20_1.xml": ("XDIS20", "XD2030C"), "DIS91_1.xml": ("XDIS91", "XD9134L"),
                   "DIS91_2.xml": ("XDIS91", "XD9134L")}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_medcom_sample_validates_and_says_what_it_is() -> None:
    result = run("validate", str(SAMPLES), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["inputs"] == {"messages": 7, "accepted": 7, "rejected": 0}
    found = {Path(f["file"]).name: (f["family"], f["version"]) for f in report["files"]}
    assert found == SAMPLE_VERSIONS
    assert all(f["schema"].startswith("official MedCom XSD") for f in report["files"])
    warnings = {f["rule"] for entry in report["files"] for f in entry["findings"]}
    assert warnings == {"M-GLN"}  # three of MedCom's own GLNs fail the check digit: warned, not refused


def test_samples_declared_windows_1252_decode_danish_letters() -> None:
    (message,) = read_document((SAMPLES / "DIS20_1.xml").read_bytes(), "DIS20_1.xml")
    assert message.encoding == "WINDOWS-1252"
    assert message.content.receiver.organisation == "Lyngby Taarbæk Kommune"


def test_iso_8859_1_without_declaration_reads_oe_right() -> None:
    data = (DATA_34C / "XDIS21_XD2134C.xml").read_bytes()
    assert not data.startswith(b"<?xml") and "ø".encode("latin-1") in data
    (message,) = read_document(data, "x.xml")
    assert message.accepted and message.encoding == "ISO-8859-1"
    assert "ø" in message.content.sender.organisation + (message.content.sender.department or "") \
        or "ø" in data.decode("latin-1")


@pytest.mark.parametrize("name", sorted(p.name for p in DATA_34C.glob("*.xml")))
def test_34c_samples_in_every_wrapping_are_accepted_and_named_by_their_path(name: str) -> None:
    messages = read_document((DATA_34C / name).read_bytes(), name)
    assert all(m.accepted for m in messages), [f.text for m in messages for f in m.findings]
    assert all(m.generation == "34C" and not m.schema.startswith("official") for m in messages)
    if ".vans" in name:
        assert messages[0].source.endswith("> VANS Data")
    if ".sbdh-vans" in name:
        assert messages[0].source == f"{name} > SBDH BinaryContent > VANS Data"


def test_an_emessage_with_two_letters_is_two_messages() -> None:
    messages = read_document((DATA_34C / "Emessage_two_letters.xml").read_bytes(), "two.xml")
    assert [(m.family, m.position) for m in messages] == [("XDIS21", 1), ("XDIS19", 2)]
    assert messages[0].source == "two.xml letter 1" and messages[0].envelope_id == messages[1].envelope_id


def test_a_finding_in_one_letter_rejects_that_letter_only() -> None:
    data = (DATA_34C / "Emessage_two_letters.xml").read_bytes()
    tree = parse_bytes(data)
    cpr = tree.getroot().xpath("//*[local-name()='CivilRegistrationNumber']")[-1]
    cpr.text = "3102" + cpr.text[4:]  # the second letter's patient: 31 February
    broken = etree.tostring(tree, encoding="iso-8859-1")
    first, second = read_document(broken, "two.xml")
    assert first.accepted and [f.rule for f in second.errors] == ["M-SCHEMA", "M-CPR"]


def test_broken_wrappers_are_findings() -> None:
    payload = one_of_each()["XDIS20"]
    wrapped = vans_envelope(payload, envelope_id="V1", sent="2025-03-24T08:41:00+01:00", sender_ean="1",
                            receiver_ean="2", name="XDIS20", version="XD2030C")
    (ok,) = read_document(wrapped, "v.xml")
    assert ok.accepted and ok.family == "XDIS20" and ok.source == "v.xml > VANS Data"
    (bad,) = read_document(wrapped.replace(b"<Data>", b"<Data>!!"), "v.xml")
    assert [f.rule for f in bad.errors] == ["M-XML"] and "base64" in bad.errors[0].text
    (liar,) = read_document(wrapped.replace(b"XDIS20</Name>", b"XDIS17</Name>"), "v.xml")
    assert liar.accepted and any("wrapper says" in f.text for f in liar.findings)
    nested = sbdh(wrapped, instance_id="S1", created="2025-03-24T08:41:00", sender_gln="1", receiver_gln="2",
                  standard="s", type_version="1", doc_type="VANSEnvelope")
    (inner,) = read_document(nested, "s.xml")
    assert inner.accepted and inner.source == "s.xml > SBDH BinaryContent > VANS Data"


@pytest.mark.parametrize("wrap", ["vans", "sbdh"])
def test_each_letter_of_a_wrapped_emessage_is_compared_with_the_wrappers_label(wrap: str) -> None:
    """A wrapper labelled XDIS21 XD2134C around an Emessage of an XDIS21 and an XDIS19: the second letter disagrees
    with the label (before: only the first letter was compared, and the XDIS19 passed unnoticed)."""
    payload = (DATA_34C / "Emessage_two_letters.xml").read_bytes()
    wrapped = vans_envelope(payload, envelope_id="V1", sent="2025-03-24T08:41:00", sender_ean="1", receiver_ean="2",
                            name="XDIS21", version="XD2134C") if wrap == "vans" else \
        sbdh(payload, instance_id="S1", created="2025-03-24T08:41:00", sender_gln="1", receiver_gln="2",
             standard="urn:oio:medcom:municipality:1.0.3", type_version="XD2134C", doc_type="XDIS21")
    plan, notice = read_document(wrapped, "w.xml")
    assert (plan.family, notice.family) == ("XDIS21", "XDIS19")
    assert not any("wrapper says" in f.text for f in plan.findings)
    (label,) = [f for f in notice.findings if "wrapper says" in f.text]
    assert (label.rule, label.severity.value) == ("M-XML", "warning") and label.text.endswith("XDIS19 XD1934C")


@pytest.mark.parametrize("stem", ["XDIS21_XD2134C", "XDIS18_XD1834C"])
def test_an_sbdh_typed_emessage_names_its_letters_root_not_another_family(stem: str) -> None:
    """The 34C SBDH samples say Type Emessage (the root element, as SBDH types are) and TypeVersion the letter's
    version: no label warning (before: 'the wrapper says it carries Emessage XD2134C' on the project's own sample).
    A TypeVersion of another version still warns."""
    data = (DATA_34C / f"{stem}.sbdh.xml").read_bytes()
    (message,) = read_document(data, "s.xml")
    assert message.accepted and not message.findings, message.findings
    version = stem.split("_")[1]
    (other,) = read_document(data.replace(f"<TypeVersion>{version}<".encode(), b"<TypeVersion>XD1934C<"), "s.xml")
    assert [f.text for f in other.findings] == [f"the wrapper says it carries XD1934C, the payload is "
                                                f"{stem.replace('_', ' ')}"]
    (shouted,) = read_document(data.replace(b"<Type>Emessage<", b"<Type>EMESSAGE<"), "s.xml")
    assert shouted.accepted and not shouted.findings, shouted.findings


def test_a_vans_document_named_emessage_is_compared_and_a_long_label_is_quoted_short() -> None:
    """Only an SBDH's Type names the root element: a VANS Document Name "Emessage" is no family (before the review,
    every wrapper's "Emessage" was compared with nothing). A label of 200,000 characters is quoted shortened (a
    wrapper of many letters says it once for each)."""
    payload = one_of_each()["XDIS20"]
    for name, version in (("Emessage", "XD2030C"), ("X" * 200_000, "XD2030C")):
        wrapped = vans_envelope(payload, envelope_id="V1", sent="2025-03-24T08:41:00+01:00", sender_ean="1",
                                receiver_ean="2", name=name, version=version)
        (message,) = read_document(wrapped, "v.xml")
        (label,) = [f for f in message.findings if "wrapper says" in f.text]
        assert label.text.startswith(f"the wrapper says it carries {name[:20]}") and len(label.text) < 400


_STATISTICAL = re.compile(rb"(<(?:\w+:)?StatisticalCode>\s*)(\w+)")


def _letters_of_every_family() -> dict[tuple[str, str], bytes]:
    """A document of every family and generation medcom knows, by (code, version): MedCom's samples, the 34C data
    and the writers' messages."""
    found: dict[tuple[str, str], bytes] = {}
    documents = [*(p.read_bytes() for p in sorted(SAMPLES.glob("*.xml"))),
                 *(p.read_bytes() for p in sorted(DATA_34C.glob("X*_X*C.xml"))), *one_of_each().values()]
    for data in documents:
        messages = read_document(data, "d.xml")
        if len(messages) == 1 and messages[0].family and messages[0].version:
            found.setdefault((messages[0].family, messages[0].version), data)
    return found


def test_a_letter_of_every_family_but_one_is_read() -> None:
    """Every family and version but the 2007 discharge report (XDIS18 XD1830C: no MedCom sample and no writer)."""
    assert set(_letters_of_every_family()) | {("XDIS18", "XD1830C")} == {(f.code, f.version) for f in FAMILIES}


@pytest.mark.parametrize("options", [ReadOptions(letter_content=False), ReadOptions(sent_before_event=False)],
                         ids=["validate", "replay"])
@pytest.mark.parametrize("family", [f for f in FAMILIES if f.version != "XD1830C"], ids=lambda f: f.version)
def test_the_statistical_code_is_the_letters_family(family: Family, options: ReadOptions) -> None:
    """docs/RULES.md M-VERSION: a letter's StatisticalCode is its family's code, as in every MedCom sample (the XSDs
    type it String_1_8 only); another family's code is an error (before: any code passed, e.g. an XDIS17 discharge
    advice saying XDIS20). Its own code, surrounded by the samples' whitespace, passes."""
    data = _letters_of_every_family()[(family.code, family.version)]
    (own,) = read_document(data, "own.xml", options)
    assert own.accepted and "M-VERSION" not in [f.rule for f in own.findings], own.findings
    other = "XDIS91" if family.code != "XDIS91" else "XDIS20"
    changed, count = _STATISTICAL.subn(lambda m: m[1] + other.encode(), data)
    assert count == 1
    (wrong,) = read_document(changed, "wrong.xml", options)
    assert [(f.rule, f.text) for f in wrong.errors] == [("M-VERSION", f"{family.body} is a letter of family "
                                                        f"{family.code}, its StatisticalCode says '{other}'")]
    assert (wrong.errors[0].xpath or "").endswith("StatisticalCode")


def test_unknown_root_and_unknown_generation_are_version_findings() -> None:
    (other,) = read_document(b"<Invoice xmlns='urn:oasis:names:specification:ubl'/>", "i.xml")
    assert [f.rule for f in other.errors] == ["M-VERSION"]
    (future,) = read_document(one_of_each()["XDIS20"].replace(b"2005/08/07", b"2030/01/01"), "f.xml")
    assert [f.rule for f in future.errors] == ["M-VERSION"]


def test_a_date_held_by_the_emessage_itself_is_a_schema_finding_not_a_crash() -> None:
    """The root is the Date's holder: it has no parent to tell whether it is a Sent or an event."""
    data = (b"<Emessage xmlns='http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/'>"
            b"<Date>2025-01-01</Date><Time>10:00</Time></Emessage>")
    messages = read_document(data, "d.xml")
    assert [f.rule for f in messages[0].errors] == ["M-SCHEMA"]


def test_schemas_dir_replaces_the_shipped_schema_for_its_namespace(tmp_path: Path) -> None:
    """A user who holds MedCom's 34C XSDs points --schemas at them; here a copy of ours stands in for them, made
    stricter (PersonGivenName required) so that the finding shows which schema judged."""
    user = tmp_path / "xsd"
    shutil.copytree(ROOT / "medcom" / "schemas" / "oioxml" / "34C", user)
    message = DATA_34C / "XDIS21_XD2134C.xml"
    data = message.read_bytes()
    assert run("validate", str(message)).exit_code == 0
    report = json.loads(run("validate", str(message), "--schemas", str(user), "--format", "json").output)
    assert report["files"][0]["schema"].startswith("user schema") and report["inputs"]["accepted"] == 1
    assert data  # the shipped schema still judges without --schemas
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["validate", str(message), "--schemas", str(empty)])
    assert result.exit_code == 2 and "no .xsd" in result.output
