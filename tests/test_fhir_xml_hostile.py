"""Hostile FHIR XML: legal variations of the shipped example Bundles written as XML must not change medcom's
findings (false rejects), and forms FHIR XML forbids must be an error (false accepts), read by `validate_bytes`
and by `medcom validate` / `medcom replay` in-process, never with a traceback. A few hundred cases run with the
tests; `MEDCOM_FUZZ_EXAMPLES=10000` runs more (as tests/test_fuzz.py)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import medcom
from helpers.fhir import ADMISSION, DATA, load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.formats.fhir import looks_like_fhir, parse, to_xml, validate_bytes
from medcom.formats.fhir.rules import F_XML
from medcom.formats.fhir.xmlread import FHIR_NS, XHTML_NS

TOTAL = int(os.environ.get("MEDCOM_FUZZ_EXAMPLES", "200"))
SETTINGS = {"deadline": None, "derandomize": "MEDCOM_FUZZ_EXAMPLES" not in os.environ,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
EXAMPLES = sorted(DATA.glob("*/*.json"))
_F = f"{{{FHIR_NS}}}"
_H = f"{{{XHTML_NS}}}"
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"

Key = tuple[str, str, str | None, str]


def _keys(xml: bytes) -> list[Key]:
    """The findings as medcom reports them, their lines aside (a variation may move them)."""
    return sorted((f.rule, str(f.severity), f.xpath, f.text) for f in validate_bytes(xml, "m.xml").findings)


def _errors(xml: bytes) -> set[Key]:
    return {key for key in _keys(xml) if key[1] == "error"}


@cache
def _plain(index: int) -> tuple[bytes, tuple[Key, ...]]:
    """An example Bundle written as XML, and its findings, which are its JSON's (tests/test_fhir_reading.py)."""
    xml = to_xml(load(EXAMPLES[index]))
    keys = _keys(xml)
    assert keys == sorted((f.rule, str(f.severity), f.xpath, f.text)
                          for f in validate_bytes(EXAMPLES[index].read_bytes(), "m.json").findings)
    return xml, tuple(keys)


def _fhir(root: etree._Element) -> list[etree._Element]:
    """The FHIR elements of a document (not the narrative's XHTML), in document order."""
    return [e for e in root.iter(_F + "*")]


def _is_resource(element: etree._Element) -> bool:
    return etree.QName(element).localname[:1].isupper()


def _kids(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and c.tag.startswith(_F)]


def _containers(root: etree._Element) -> list[etree._Element]:
    """Elements that hold a resource (Bundle.entry.resource, contained, ...)."""
    return [e for e in _fhir(root) if not _is_resource(e) and any(_is_resource(c) for c in _kids(e))]


def _complex(root: etree._Element) -> list[etree._Element]:
    """Datatype and backbone elements: FHIR children, no value, neither a resource nor a resource's holder."""
    holders = set(_containers(root))
    return [e for e in _fhir(root) if _kids(e) and "value" not in e.attrib and not _is_resource(e)
            and e not in holders]


def _primitives(root: etree._Element) -> list[etree._Element]:
    return [e for e in _fhir(root) if "value" in e.attrib]


# ---- legal variations: the same message ---------------------------------------------------------------------


def _comments(draw: st.DrawFn, root: etree._Element) -> None:
    for element in draw(st.lists(st.sampled_from(_fhir(root)), min_size=1, max_size=8)):
        element.addprevious(etree.Comment(" a comment <between> elements "))
        if element is not root:
            element.addnext(etree.ProcessingInstruction("medcom", "a processing instruction"))
        if _kids(element):
            element.insert(0, etree.Comment("first"))


def _whitespace(draw: st.DrawFn, root: etree._Element) -> None:
    space = st.text(alphabet=" \t\r\n", max_size=6)
    for element in _fhir(root):
        if _kids(element) or "value" in element.attrib:
            element.text = draw(space) or None
        for child in _kids(element):
            child.tail = draw(space) or None


def _schema_location(draw: st.DrawFn, root: etree._Element) -> None:
    root.set(_XSI + "schemaLocation", "http://hl7.org/fhir ../../schema/fhir-all.xsd")
    for element in draw(st.lists(st.sampled_from(_fhir(root)), max_size=3)):
        element.set("{urn:example:other}note", "not FHIR content")


