"""Hostile inputs against the format layer (issue 19, the parser's classes): no parser reads anything but its
input, in any encoding; findings, memory and time proportional to the input; odd digits, names and archives are
findings, never a traceback; JSON is known as JSON."""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import suppress
from pathlib import Path

import pytest
from helpers import ROOT
from helpers.cli import invoke, no_traceback
from helpers.fifo import watched_fifo
from lxml import etree

from medcom.formats.messages import ReadOptions
from medcom.formats.oioxml.letters import Letter
from medcom.formats.oioxml.schemas import SchemaError, user_schemas
from medcom.formats.oioxml.wrappers import sbdh, vans_envelope
from medcom.formats.read import read_document
from medcom.formats.xmlsafe import UnsafeXMLError, parse_bytes, safe_parser

LOG = ROOT / "examples" / "log"
GOOD = next(LOG.glob("E1-*-care_plan_sent.xml")).read_bytes()
INVALID = (ROOT / "examples" / "invalid" / "M-CPR-no-such-date.xml").read_bytes()


def report(*args: str) -> dict:
    return json.loads(no_traceback(invoke(*args, "--format", "json")).stdout)


# ---- 1. no DTD subset or entity is ever loaded, whatever the encoding ----------------------------------------


def _pe_document(target: Path, declared: str | None) -> str:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    return (declaration + f'<!DOCTYPE Emessage [<!ENTITY % pe SYSTEM "file://{target}"> %pe;]>'
            "<Emessage>&leak;</Emessage>")


# (declared encoding, how the bytes are made): every encoding family libxml2 reads, with and without a BOM
# or a declaration (EBCDIC libxml2 refuses by itself; it is still refused before).
ENCODINGS = [("UTF-8", "utf-8"), (None, "utf-8"), ("UTF-16", "utf-16"), (None, "utf-16-be"),
             ("UTF-16", "utf-16-le"), ("UTF-32", "utf-32"), (None, "utf-32"), (None, "utf-32-be"),
             ("UCS-4", "utf-32-le"), ("UTF-7", "utf-7"), ("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252"),
             ("Shift_JIS", "shift_jis"), ("IBM037", "cp037"), ("US-ASCII", "ascii")]


def _encoded(text: str, declared: str | None, codec: str) -> bytes:
    if codec == "utf-7":  # the declaration in ASCII, then '<' spelled +ADw-
        head, _, body = text.partition("?>")
        return (head + "?>").encode("ascii") + body.encode("utf-7").replace(b"<", b"+ADw-")
    return text.encode(codec)


@pytest.mark.parametrize(("declared", "codec"), ENCODINGS)
def test_the_parser_itself_opens_no_external_parameter_entity(tmp_path: Path, declared: str | None,
                                                              codec: str) -> None:
    """The parser, not a scan for '<!DOCTYPE', is the guarantee: fed directly, in every encoding, it opens
    neither a FIFO nor a regular file (which would in turn name the FIFO) that a parameter entity points at."""
    chain = tmp_path / "chain.dtd"
    with watched_fifo(tmp_path / "fifo") as opened:
        chain.write_text(f'<!ENTITY % q SYSTEM "file://{tmp_path / "fifo"}"> %q;')
        for target in (tmp_path / "fifo", chain):
            data = _encoded(_pe_document(target, declared), declared, codec)
            with suppress(etree.XMLSyntaxError):
                etree.fromstring(data, safe_parser())
            with pytest.raises(UnsafeXMLError):
                parse_bytes(data)
    assert not opened.is_set(), (declared, codec)


@pytest.mark.parametrize(("declared", "codec", "why"), [
    ("UTF-32", "utf-32", "UTF-32"), (None, "utf-32-be", "UTF-32"), ("UTF-7", "utf-7", "UTF-7"),
    ("IBM037", "cp037", "EBCDIC"), ("Shift_JIS", "shift_jis", "Shift_JIS"), ("UCS-4", "utf-32-le", "UTF-32")])
