"""OIOXML reading made cheaper (issue 23) reads what it read before: `read_emessage` against the reading kept in
helpers/oioxml_before.py, as validate and as replay read, on every OIOXML message of the examples and the test
data and on hypothesis mutants of them (elements dropped, doubled, moved, renamed, put in another namespace,
comments between them, texts replaced with wrong, empty or DST-gap values). Same messages, same findings (rule,
text, line, path, code, order), same descriptions and the same letter content."""

from __future__ import annotations

import copy
from functools import cache

from helpers import EXAMPLES, ROOT
from helpers import oioxml_before as before
from helpers.samples import one_of_each
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml import is_emessage, read_emessage
from medcom.formats.oioxml.names import namespace_of
from medcom.formats.oioxml.wrappers import unwrap, wrapper_kind
from medcom.formats.xmlsafe import UnsafeXMLError, parse_bytes

VALIDATE = ReadOptions(letter_content=False)
REPLAY = ReadOptions(sent_before_event=False)
TIGHT = ReadOptions(sent_before_event=False, max_findings=2)  # the per-letter cap, counted past two findings


def _emessages(data: bytes, depth: int = 0) -> list[bytes]:
    """The Emessage documents in one file (unwrapped from VANS and SBDH)."""
    try:
        root = parse_bytes(data).getroot()
    except UnsafeXMLError:
        return []
    if wrapper_kind(root) is not None and depth < 3:
        return [inner for payload in unwrap(root, "x") if payload.data is not None
                for inner in _emessages(payload.data, depth + 1)]
    return [data] if is_emessage(root) else []


@cache
def corpus() -> tuple[bytes, ...]:
    files = sorted({*EXAMPLES.rglob("*.xml"), *(ROOT / "tests" / "data" / "oioxml").rglob("*.xml")})
    documents = [doc for path in files for doc in _emessages(path.read_bytes())]
    documents += [doc for doc in one_of_each().values() if doc.lstrip().startswith(b"<")]
    return tuple(documents)


def _same(data: bytes) -> None:
    """Both readings of one document, under each set of options, compared whole."""
    try:
        parse_bytes(data)
    except UnsafeXMLError:
        return
    for options in (VALIDATE, REPLAY, TIGHT):
        now = read_emessage(parse_bytes(data), "doc.xml", options)
        then = before.read_emessage(parse_bytes(data), "doc.xml", options)
        assert now == then, (options, data.decode("utf-8", "replace")[:3000])


def test_the_corpus_reads_as_before() -> None:
    documents = corpus()
    assert len(documents) > 40
    for data in documents:
        _same(data)


_NAMES = ("Date", "Time", "TimeWithSec", "Sent", "Admission", "Discharge", "EANIdentifier", "Identifier",
          "IdentifierCode", "CivilRegistrationNumber", "Sender", "Receiver", "Letter", "Patient", "Envelope",
          "OriginalLetter", "OriginalEmessage", "FurtherCoordination", "DischargeConference", "AnswerTo",
          "OrganisationName", "DepartmentName", "VersionCode", "AcknowledgementCode", "Local_Elements")
_TEXTS = ("", "  ", "0101011234", "0101011230", "010101-1230", "5790000121526", "5790000121527", "57900001215",
          "kommunenummer", "851", "999", "0851", "2025-03-30", "2024-10-27", "02:30", "02:30:00", "06:51:00+01:00",
          "1979-02-30", "pluspositivkvitt", "XD2030C", "XD9999C", "DKKMDKMDNET", "١٢٣")
_NAMESPACES = ("", "urn:oio:medcom:municipality:1.0.0", "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/",
               "urn:other")


def _mutate(root: etree._Element, draw: st.DrawFn) -> None:
    elements = list(root.iter(etree.Element))
    el = draw(st.sampled_from(elements))
    parent = el.getparent()
    move = draw(st.sampled_from(("drop", "double", "move", "rename", "namespace", "comment", "text", "text")))
    if move == "text" or parent is None:
        el.text = draw(st.sampled_from(_TEXTS))
    elif move == "drop":
        parent.remove(el)
    elif move == "double":
        el.addnext(copy.deepcopy(el))
    elif move == "move":
        target = draw(st.sampled_from([e for e in elements if e is not el and el not in e.iterancestors()]))
        target.insert(draw(st.integers(0, len(target))), el)
    elif move in ("rename", "namespace"):
        namespace = etree.QName(el).namespace if move == "rename" else draw(st.sampled_from(_NAMESPACES))
        name = draw(st.sampled_from(_NAMES)) if move == "rename" else etree.QName(el).localname
        el.tag = f"{{{namespace}}}{name}" if namespace else name
    else:
        el.addprevious(etree.Comment("between"))


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    root = parse_bytes(draw(st.sampled_from(corpus()))).getroot()
    for _ in range(draw(st.integers(1, 4))):
        _mutate(root, draw)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_mutants_read_as_before(data: bytes) -> None:
    _same(data)