def _narrative(draw: st.DrawFn, root: etree._Element) -> None:
    """More XHTML in every narrative, with FHIR's own element names (status, id) and attributes in it."""
    for div in root.iter(_H + "div"):
        if div.getparent() is None or not div.getparent().tag.startswith(_F):
            continue
        inner = etree.SubElement(div, _H + "div", {"id": "n1", "class": "status"})
        table = etree.SubElement(inner, _H + "table")
        cell = etree.SubElement(etree.SubElement(table, _H + "tr"), _H + "td")
        cell.text = draw(st.sampled_from(["status", "value & <value/>", "Æblegrød"]))
        etree.SubElement(cell, _H + "b").text = "id"
        inner.append(etree.Comment("in the narrative"))


def _prefixed(root: etree._Element) -> etree._Element:
    """The same document with FHIR's namespace bound to a prefix (f:Bundle, f:id ...)."""
    def copy(element: etree._Element) -> etree._Element:
        if not element.tag.startswith(_F):
            return etree.fromstring(etree.tostring(element, with_tail=False))
        new = etree.Element(element.tag, dict(element.attrib), nsmap={"f": FHIR_NS})
        new.text = element.text
        for child in element:
            new.append(copy(child) if isinstance(child.tag, str) else _with_tail(child))
            new[-1].tail = child.tail
        return new
    return copy(root)


def _with_tail(node: etree._Element) -> etree._Element:
    if isinstance(node, etree._Comment):
        return etree.Comment(node.text)
    return etree.ProcessingInstruction(node.target, node.text)  # type: ignore[attr-defined]


_ATTRIBUTE = re.compile(r'(\s(?!xmlns)[\w:.-]+=")([^"]*)(")')


def _character_references(draw: st.DrawFn, text: str) -> str:
    """Letters and digits of attribute values written as character references (&#109; &#x6D;)."""
    def reference(match: re.Match[str]) -> str:
        value = "".join(part if part.startswith("&") else "".join(
            f"&#{ord(c)};" if c.isalnum() and n % 3 == 0 else f"&#x{ord(c):X};" if c.isalnum() and n % 3 == 1
            else c for n, c in enumerate(part)) for part in re.split(r"(&[^;]*;)", match[2]))
        return match[1] + value + match[3]
    chosen = draw(st.integers(0, 7))
    return _ATTRIBUTE.sub(lambda m: reference(m) if hash(m[2]) % 8 == chosen or chosen == 0 else m[0], text)


_ENCODINGS = ("UTF-8", "UTF-16", "UTF-16LE", "UTF-16BE", "ISO-8859-1", "UTF-8-SIG")


# more than the kilobyte medcom first looks at to sort a document, before the root element
_LONG_PROLOG = "<!-- " + "exported by a system that says a lot " * 30 + "-->\n<?export batch='1'?>\n"


@st.composite
def legal(draw: st.DrawFn) -> tuple[int, bytes]:
    """An example, and the same message written otherwise as FHIR XML allows."""
    index = draw(st.integers(0, len(EXAMPLES) - 1))
    root = etree.fromstring(_plain(index)[0])
    for change in draw(st.lists(st.sampled_from([_comments, _whitespace, _schema_location, _narrative]),
                                max_size=4, unique=True)):
        change(draw, root)
    if draw(st.booleans()):
        root = _prefixed(root)
    text = etree.tostring(root, encoding="unicode")
    if draw(st.booleans()):
        text = _character_references(draw, text)
    encoding = draw(st.sampled_from(_ENCODINGS))
    declared = encoding.removesuffix("-SIG").replace("LE", "").replace("BE", "") if encoding != "UTF-16LE" \
        else encoding
    declaration = f'<?xml version="1.0" encoding="{declared}"?>\n' if draw(st.booleans()) or \
        encoding.startswith("ISO") or encoding.endswith(("LE", "BE")) else ""
    declaration += draw(st.sampled_from(["", "<!-- exported -->\n", _LONG_PROLOG]))
    codec = {"UTF-16": "utf-16", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be", "ISO-8859-1": "latin-1",
             "UTF-8-SIG": "utf-8-sig"}.get(encoding, "utf-8")
    return index, (declaration + text).encode(codec, "xmlcharrefreplace")