def test_an_encoding_a_message_has_no_reason_to_use_is_an_m_xml_finding(declared: str | None, codec: str,
                                                                        why: str) -> None:
    text = (f'<?xml version="1.0" encoding="{declared}"?>' if declared else "") + "<Emessage/>"
    (message,) = read_document(_encoded(text, declared, codec), "odd.xml")
    (finding,) = message.findings
    assert finding.rule == "M-XML" and why in finding.text and "UTF-8, UTF-16, ISO-8859-1 or windows-1252" in \
        finding.text


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "ISO-8859-1", "windows-1252", "US-ASCII"])
def test_the_accepted_encodings_still_parse(encoding: str) -> None:
    text = f'<?xml version="1.0" encoding="{encoding}"?><Emessage>x</Emessage>'
    assert parse_bytes(text.encode({"US-ASCII": "ascii"}.get(encoding, encoding))).getroot().text == "x"


@pytest.mark.parametrize("wrapper", ["vans", "sbdh", "sbdh-vans"])
@pytest.mark.parametrize(("declared", "codec"), [("UTF-32", "utf-32"), (None, "utf-32-be"), ("UTF-7", "utf-7"),
                                                 ("UTF-8", "utf-8"), ("UTF-16", "utf-16")])
def test_a_wrapped_payload_opens_no_entity_in_validate_and_replay(tmp_path: Path, wrapper: str,
                                                                  declared: str | None, codec: str) -> None:
    with watched_fifo(tmp_path / "fifo") as opened:
        payload = _encoded(_pe_document(tmp_path / "fifo", declared), declared, codec)
        data = payload
        if wrapper in ("vans", "sbdh-vans"):
            data = vans_envelope(data, envelope_id="E1", sent="2025-01-06T10:00:00", sender_ean="5790000000001",
                                 receiver_ean="5790000000002", name="XDIS16", version="XD1634C")
        if wrapper.startswith("sbdh"):
            data = sbdh(data, instance_id="I1", created="2025-01-06T10:00:00", sender_gln="5790000000001",
                        receiver_gln="5790000000002", standard="x", type_version="1", doc_type="x")
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "m.xml").write_bytes(data)
        for command in ("validate", "replay"):
            result = report(command, str(tmp_path / "in"))
            assert result["inputs"]["messages"] == 1 and result["inputs"]["rejected"] == 1, command
    assert not opened.is_set()


def test_a_schema_folder_with_a_fifo_is_a_usage_error_not_a_hang(tmp_path: Path) -> None:
    folder = tmp_path / "xsd"
    folder.mkdir()
    with watched_fifo(folder / "a.xsd") as opened:
        with pytest.raises(SchemaError, match="FIFO"):
            user_schemas(str(folder))
        result = no_traceback(invoke("validate", str(LOG), "--schemas", str(folder)))
        assert result.exit_code == 2 and "a.xsd" in result.stderr
    assert not opened.is_set()


def test_a_schema_that_includes_a_fifo_or_a_file_outside_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "xsd"
    folder.mkdir()
    (tmp_path / "outside.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
    for included in ("inc.part", "../outside.xsd"):  # not *.xsd: only reached by the include
        (folder / "main.xsd").write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
            f'<xs:include schemaLocation="{included}"/><xs:element name="Emessage" type="xs:string"/></xs:schema>')
        with watched_fifo(folder / "inc.part") as opened, pytest.raises(SchemaError, match="main.xsd"):
            user_schemas.__wrapped__(str(folder))
        (folder / "inc.part").unlink()
        assert not opened.is_set()


def test_a_dtd_in_a_schema_file_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "xsd"
    folder.mkdir()
    with watched_fifo(tmp_path / "fifo") as opened:
        (folder / "a.xsd").write_text(f'<!DOCTYPE x [<!ENTITY % pe SYSTEM "file://{tmp_path / "fifo"}"> %pe;]>'
                                      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                                      '<xs:element name="Emessage" type="xs:string"/></xs:schema>')
        with pytest.raises(SchemaError, match="DTD"):
            user_schemas.__wrapped__(str(folder))
    assert not opened.is_set()


# ---- 2. findings of the envelope kept once, not once per letter ---------------------------------------------

