"""parse_document (issue 23): a windows-1252 document is converted to UTF-8 by Python's codec and parsed as such
(libxml2 then converts nothing through iconv), and reads exactly as parse_bytes reads it: the same tree, the same
encoding named, the same refusal of what is refused, with the same words and line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from medcom.formats.read import read_document
from medcom.formats.xmlsafe import UnsafeXMLError, parse_bytes, parse_document, read_encoding

_LETTER = "<Emessage xmlns='urn:x'><Name>{}</Name><!-- c --><Text a='{}'>&#230;&#8364;</Text></Emessage>"


def _outcome(parse, data: bytes) -> tuple[str, object, object]:
    try:
        parsed = parse(data)
    except UnsafeXMLError as exc:
        return "refused", str(exc), exc.line
    tree, encoding = parsed if isinstance(parsed, tuple) else (parsed, read_encoding(parsed))
    return "read", etree.tostring(tree, method="c14n"), encoding


def _as_before(data: bytes) -> tuple[str, object, object]:
    return _outcome(parse_bytes, data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["windows-1252", "WINDOWS-1252", "Windows-1252", "cp1252", "CP1252", "ISO-8859-1",
                        "UTF-8", "latin1"]),
       st.sampled_from(["'", '"']),
       st.text(st.characters(max_codepoint=0x17F, exclude_categories=("Cs", "Cc")), max_size=20),
       st.text(st.sampled_from("ab<&>\"' x"), max_size=4),
       st.booleans())
def test_parse_document_reads_as_parse_bytes(name: str, quote: str, text: str, attribute: str,
                                             wide: bool) -> None:
    """Declared names of every spelling, ASCII and non-ASCII texts (the fast path's condition, both ways), and
    documents that are not well-formed (a stray '<' or '&' in a text or attribute): parse_document's tree and
    encoding are parse_bytes' tree and read_encoding, or both refuse with the same words and line."""
    body = _LETTER.format(text, attribute)
    declaration = f"<?xml version='1.0' encoding={quote}{name}{quote}?>\n"
    codec = "cp1252" if "1252" in name else "latin-1" if name.lower() != "utf-8" else "utf-8"
    data = (declaration + body).encode(codec, "replace" if not wide else "xmlcharrefreplace")
    assert _outcome(parse_document, data) == _as_before(data)


def test_an_ascii_windows_1252_message_is_named_as_declared() -> None:
    data = b"<?xml version='1.0' encoding='windows-1252'?>\n<a>plain &#230;</a>"
    tree, encoding = parse_document(data)
    assert encoding == "WINDOWS-1252"
    assert tree.getroot().text == "plain \u00e6"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12), st.binary(max_size=6), st.sampled_from(["windows-1252", "CP1252", "ISO-8859-1"]))
def test_any_bytes_in_a_windows_1252_document_read_as_parse_bytes_reads_them(text: bytes, attribute: bytes,
                                                                             name: str) -> None:
    """Bytes of every value in a text and an attribute: windows-1252's specials (0x80-0x9F, the five it leaves
    undefined among them), Latin-1 letters, control characters and markup bytes that break the document."""
    data = (f"<?xml version='1.0' encoding='{name}'?>\n<a b='".encode() + attribute + b"'>" + text
            + "\u20ac".encode("cp1252") + b"</a>")
    assert _outcome(parse_document, data) == _as_before(data)


def test_a_non_ascii_windows_1252_message_is_decoded_as_windows_1252() -> None:
    """Bytes over 0x7F are not UTF-8's: such a document takes libxml2's windows-1252 reading ('\\x80' is the euro
    sign, 'æ' one byte), as before."""
    data = "<?xml version='1.0' encoding='windows-1252'?>\n<a>\u20ac \u00e6</a>".encode("cp1252")
    tree, encoding = parse_document(data)
    assert (tree.getroot().text, encoding) == ("\u20ac \u00e6", "WINDOWS-1252")


def test_a_read_windows_1252_message_says_its_encoding() -> None:
    """The message read says the encoding its document declares, not the UTF-8 it was parsed as."""
    from helpers.samples import one_of_each

    written = one_of_each()["XDIS20"]
    assert written.startswith(b"<?xml version='1.0' encoding='windows-1252'?>")
    ascii_only = written.decode("cp1252").encode("ascii", "xmlcharrefreplace")  # 'æ' as &#230;
    for data in (written, ascii_only):
        messages = read_document(data, "x.xml")
        assert [(m.encoding, m.sender_name, m.accepted) for m in messages] == \
            [("WINDOWS-1252", "Aalborg Universitetshospital, Ortopædkirurgisk afdeling", True)]
