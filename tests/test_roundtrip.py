"""Property: for every family, model -> XML -> schema-valid -> parse -> the same model."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from samples import one_of_each
from strategies import of

from medcom.formats.dialect.codec import decode, to_xml
from medcom.formats.dialect.families import FAMILIES, schema_for
from medcom.formats.dialect.validation import check_bytes
from medcom.formats.xmlsafe import parse_bytes


@pytest.mark.parametrize("spec", FAMILIES, ids=lambda s: s.code)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_build_parse_round_trip(spec, data) -> None:
    message = data.draw(of(spec.cls))
    xml = to_xml(message)
    tree = parse_bytes(xml)
    schema = schema_for(spec.schema_file)
    assert schema.validate(tree), [e.message for e in schema.error_log]
    assert decode(tree.getroot()) == message
    checked = check_bytes(xml, "generated.xml", decode_message=True)
    # Random data may send before the event reported (M-TIME) or correct a letter without naming it
    # (M-STATUS): business rules, not codec faults. Nothing else may be found.
    assert {f.rule for f in checked.findings} <= {"M-TIME", "M-STATUS"}, checked.findings
    assert checked.message == message


def test_every_family_has_its_own_namespace_and_body() -> None:
    assert len({(s.namespace, s.body) for s in FAMILIES}) == len(FAMILIES)
    assert {s.code for s in FAMILIES} == {"XDIS20", "XDIS16", "XDIS21", "XDIS19", "XDIS17", "XDIS18", "XDIS91",
                                         "XCTL03", "XCTL02"}


def test_version_and_statistical_code_are_written_and_enforced() -> None:
    message = one_of_each()["XDIS21"]
    root = etree.fromstring(to_xml(message))
    ns = etree.QName(root).namespace
    assert root.findtext(f".//{{{ns}}}VersionCode") == "XD2101M"
    root.find(f".//{{{ns}}}VersionCode").text = "XD2001M"
    checked = check_bytes(etree.tostring(root), "wrong-version.xml")
    assert [f.rule for f in checked.findings] == ["M-SCHEMA"]