def test_a_holder_with_two_dates_is_checked_for_each_as_before() -> None:
    """Each Date of a holder is a T-2 check of the holder (a holder read once now): two findings, as before."""
    data = next(d for d in corpus() if b"<Sent>" in d and b"2005/08/07" in d)
    root = parse_bytes(data).getroot()
    sent = next(root.iter("{*}Sent"))
    for child in sent:
        child.text = "2025-03-30" if etree.QName(child).localname == "Date" else "02:30"
    sent.append(copy.deepcopy(sent[0]))
    mutant = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    gap = [f for f in read_emessage(parse_bytes(mutant), "x", VALIDATE)[0].findings
           if f.rule == "M-TIME" and "does not exist" in f.text]
    assert len(gap) == 2
    _same(mutant)


def test_a_sender_without_its_location_number_is_named_by_the_next_sender_as_before() -> None:
    """The first Sender has no EANIdentifier, a second one has: the message's sender is the second's number (as
    the path <Sender>/<EANIdentifier> finds it), the letter's content keeps the first Sender's (none)."""
    data = next(d for d in corpus() if b"<Sender>" in d and b"NotificationOfAdmission" in d)
    root = parse_bytes(data).getroot()
    sender = next(root.iter("{*}Sender"))
    second = copy.deepcopy(sender)
    sender.remove(next(sender.iter("{*}EANIdentifier")))
    next(second.iter("{*}EANIdentifier")).text = "5790000121526"
    sender.addnext(second)
    mutant = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    for options in (VALIDATE, REPLAY):
        message = read_emessage(parse_bytes(mutant), "x", options)[0]
        assert message.sender == "5790000121526"
    assert read_emessage(parse_bytes(mutant), "x", REPLAY)[0].content.sender.ean is None
    _same(mutant)


_C = "{urn:oio:medcom:municipality:1.0.0}"
# A Date's holder as the fast read of its wall time (checks._wall_time: the Date first, one Time or TimeWithSec
# after it, nothing else) must see it or leave it to the long way: what each shape holds, by local name.
_HOLDER_SHAPES = (
    ("Date", "Time"), ("Date", "TimeWithSec"), ("Date", "Time:"), ("Date", "Time:", "TimeWithSec"),
    ("Date", "Time", "#comment"), ("#comment", "Date", "Time"), ("Date", "#comment", "Time"), ("Time", "Date"),
    ("Date",), ("Date", "Time", "Time"), ("Date", "TimeWithSec", "Time"), ("Date", "Time", "#pi"),
    ("Date", "Other"), ("Date", "Time", "Date"), ("Date", f"{_C}Time"), ("Date:", "Time"), ("Date", "Time+"),
    ("Time", "Date", "Time"), ("TimeWithSec", "Date", "Time"), ("Other", "Date", "Time"),
)


def _holder_shaped(data: bytes, shape: tuple[str, ...], day: str, clock: str) -> bytes:
    """`data` with every holder of a Date holding `shape` instead ('Time:' an empty Time, 'Time+' a Time with a
    child element, '#comment' / '#pi' such a node; a name in braces keeps its own namespace). The first Time or
    TimeWithSec holds `clock`, any later one 23:59:00: which one is read shows."""
    root = parse_bytes(data).getroot()
    for holder in {d.getparent() for d in root.iter("{*}Date")}:
        namespace = etree.QName(holder).namespace
        clocks = iter((clock, *["23:59:00"] * len(shape)))
        for child in list(holder):
            holder.remove(child)
        for part in shape:
            if part == "#comment":
                holder.append(etree.Comment("between"))
            elif part == "#pi":
                holder.append(etree.ProcessingInstruction("note", "between"))
            else:
                name = part.rstrip(":+")
                tag = name if name.startswith("{") else f"{{{namespace}}}{name}" if namespace else name
                el = etree.SubElement(holder, tag)
                local = etree.QName(el).localname
                el.text = "" if part.endswith(":") else day if local == "Date" else next(clocks)
                if part.endswith("+"):
                    etree.SubElement(el, tag).text = "1"
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def test_every_shape_of_a_date_holder_reads_as_before() -> None:
    """Each holder shape, with a normal time, one in the spring gap and one in the autumn fold, in the generations
    of the corpus: the same wall times (the letter's content), T-2 findings and descriptions as the older reader's."""
    documents = [next(d for d in corpus() if generation in d)
                 for generation in (b"2005/08/07", b"2006/07/01", b"2007/02/01", b"municipality:1.0.3")]
    for data in documents:
        for shape in _HOLDER_SHAPES:
            for day, clock in (("2025-01-02", "06:50:00"), ("2025-03-30", "02:30"), ("2024-10-27", "02:30:00")):
                _same(_holder_shaped(data, shape, day, clock))


@given(st.one_of(st.none(), st.sampled_from(_NAMESPACES[1:]),
                 st.from_regex(r"[a-z]{1,5}:[a-z0-9/.:]{0,20}", fullmatch=True)), st.sampled_from(_NAMES))
def test_the_namespace_of_a_root_is_qnames(namespace: str | None, name: str) -> None:
    """`namespace_of` slices the tag where `etree.QName(el).namespace` parsed it (detecting a generation or a
    wrapper by its root's namespace)."""
    el = etree.Element(f"{{{namespace}}}{name}" if namespace else name)
    assert namespace_of(el) == etree.QName(el).namespace