TWO_LETTERS = ROOT / "tests" / "data" / "oioxml" / "34C" / "Emessage_two_letters.xml"


def _broken_envelope(errors: int, letters: int) -> bytes:
    """An Emessage whose Envelope has `errors` schema errors (attributes it may not have), then `letters`
    copies of the sample's first letter."""
    root = parse_bytes(TWO_LETTERS.read_bytes()).getroot()
    envelope, first = root[0], root[1]
    for i in range(errors):
        envelope.set(f"a{i}", "x")
    for extra in list(root)[1:]:
        root.remove(extra)
    for _ in range(letters):
        root.append(etree.fromstring(etree.tostring(first)))
    return etree.tostring(root, encoding="iso-8859-1")


def test_envelope_findings_are_kept_once_and_every_letter_is_still_rejected() -> None:
    errors, letters = 150, 300
    messages = read_document(_broken_envelope(errors, letters), "env.xml")
    assert len(messages) == letters and not any(m.accepted for m in messages)
    total = sum(len(m.findings) for m in messages)
    assert total < 100 + 10 + 5 * letters, total  # before: errors x letters = 45,000
    first, second = messages[0], messages[1]
    assert sum(f.rule == "M-SCHEMA" for f in first.findings) == 101  # 100 listed and one that counts the rest
    assert "50 more M-SCHEMA" in first.findings[100].text
    (said,) = [f for f in second.findings if f.rule == "M-SCHEMA"]
    assert f"{errors} M-SCHEMA errors" in said.text and "letter 1" in said.text


def test_a_broken_envelope_in_validate_and_replay_counts_every_letter_and_answers_each_negatively(
        tmp_path: Path) -> None:
    letters = 40
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "env.xml").write_bytes(_broken_envelope(60, letters))
    result = report("validate", str(tmp_path / "in"), "--receipts", str(tmp_path / "receipts"))
    assert result["inputs"] == {"messages": letters, "accepted": 0, "rejected": letters}
    assert {f["receipt"]["kind"] for f in result["files"]} == {"negative"}
    assert sum(len(f["findings"]) for f in result["files"]) < 100 + 10 + 5 * letters
    replayed = report("replay", str(tmp_path / "in"))
    assert replayed["inputs"]["messages"] == letters and replayed["inputs"]["rejected"] == letters
    assert len(json.dumps(replayed)) < 200_000  # before: 60 x 40 findings (about 1 MB)


def test_replay_builds_at_most_the_listing_limit_of_findings_per_message() -> None:
    from medcom.formats.inputs import InputDocument
    from medcom.formats.messages import ReadOptions
    from medcom.replay.load import messages_of

    read = messages_of(InputDocument("env.xml", _broken_envelope(500, 1)), ReadOptions(max_findings=20))
    assert read.rejected == 1 and len(read.findings) <= 22


# ---- 3. broken FHIR JSON is scanned in linear time ------------------------------------------------------------

FLOOD_HEAD = '{"resourceType":"Bundle","id":"'


def test_the_depth_scan_takes_an_unterminated_string_in_one_step() -> None:
    """Why the scan is linear: an unterminated string is one token from its quote to the end of the text, so the
    scan never starts again inside it (the old pattern failed there and retried from every escaped quote: O(n^2)).
    A terminated string is one token too, and a quote inside a string never starts one."""
    from medcom.formats.fhir.jsonread import _BRACKETS

    for tail in ('\\"' * 5000, '\\"' * 5000 + "\\", "x" * 5000 + '\\"'):
        text = FLOOD_HEAD + tail
        tokens = list(_BRACKETS.finditer(text))
        assert [t.group()[0] for t in tokens] == ["{", '"', '"', '"', '"'] and tokens[-1].end() == len(text)
    tokens = [t.group() for t in _BRACKETS.finditer('{"a":"x\\"{[","b":[1]}')]
    assert tokens == ["{", '"a"', '"x\\"{["', '"b"', "[", "]", "}"]


