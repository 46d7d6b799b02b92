"""Each family: the valid message validates clean; mutated copies fail with the right rule id."""

import pytest
from lxml import etree
from samples import one_of_each

from medcom.formats.dialect.codec import encode, to_xml
from medcom.formats.dialect.validation import check_bytes

MESSAGES = one_of_each()
CLINICAL = [code for code in MESSAGES if code.startswith("XDIS")]


def _mutated(code: str, path: str, text: str | None) -> list[str]:
    root = encode(MESSAGES[code])
    hits = root.xpath(path, namespaces={"m": etree.QName(root).namespace})
    assert hits, f"{path} not in {code}"
    for el in hits[:1]:
        if text is None:
            el.getparent().remove(el)
        else:
            el.text = text
    return sorted({f.rule for f in check_bytes(etree.tostring(root), f"{code}.xml").findings})


@pytest.mark.parametrize("code", MESSAGES)
def test_valid_message_has_no_findings(code: str) -> None:
    checked = check_bytes(to_xml(MESSAGES[code]), f"{code}.xml", decode_message=True)
    assert checked.findings == []
    assert checked.message == MESSAGES[code]


@pytest.mark.parametrize("code", MESSAGES)
def test_missing_element_is_m_schema(code: str) -> None:
    assert _mutated(code, "/m:Emessage/*[2]/m:Sender/m:OrganisationName", None) == ["M-SCHEMA"]


@pytest.mark.parametrize("code", CLINICAL)
def test_bad_cpr_date_is_m_cpr(code: str) -> None:
    assert _mutated(code, "//m:Patient/m:CivilRegistrationNumber", "3002471234") == ["M-CPR"]


@pytest.mark.parametrize("code", MESSAGES)
def test_bad_gln_check_digit_is_m_gln(code: str) -> None:
    root = encode(MESSAGES[code])
    ean = root.xpath("//m:Sender/m:EANIdentifier", namespaces={"m": etree.QName(root).namespace})[0].text
    wrong = ean[:12] + str((int(ean[12]) + 1) % 10)
    assert _mutated(code, "//m:Sender/m:EANIdentifier", wrong) == ["M-GLN"]


@pytest.mark.parametrize("code", MESSAGES)
def test_unknown_municipality_is_m_municipality(code: str) -> None:
    path = "//m:Identifier[following-sibling::m:IdentifierCode[1] = 'kommunenummer']"
    assert _mutated(code, path, "999") == ["M-MUNICIPALITY"]


@pytest.mark.parametrize("code", CLINICAL)
def test_spring_gap_time_is_m_time(code: str) -> None:
    root = encode(MESSAGES[code])
    ns = {"m": etree.QName(root).namespace}
    root.xpath("//m:Letter/m:Authorisation/m:Date", namespaces=ns)[0].text = "2025-03-30"
    root.xpath("//m:Letter/m:Authorisation/m:Time", namespaces=ns)[0].text = "02:15"
    findings = check_bytes(etree.tostring(root), "gap.xml").findings
    assert [(f.rule, f.severity) for f in findings] == [("M-TIME", "error")]
    assert findings[0].xpath.endswith("/Letter/Authorisation")


def test_autumn_fold_time_is_an_m_time_warning_only() -> None:
    root = encode(MESSAGES["XDIS21"])
    ns = {"m": etree.QName(root).namespace}
    root.xpath("//m:Letter/m:Authorisation/m:Date", namespaces=ns)[0].text = "2025-10-26"
    root.xpath("//m:Letter/m:Authorisation/m:Time", namespaces=ns)[0].text = "02:30"
    checked = check_bytes(etree.tostring(root), "fold.xml")
    assert [(f.rule, f.severity) for f in checked.findings] == [("M-TIME", "warning")]
    assert checked.ok


def test_discharge_advice_sent_before_discharge_is_m_time() -> None:
    assert _mutated("XDIS17", "//m:Envelope/m:Sent/m:Time", "12:59:59") == ["M-TIME"]
    assert _mutated("XDIS17", "//m:Envelope/m:Sent/m:Time", "13:00:00") == []


def test_correction_without_original_is_m_status() -> None:
    assert _mutated("XDIS21", "//m:Letter/m:StatusCode", "annulleretbrev") == ["M-STATUS"]


def test_schema_error_does_not_stop_identifier_checks() -> None:
    root = encode(MESSAGES["XDIS21"])
    ns = {"m": etree.QName(root).namespace}
    surname = root.xpath("//m:Patient/m:PersonSurnameName", namespaces=ns)[0]
    surname.getparent().remove(surname)
    root.xpath("//m:Patient/m:CivilRegistrationNumber", namespaces=ns)[0].text = "3002471234"
    findings = check_bytes(etree.tostring(root), "two.xml").findings
    assert sorted(f.rule for f in findings) == ["M-CPR", "M-SCHEMA"]
    assert all(f.line and f.xpath for f in findings)


def test_unknown_root_is_m_schema() -> None:
    findings = check_bytes(b"<Emessage xmlns='urn:other'><Envelope/></Emessage>", "other.xml").findings
    assert [f.rule for f in findings] == ["M-SCHEMA"]
    assert "not a known" in findings[0].text
