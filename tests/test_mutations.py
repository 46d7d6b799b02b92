"""Each family the project writes: the valid message validates clean; mutated copies fail with the right rule."""

import pytest
from helpers.samples import one_of_each
from lxml import etree

from medcom.formats.read import read_document
from medcom.formats.xmlsafe import parse_bytes

MESSAGES = one_of_each()
CLINICAL = [code for code in MESSAGES if code.startswith("XDIS")]


def _rules(code: str, local_path: str, text: str | None) -> list[tuple[str, str]]:
    root = parse_bytes(MESSAGES[code]).getroot()
    query = "/".join(f"*[local-name()='{step}']" if step not in ("", "*") else step for step in local_path.split("/"))
    hits = root.getroottree().xpath(query)
    assert hits, f"{local_path} not in {code}"
    el = hits[0]
    if text is None:
        el.getparent().remove(el)
    else:
        el.text = text
    (message,) = read_document(etree.tostring(root, encoding="utf-8"), f"{code}.xml")
    return sorted({(f.rule, str(f.severity)) for f in message.findings})


@pytest.mark.parametrize("code", MESSAGES)
def test_valid_message_has_no_findings(code: str) -> None:
    (message,) = read_document(MESSAGES[code], f"{code}.xml")
    assert message.findings == [] and message.family == code and message.content is not None


@pytest.mark.parametrize("code", MESSAGES)
def test_missing_element_is_m_schema(code: str) -> None:
    assert _rules(code, "/Emessage/*/Letter/Identifier", None) == [("M-SCHEMA", "error")]


@pytest.mark.parametrize("code", CLINICAL)
def test_bad_cpr_date_is_m_cpr(code: str) -> None:
    assert ("M-CPR", "error") in _rules(code, "//Patient/CivilRegistrationNumber", "3002471234")


@pytest.mark.parametrize("code", MESSAGES)
def test_bad_gln_check_digit_is_an_m_gln_warning(code: str) -> None:
    root = parse_bytes(MESSAGES[code]).getroot()
    ean = root.xpath("//*[local-name()='Sender']/*[local-name()='EANIdentifier']")[0].text
    wrong = ean[:12] + str((int(ean[12]) + 1) % 10)
    assert _rules(code, "//Sender/EANIdentifier", wrong) == [("M-GLN", "warning")]


def test_vans_mailbox_ids_are_not_glns() -> None:
    assert _rules("XCTL03", "//Sender/EANIdentifier", "DKKMDKMDNET") == []


@pytest.mark.parametrize("code", ["XDIS20", "XDIS17"])
def test_unknown_municipality_code(code: str) -> None:
    assert _rules(code, "//Receiver/Identifier", "411") == [("M-MUNICIPALITY", "error")]


def test_time_in_the_spring_gap_and_in_the_autumn_fold() -> None:
    root = parse_bytes(MESSAGES["XDIS17"]).getroot()
    sent = root.xpath("//*[local-name()='Sent']")[0]
    sent[0].text, sent[1].text = "2025-03-30", "02:30"
    (gap,) = read_document(etree.tostring(root), "gap.xml")
    assert [f.rule for f in gap.errors] == ["M-TIME"] and "does not exist" in gap.errors[0].text
    sent[0].text = "2025-10-26"
    (fold,) = read_document(etree.tostring(root), "fold.xml")
    assert [(f.rule, str(f.severity)) for f in fold.findings] == [("M-TIME", "warning")]


def test_an_advice_sent_before_the_discharge_it_reports() -> None:
    """validate says M-TIME; replay leaves it to DIS-1 (one rule id, one outcome whatever the format)."""
    from medcom.formats.messages import ReadOptions

    root = parse_bytes(MESSAGES["XDIS17"]).getroot()
    root.xpath("//*[local-name()='Discharge']/*[local-name()='Time']")[0].text = "14:00"
    data = etree.tostring(root)
    (checked,) = read_document(data, "early.xml")
    assert [f.rule for f in checked.errors] == ["M-TIME"]
    (replayed,) = read_document(data, "early.xml", ReadOptions(sent_before_event=False))
    assert replayed.accepted