@settings(max_examples=max(20, TOTAL // 4), **SETTINGS)
@given(case=legal())
def test_a_legal_variation_gives_the_plain_xmls_findings(case: tuple[int, bytes]) -> None:
    index, variant = case
    assert tuple(_keys(variant)) == _plain(index)[1]


# ---- illegal variations: FHIR XML forbids them --------------------------------------------------------------


def _swap(draw: st.DrawFn, root: etree._Element) -> None:
    parents = [p for p in _fhir(root) if any(a.tag != b.tag for a, b in zip(_kids(p), _kids(p)[1:], strict=False))]
    kids = _kids(draw(st.sampled_from(parents)))
    first = draw(st.sampled_from([i for i in range(len(kids) - 1) if kids[i].tag != kids[i + 1].tag]))
    kids[first].addprevious(kids[first + 1])


def _split_list(draw: st.DrawFn, root: etree._Element) -> None:
    """Another element moved between two items of a list."""
    places = [(p, i) for p in _fhir(root) for i, (a, b) in enumerate(zip(_kids(p), _kids(p)[1:], strict=False))
              if a.tag == b.tag and len({k.tag for k in _kids(p)}) > 1]
    parent, index = draw(st.sampled_from(places))
    kids = _kids(parent)
    other = draw(st.sampled_from([k for k in kids if k.tag != kids[index].tag]))
    kids[index].addnext(other)


def _unknown(draw: st.DrawFn, root: etree._Element) -> None:
    parent = draw(st.sampled_from(_fhir(root)))
    etree.SubElement(parent, _F + draw(st.sampled_from(["nonsense", "resourceType", "_status", "div"])),
                     value="x")


def _other_namespace(draw: st.DrawFn, root: etree._Element) -> None:
    element = draw(st.sampled_from(_fhir(root)))
    element.tag = "{urn:example:other}" + etree.QName(element).localname


def _text(draw: st.DrawFn, root: etree._Element) -> None:
    element = draw(st.sampled_from(_fhir(root)))
    where = draw(st.sampled_from(["text", "tail", "cdata"]))
    if where == "tail" and _kids(element):
        _kids(element)[-1].tail = "stray text"
    elif where == "cdata":
        element.text = etree.CDATA("stray text")
    else:
        element.text = "stray text"


def _value_on_complex(draw: st.DrawFn, root: etree._Element) -> None:
    candidates = _complex(root) + _containers(root) + [r for r in _fhir(root) if _is_resource(r)]
    draw(st.sampled_from(candidates)).set("value", "x")


def _id_as_element(draw: st.DrawFn, root: etree._Element) -> None:
    element = draw(st.sampled_from(_complex(root)))
    if etree.QName(element).localname == "extension" and draw(st.booleans()):
        url = element.attrib.pop("url")
        etree.SubElement(element, _F + "url", value=url)
        element.insert(0, element[-1])
    else:
        element.insert(0, etree.Element(_F + "id", value="d1"))


def _empty(draw: st.DrawFn, root: etree._Element) -> None:
    element = draw(st.sampled_from(_primitives(root) + _complex(root)))
    for child in list(element):
        element.remove(child)
    element.attrib.pop("value", None)
    element.text = None


def _two_resources(draw: st.DrawFn, root: etree._Element) -> None:
    holder = draw(st.sampled_from(_containers(root)))
    extra = etree.fromstring(etree.tostring(_kids(holder)[0]))
    holder.insert(draw(st.integers(0, 1)), extra)


def _resource_misplaced(draw: st.DrawFn, root: etree._Element) -> None:
    parent = draw(st.sampled_from([e for e in _fhir(root) if e not in _containers(root)]))
    patient = etree.SubElement(parent, _F + draw(st.sampled_from(["Patient", "Basic", "Bundle"])))
    etree.SubElement(patient, _F + "id", value="p1")


ILLEGAL: list[Callable[[st.DrawFn, etree._Element], None]] = [
    _swap, _split_list, _unknown, _other_namespace, _text, _value_on_complex, _id_as_element, _empty,
    _two_resources, _resource_misplaced]


@settings(max_examples=max(30, TOTAL // 3), **SETTINGS)
@given(data=st.data(), index=st.integers(0, len(EXAMPLES) - 1), change=st.sampled_from(ILLEGAL))
def test_a_form_fhir_xml_forbids_is_an_error(data: st.DataObject, index: int, change) -> None:  # noqa: ANN001
    plain, _ = _plain(index)
    root = etree.fromstring(plain)
    change(data.draw, root)
    variant = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert _errors(variant) - _errors(plain), change.__name__


@pytest.mark.parametrize("declaration", ["<!DOCTYPE Bundle>", '<!DOCTYPE Bundle [<!ENTITY t "message">]>',
                                         '<!DOCTYPE Bundle SYSTEM "http://example.org/fhir.dtd">'])
def test_a_doctype_is_refused_and_nothing_read(declaration: str) -> None:
    xml = _plain(0)[0].replace(b"?>\n", f"?>\n{declaration}\n".encode(), 1)
    parsed = parse(xml, "m.xml")
    assert parsed.resource is None and [f.rule for f in parsed.findings] == [F_XML]
    assert [k[0] for k in _keys(xml)] == [F_XML]


# ---- primitive values in the wrong lexical form ------------------------------------------------------------

_GOOD = {"Boolean": "true", "Integer": "7", "Decimal": "1.50", "Date": "2020-02-29", "DateTime": "2020-02-29T10:00:00Z",
         "Instant": "2020-02-29T10:00:00.5+01:00", "Code": "a code", "PositiveInt": "1", "Id": "a-b.1"}
_BAD = [("Boolean", v) for v in ["True", "1", "yes", " true", ""]] \
    + [("Integer", v) for v in ["01", "+1", "1.0", " 1", "1 ", "1_0", "١", "1e2", "0x1"]] \
    + [("PositiveInt", v) for v in ["0", "01", "+1"]] \
    + [("Decimal", v) for v in [".5", "1.", "+1", "01.5", "1_0", " 1", "1 ", "١٢", "NaN", "Infinity", "1e"]] \
    + [("Date", v) for v in ["2020-1-01", "2020-02-30", "20200101", "2020-01-01T00:00:00", " 2020"]] \
    + [("DateTime", v) for v in ["2020-01-01T10:00", "2020-01-01T10:00:00", "2020-01-01 10:00:00Z", "2020-13"]] \
    + [("Instant", v) for v in ["2020-01-01", "2020-01-01T10:00:00", "2020-01-01T24:00:00Z"]] \
    + [("Code", v) for v in ["a  code", " a", "a ", "a&#10;&#10;b", ""]] \
    + [("Id", v) for v in ["a b", "a_b", "a" * 65 * 4, ""]]


def _with_extension(index: int, kind: str, value: str) -> tuple[bytes, bytes]:
    """An example with an extension of type `kind` on its first entry's resource: with a good value, and with
    `value` written in the XML (a character reference stays one)."""
    bundle = load(EXAMPLES[index])
    bundle["entry"][0]["resource"].setdefault("extension", []).insert(0, {"url": "urn:medcom:test:hostile",
                                                                           f"value{kind}": "@@"})
    good = to_xml(bundle)
    return (good.replace(b'value="@@"', f'value="{_GOOD[kind]}"'.encode()),
            good.replace(b'value="@@"', f'value="{value}"'.encode()))


@pytest.mark.parametrize(("kind", "value"), _BAD, ids=[f"{k}-{v!r}" for k, v in _BAD])
def test_a_value_attribute_in_the_wrong_lexical_form_is_an_error(kind: str, value: str) -> None:
    """Before, Python's int() and Decimal() read '01', '+1' (decimal), '.5', '1.', '1_0', ' 1' and Arabic-Indic
    digits, and the message was accepted."""
    good, bad = _with_extension(0, kind, value)
    assert _keys(good) == list(_plain(0)[1])
    path = "Bundle.entry[0].resource.extension[0].value" + kind
    assert any(key[2] == path for key in _errors(bad) - _errors(good)), _keys(bad)


@settings(max_examples=max(10, TOTAL // 10), **SETTINGS)
@given(index=st.integers(0, len(EXAMPLES) - 1), case=st.sampled_from(_BAD))
def test_a_wrong_lexical_form_is_an_error_in_every_example(index: int, case: tuple[str, str]) -> None:
    good, bad = _with_extension(index, *case)
    assert _keys(good) == list(_plain(index)[1])
    assert _errors(bad) - _errors(good)


# ---- text and attributes where the earlier checks did not look --------------------------------------------


@pytest.mark.parametrize(("old", "new"), [
    ("<resource>", "<resource>stray"),
    ("<resource>", '<resource id="r1">'),
    ("<resource>", '<resource value="x">'),
    ("</MessageHeader>", "</MessageHeader>stray"),
    ("<meta>", "<meta><!-- c -->stray"),
    ('<type value="message"/>', '<type value="message"><extension url="urn:x"><valueString value="v"/>'
                                '</extension>stray</type>'),
    ('<type value="message"/>', '<type value="message"><!-- c -->stray</type>'),
], ids=["resource-text", "resource-id", "resource-value", "resource-tail", "after-comment", "after-extension",
        "primitive-after-comment"])
def test_text_or_an_attribute_on_a_resources_holder_or_after_a_child_is_an_error(old: str, new: str) -> None:
    """Before, a resource holder's text and attributes, and text after a comment or a primitive's extension,
    were never looked at, and the message was accepted."""
    plain = to_xml(load(ADMISSION))
    assert _errors(plain) == set()
    assert _errors(plain.replace(old.encode(), new.encode(), 1))


# ---- the command line: validate and replay ----------------------------------------------------------------


def _cli_findings(command: str, data: bytes) -> tuple[int, list[tuple[str, str | None]]]:
    """Exit code, and each finding's rule and path, of `medcom COMMAND` over a folder with one message (one per
    run: replay counts a message id seen again as a duplicate)."""
    with tempfile.TemporaryDirectory(prefix="medcom-fhirxml-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        (folder / "m.xml").write_bytes(data)
        report = Path(tmp) / "report.json"
        result = medcom(command, folder, "--format", "json", "--out", report)
        document = json.loads(report.read_text(encoding="utf-8"))
    if command == "validate":
        found = [f for entry in document["files"] for f in entry["findings"]]
    else:
        found = document["input_findings"]
    return result.exit_code, sorted((f["rule"], f["xpath"]) for f in found)


@settings(max_examples=max(6, TOTAL // 25), **SETTINGS)
@given(case=legal(), data=st.data(), change=st.sampled_from(ILLEGAL), command=st.sampled_from(["validate",
                                                                                                "replay"]))
def test_validate_and_replay_judge_variations_as_validate_bytes_does(case: tuple[int, bytes], data: st.DataObject,
                                                                      change, command: str) -> None:  # noqa: ANN001
    index, variant = case
    plain = _plain(index)[0]
    root = etree.fromstring(plain)
    change(data.draw, root)
    broken = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    code, found = _cli_findings(command, plain)
    assert _cli_findings(command, variant) == (code, found)
    broken_code, broken_found = _cli_findings(command, broken)
    assert broken_code == 1 and {f for f in broken_found if f[0].startswith("F-")} - set(found)


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_a_long_prolog_before_a_fhir_root_is_read_as_fhir(codec: str) -> None:
    """Before, FHIR XML whose first kilobyte was comments was sorted as not FHIR: M-VERSION, 'not a MedCom message
    medcom knows' (a false reject); an OIOXML document with such a prolog is still sorted as OIOXML."""
    plain = _plain(0)[0]
    text = plain.decode().replace("<?xml version='1.0' encoding='UTF-8'?>\n", "")
    long = (f'<?xml version="1.0" encoding="{codec.upper()}"?>\n' + _LONG_PROLOG + text).encode(codec)
    assert _cli_findings("validate", long) == _cli_findings("validate", plain)
    oioxml = (ROOT / "examples" / "log").glob("*.xml")
    letter = next(p.read_bytes() for p in sorted(oioxml) if b"hl7.org/fhir" not in p.read_bytes())
    assert not looks_like_fhir(letter.replace(b"?>", b"?>" + _LONG_PROLOG.encode(), 1))


def test_a_short_document_cut_before_its_roots_start_tag_ends_is_sorted_without_the_fhir_stack() -> None:
    """A log's truncated OIOXML document (the whole of it in the first kilobyte) is still surely not FHIR: no
    0.8 s import of the FHIR stack in an OIOXML-only worker for it."""
    from medcom.formats.read import _surely_not_fhir

    assert _surely_not_fhir(b"<?xml version='1.0' encoding='windows-1252'?>\n<Emessage xmlns=\"htt")
    assert not looks_like_fhir(b"<?xml version='1.0'?>\n<!-- c --><Bundle xmlns=\"http://hl7")
    assert not _surely_not_fhir(b"<?xml version='1.0'?>\n<!--" + b" " * 2000 + b"-->\n<Bundle/>")