def test_an_escaped_quote_flood_is_one_f_json_finding_whatever_its_size() -> None:
    """Run apart with a generous timeout that only catches a hang: 4 MB of escaped quotes (the old scan: 80 KB
    took 69 s, 160 KB 240 s, 4 MB would take days)."""
    import subprocess
    import sys

    program = ("import json, sys\nfrom medcom.formats.read import read_document\n"
               f"data = ({FLOOD_HEAD!r} + '\\\\\"' * 2_000_000).encode()\n"
               "(m,) = read_document(data, 'flood.json')\n"
               "print(json.dumps([f.rule for f in m.findings]), max(len(f.text) for f in m.findings))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=True)
    rules, longest = done.stdout.split()
    assert json.loads(rules) == ["F-JSON"] and int(longest) < 200


# ---- 4. a long FHIR JSON string costs memory in proportion to its size ------------------------------------------


@pytest.mark.parametrize("value", ["x" * 2_000_000, '\\"' * 1_000_000, "\\u00e6" * 300_000])
def test_a_long_string_costs_memory_in_proportion(value: str) -> None:
    """Parsing and locating lines (asked for by any finding) for a document of one 2 MB string: a few times its
    size, measured by tracemalloc (which sees the regex engine's stacks). Before: 150 times its size."""
    import tracemalloc

    from medcom.formats.fhir.jsonread import read_json

    data = ('{"resourceType": "Bundle", "id": "' + value + '", "b": 1}').encode()
    tracemalloc.start()
    try:
        _, lines = read_json(data, max_bytes=10**8)
        assert lines.line(("b",)) == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 * len(data), peak / len(data)


def test_a_finding_quotes_a_long_value_cut() -> None:
    from medcom.formats.fhir import validate_bytes

    bundle = json.loads(next(LOG.glob("E1-*-admission_advice_sent.json")).read_bytes())
    bundle["zz" + "k" * 100_000] = 1
    bundle["type"] = "t" * 100_000
    findings = validate_bytes(json.dumps(bundle).encode(), "b.json").findings
    assert findings and max(len(f.text) for f in findings) < 400, [f.text[:100] for f in findings]
    duplicate = b'{"resourceType": "Bundle", "' + b"d" * 100_000 + b'": 1, "' + b"d" * 100_000 + b'": 2}'
    (finding,) = validate_bytes(duplicate, "d.json").findings
    assert finding.rule == "F-JSON" and len(finding.text) < 200


def test_an_oioxml_schema_finding_quotes_a_long_value_cut() -> None:
    root = parse_bytes(TWO_LETTERS.read_bytes()).getroot()
    root.xpath("//*[local-name()='Sent']/*[local-name()='Date']")[0].text = "2" * 200_000
    messages = read_document(etree.tostring(root, encoding="iso-8859-1"), "long.xml")
    texts = [f.text for m in messages for f in m.findings]
    assert any("2222...' (cut)" in t for t in texts) and max(map(len, texts)) < 600


# ---- 5. digits are ASCII digits -----------------------------------------------------------------------------


def _vans(size: str) -> bytes:
    data = vans_envelope(GOOD, envelope_id="E1", sent="2025-01-06T10:00:00", sender_ean="5790000000001",
                         receiver_ean="5790000000002", name="XDIS16", version="XD1634C")
    return data.replace(f"<SizeInBytes>{len(GOOD)}</SizeInBytes>".encode(), f"<SizeInBytes>{size}</SizeInBytes>"
                        .encode())


@pytest.mark.parametrize("size", ["²", "٣٤", "9" * 5000, "-1", "1e3"])
def test_a_vans_size_that_is_no_number_is_a_warning_and_the_batch_goes_on(tmp_path: Path, size: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xml").write_bytes(_vans(size))
    (tmp_path / "in" / "b.xml").write_bytes(INVALID)
    for command in ("validate", "replay"):
        result = report(command, str(tmp_path / "in"))
        assert result["inputs"]["messages"] == 2 and result["inputs"]["rejected"] == 1, command
    (message,) = read_document(_vans(size), "a.xml")
    assert message.accepted and any("SizeInBytes" in f.text and "not a number" in f.text for f in message.findings)


def test_digit_checks_take_ascii_digits_only() -> None:
    from medcom.formats.oioxml.checks import _looks_like_gln
    from medcom.identifiers import municipality_name
    from simulator.calibrate import _code

    assert municipality_name("²") is None and municipality_name("٨٥١") is None and municipality_name("851")
    assert _code("²") is None and _code("٨٥١") is None and _code("0851") == "851"
    assert not _looks_like_gln("٥" * 13) and _looks_like_gln("5790000000001")


@pytest.mark.parametrize("clock", ["11:02:00+01:00", "110200-0130", "11:02Z"])
@pytest.mark.parametrize("holder", [0, 2])  # the envelope's Sent, the letter's Admission
def test_a_time_with_a_utc_offset_is_a_schema_finding_not_a_traceback(clock: str, holder: int) -> None:
    """Python reads '110200-0130' as 11:02:00 at offset -01:30; an aware time made localize() and the "sent before
    the event" comparison raise (found by mutating messages). A MedCom time is a local wall time: one with an offset
    is malformed, which the schema says, and no time is read from it."""
    text = GOOD.decode("latin-1")
    at = [i for i in range(len(text)) if text.startswith("<m100:Time>", i)][holder] + len("<m100:Time>")
    data = (text[:at] + clock + text[text.index("</m100:Time>", at):]).encode("latin-1")
    for letter_content in (True, False):
        (message,) = read_document(data, "offset.xml", ReadOptions(letter_content=letter_content))
        assert not message.accepted and any(f.rule == "M-SCHEMA" and clock in f.text for f in message.findings)
    (message,) = read_document(data, "offset.xml")
    letter = message.content
    assert isinstance(letter, Letter) and (letter.sent is None if holder == 0 else "Admission" not in letter.times)


def _timeline(municipality: object) -> bytes:
    lines = (ROOT / "examples" / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["municipality"] = municipality
    return "\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]).encode() + b"\n"


@pytest.mark.parametrize("code", ["²", "9999", 9999, "٨٥١", "0"])
def test_a_timeline_municipality_that_is_no_code_is_m_municipality_and_build_goes_on(tmp_path: Path,
                                                                                   code: object) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(_timeline(code))
    for command in ("validate", "replay"):
        result = report(command, str(path))
        assert '"rule": "M-MUNICIPALITY"' in json.dumps(result), command
        assert result["events"]["accepted"] + result["events"]["rejected"] == result["events"]["lines"]
    built = no_traceback(invoke("build", str(path), "--out", str(tmp_path / "out")))
    assert built.exit_code in (0, 1, 2)


def test_a_timeline_municipality_that_is_a_code_is_accepted(tmp_path: Path) -> None:
    for code in ("851", 851, "0101"):
        path = tmp_path / "t.jsonl"
        path.write_bytes(_timeline(code))
        result = report("validate", str(path))
        assert "M-MUNICIPALITY" not in json.dumps(result), code


def _fhir_with_municipality(code: str) -> bytes:
    bundle = json.loads(next(LOG.glob("E1-*-admission_advice_sent.json")).read_bytes())
    header = bundle["entry"][0]["resource"]
    reference = header["destination"][0]["receiver"]["reference"]
    for entry in bundle["entry"]:
        if entry.get("fullUrl") == reference or reference.endswith(f"/{entry['resource'].get('id')}"):
            entry["resource"].setdefault("identifier", []).append(
                {"system": "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes", "value": code})
    return json.dumps(bundle).encode()


@pytest.mark.parametrize(("code", "wrong"), [("9999", True), ("²²²", True), ("٨٥١", True), ("851", False)])
def test_a_fhir_municipality_that_is_no_code_is_m_municipality(code: str, wrong: bool) -> None:
    (message,) = read_document(_fhir_with_municipality(code), "m.json")
    assert any(f.rule == "M-MUNICIPALITY" for f in message.findings) is wrong


# ---- 11. names are shown safely in every output ---------------------------------------------------------------


def _named_inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    with zipfile.ZipFile(folder / "log.zip", "w") as z:
        z.writestr("a\x01.xml", INVALID)
        z.writestr("b\nFORGED: all messages accepted\n.xml", GOOD)
        z.writestr("c\u202e\x85\x7f.xml", INVALID)
    (folder / "d\x01\x1b]0;pwned\x07.xml").write_bytes(INVALID)
    return folder


@pytest.mark.parametrize("command", ["validate", "replay"])
@pytest.mark.parametrize("fmt", ["junit", "text", "json", "html"])
def test_control_characters_in_names_are_escaped_in_every_format(tmp_path: Path, command: str, fmt: str) -> None:
    if command == "validate" and fmt == "html":
        return
    folder = _named_inputs(tmp_path)
    out = tmp_path / f"report.{fmt}"
    result = no_traceback(invoke(command, str(folder), "--format", fmt, "--out", str(out)))
    assert result.exit_code == 1, result.output
    text = out.read_text(encoding="utf-8")
    assert not any(line.startswith("FORGED") for line in text.splitlines())
    assert not set(text) & {"\x01", "\x07", "\x7f", "\x85", "\u202e"} and "\x1b]" not in text  # (text has colours)
    if fmt == "junit":
        etree.fromstring(text.encode())
    assert "a\\x01.xml" in text or "a\\\\x01.xml" in text


def test_printable_escapes_controls_and_undecodable_bytes() -> None:
    from medcom.formats.inputs import printable

    assert printable("a\x01b\nc\u202ed\udcff.xml") == "a\\x01b\\nc\\u202ed\\xff.xml"
    assert printable("æøå.xml") == "æøå.xml"


# ---- 12. archives whose entries overlap, or that unpack to far more than their size ------------------------------


def overlapping_zip(content: bytes, entries: int, name: str = "a.xml") -> bytes:
    """A zip of one compressed member whose central directory lists it `entries` times (every entry pointing at
    the same local header, as a zip bomb does)."""
    import io
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, content)
    data = buffer.getvalue()
    end = data.rindex(b"PK\x05\x06")
    size_cd, offset_cd = struct.unpack("<II", data[end + 12:end + 20])
    record = data[offset_cd:offset_cd + size_cd]
    directory = record * entries
    tail = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset_cd, 0)
    return data[:offset_cd] + directory + tail


@pytest.mark.parametrize(("content", "entries", "why"), [
    (GOOD, 30, "overlap"),  # small: within the inflation budget, refused for the overlap
    (b"<a>" + b" " * 5_000_000 + b"</a>", 400, "more than 100 times its size")])  # 2 GB declared from 25 KB
def test_an_archive_of_overlapping_entries_is_one_finding_and_the_run_goes_on(tmp_path: Path, content: bytes,
                                                                            entries: int, why: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.zip").write_bytes(overlapping_zip(content, entries))
    (folder / "good.xml").write_bytes(GOOD)
    with zipfile.ZipFile(folder / "bomb.zip") as z:
        assert len(z.infolist()) == entries  # Python's zipfile takes it as it is
    for command in ("validate", "replay"):
        result = report(command, str(folder))
        assert result["inputs"]["messages"] == 2 and result["inputs"]["rejected"] == 1, command
        assert why in json.dumps(result), command


def test_an_archive_whose_directory_points_before_the_file_is_one_finding(tmp_path: Path) -> None:
    """Found by the 10,000-example fuzz: a central directory whose offsets make zipfile's header offset negative
    ended the run in an AttributeError; it is an archive with no local header where the directory says."""
    data = (b"PK\x03\x04\x14\x00\x00\x00\x00\x00\xcc\x18\x87]" + b"\x00" * 12 + b"\x02\x00\x00\x00d/"
            b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\xcc\x18\x87]" + b"\x00" * 12
            + b"\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\xfdA\x00\x00\x00\x00d/"
            b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x000\x00\x00\x00z\x00\x00\x00\x00\x00")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.infolist()[0].header_offset < 0  # what zipfile makes of it
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "log.zip").write_bytes(data)
    for command in ("validate", "replay"):
        result = report(command, str(folder))
        assert result["inputs"]["messages"] == 1 and result["inputs"]["rejected"] == 1, command
        assert "no local header" in json.dumps(result), command


def test_an_ordinary_archive_of_many_members_is_read(tmp_path: Path) -> None:
    import io

    from medcom.formats.inputs import iter_sources

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(200):
            z.writestr(f"m{i}.xml", GOOD)
            z.writestr(f"s{i}.xml", b"")
    path = tmp_path / "many.zip"
    path.write_bytes(buffer.getvalue())
    sources = list(iter_sources([path]))
    assert len(sources) == 400 and all(s.error is None for s in sources)
    assert sources[0].read(10_000_000).data == GOOD


# ---- 14. JSON is known as JSON, whatever its first character or encoding -------------------------------------------

FHIR_JSON = next(LOG.glob("E1-*-admission_advice_sent.json")).read_bytes()


@pytest.mark.parametrize(("data", "says"), [
    (b"[" + FHIR_JSON + b"]", "not list"), (b" \r\n\t[1, 2]", "not list"), (b"[", "not well-formed JSON"),
    (FHIR_JSON.decode().encode("utf-16"), "UTF-16"), (FHIR_JSON.decode().encode("utf-16-le"), "UTF-16"),
    (FHIR_JSON.decode().encode("utf-16-be"), "UTF-16"), (b"\xfe\xff" + FHIR_JSON.decode().encode("utf-16-be"),
                                                         "UTF-16"),
    (FHIR_JSON.decode().encode("utf-32"), "UTF-32"), (FHIR_JSON.decode().encode("utf-32-be"), "UTF-32")])
def test_json_is_reported_as_json(data: bytes, says: str) -> None:
    (message,) = read_document(data, "m.json")
    (finding,) = message.findings
    assert message.format == "fhir" and finding.rule == "F-JSON" and says in finding.text, finding.text


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-16LE", "UTF-16BE"])
def test_utf16_xml_is_still_xml(encoding: str) -> None:
    data = etree.tostring(parse_bytes(GOOD), encoding=encoding, xml_declaration=True)
    (message,) = read_document(data, "m.xml")
    assert message.format == "oioxml" and message.accepted, [f.text for f in message.findings]


@pytest.mark.parametrize("name", ["\x00windows-1252", "utf\x00-8", "UTF 8", "", "x" * 300, "\u00e6"])
def test_an_odd_encoding_name_is_an_m_xml_finding(name: str) -> None:
    data = f'<?xml version="1.0" encoding="{name}"?><Emessage/>'.encode()
    (message,) = read_document(data, "odd.xml")
    assert [f.rule for f in message.findings] == ["M-XML"]


def test_naming_the_elements_of_many_letters_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every letter of an unknown family gets a finding with its path; naming a path once counted all the root's
    children (20,000 letters: over 300 s). Counted in calls of local_name, not in time."""
    from medcom.formats.oioxml import checks

    calls = 0
    real = checks.local_name

    def counting(el: etree._Element) -> str:
        nonlocal calls
        calls += 1
        return real(el)

    monkeypatch.setattr(checks, "local_name", counting)
    text = next(LOG.glob("E1-*-admission_report_sent.xml")).read_bytes().decode("latin-1")
    head = text[:text.index("</Envelope>") + len("</Envelope>")]
    letters = 3000
    messages = read_document((head + "<Letter/>" * letters + "</Emessage>").encode("latin-1"), "many.xml")
    assert len(messages) == letters and messages[-1].findings[-1].xpath == f"/Emessage/Letter[{letters}]"
    assert calls < 20 * letters, calls  # before: letters ** 2 / 2


def test_paths_name_repeated_siblings_by_position() -> None:
    from medcom.formats.oioxml.checks import PathNamer

    root = etree.fromstring("<a><b/><c><d/><d/></c><b><e/></b></a>")
    name = PathNamer()
    assert [name(el) for el in root.iter()] == ["/a", "/a/b[1]", "/a/c", "/a/c/d[1]", "/a/c/d[2]", "/a/b[2]",
                                                "/a/b[2]/e"]
