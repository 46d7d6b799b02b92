"""Hardened XML parsing: no entity expansion, no DTD loading, no network, a size limit, known encodings only.

MedCom messages never need a DTD, so a document with a DOCTYPE is refused outright: that stops both
external entities (XXE: nothing is resolved, so no local file is read) and entity bombs (billion laughs:
nothing is expanded). Refusing does not rest on spotting '<!DOCTYPE' in the bytes (UTF-32 or UTF-7 spell it
otherwise): the parser itself is built so that libxml2 loads no DTD subset and no entity whatever the document
says, only the encodings MedCom messages use are parsed at all, and a DOCTYPE found after parsing is refused too.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from lxml import etree

DEFAULT_MAX_BYTES = 10_000_000
# Elements and attributes one message may have. A MedCom message has hundreds; a document of a million
# attributes within the size limit would make every later step (schema errors, findings, report) huge.
MAX_NODES = 100_000


class UnsafeXMLError(ValueError):
    """The document is not well-formed, too large, or uses a forbidden construct (DTD, entities)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_PROLOG_ITEM = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->)", re.S)
_START_TAG = re.compile(r"\s*<[^\s<>!?/][^<>]*>")


def root_start_in(head: str) -> bool:
    """Whether the start of a document (`head`, e.g. its first kilobyte) holds its root element's whole start tag,
    after the XML declaration, comments and processing instructions: if not, what namespace the root is in is
    not told there (a long comment before the root, a root with long attributes)."""
    position = 0
    while match := _PROLOG_ITEM.match(head, position):
        position = match.end()
    return _START_TAG.match(head, position) is not None


def safe_parser(encoding: str | None = None) -> etree.XMLParser:
    """An lxml parser that reads nothing but its input: no DTD, no entity, no network.

    `collect_ids` must stay at its default: `collect_ids=False` makes lxml set libxml2's `loadsubset`
    (XML_SKIP_IDS), and with a non-zero `loadsubset` libxml2 opens an external parameter entity
    (`<!ENTITY % pe SYSTEM "file:///..."> %pe;`) although `load_dtd=False` and `resolve_entities=False`: a FIFO
    blocks the parse, /dev/zero never ends, a file on the disk is read as DTD (tests/test_hostile_formats.py)."""
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,  # neither external (XXE) nor internal (billion laughs) entities expand
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
    )


_PARSER = safe_parser()  # one per process: lxml parsers are reusable, not shared across threads here
_LATIN1_PARSER = safe_parser("iso-8859-1")
FALLBACK_ENCODING = "iso-8859-1"


_DOCTYPE_UTF8 = b"<!DOCTYPE"
_DOCTYPE_UTF16 = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-16-le", "utf-16-be"))


def _refuse_doctype(data: bytes) -> None:
    """Refuse a DOCTYPE before libxml2 reads it, so no entity is declared, let alone expanded.

    The scan covers the whole document (UTF-8/ASCII-compatible and UTF-16 spellings); a literal
    '<!DOCTYPE' can only appear unescaped in a DTD, a comment or CDATA, none of which a message needs.
    """
    utf16 = b"\x00" in data[:4]  # a UTF-16 document has a NUL in its first characters, BOM or not
    for mark in (_DOCTYPE_UTF8, *(_DOCTYPE_UTF16 if utf16 else ())):
        at = data.find(mark)
        if at >= 0:
            raise UnsafeXMLError("DOCTYPE/DTD is not allowed in a MedCom message; entities are never expanded",
                                 line=data.count(b"\n", 0, at) + 1)


# The encodings a MedCom message may come in (as Python's codecs name them): UTF-8 (and ASCII), UTF-16, and
# the 8-bit ISO-8859-1 and windows-1252 of older systems. Anything else (UTF-32, UTF-7, EBCDIC, Shift_JIS ...)
# has no reason to reach medcom, and each is one more spelling of '<!DOCTYPE' to think about: refused unparsed.
ACCEPTED_ENCODINGS = frozenset({"utf-8", "ascii", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "cp1252"})
_DECLARED = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml\b[^>]{0,200}?\bencoding\s*=\s*(["'])(.{0,40}?)\1""", re.DOTALL)
_UTF16_DECLARED = re.compile(r"""^\ufeff?\s*<\?xml\b[^>]{0,200}?\bencoding\s*=\s*(["'])(.{0,40}?)\1""", re.DOTALL)
# The first four bytes of a document in an encoding that is not ASCII-compatible (XML 1.0, appendix F).
_WIDE_STARTS = {b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xff\xfe": "UCS-4",
                b"\xfe\xff\x00\x00": "UCS-4", b"\x00\x00\x00<": "UTF-32", b"<\x00\x00\x00": "UTF-32",
                b"\x00\x00<\x00": "UCS-4", b"\x00<\x00\x00": "UCS-4", b"\x4c\x6f\xa7\x94": "EBCDIC"}
_UTF16_FAMILY = frozenset({"utf-16", "utf-16-le", "utf-16-be"})


def _read_declaration(data: bytes) -> tuple[str | None, str | None]:
    """Why the document's encoding is not accepted (None: it is), from its first bytes and its declaration, and
    the encoding its declaration names (None: it names none)."""
    head = data[:512]
    if wide := _WIDE_STARTS.get(head[:4]):  # each start is four bytes
        return f"the document is in {wide}", None
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?")):
        codec = "utf-16-be" if head.startswith((b"\xfe\xff", b"\x00<")) else "utf-16-le"
        declared = _UTF16_DECLARED.match(head.decode(codec, "replace"))
        name = declared.group(2) if declared else None
        family = _UTF16_FAMILY
    else:
        match = _DECLARED.match(head)
        name = match.group(2).decode("ascii", "replace") if match else None
        family = ACCEPTED_ENCODINGS
    if name is None:
        return None, None
    if _codec_name(name) not in family:
        return f"the document declares encoding {name[:40]!r}", name
    return None, name


_ENCNAME = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,39}")


@lru_cache(maxsize=256)
def _codec_name(name: str) -> str | None:
    """Python's name of a declared encoding (None: none it knows). An encoding name is letters, digits and
    . _ : - (XML 1.0 EncName): codecs would take a NUL too far. Remembered: a log declares a handful."""
    try:
        return codecs.lookup(name).name if _ENCNAME.fullmatch(name) else None
    except (LookupError, ValueError):
        return None


def _declares_encoding(data: bytes) -> bool:
    """Whether the document starts with an XML declaration that names its encoding (or has a BOM)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?")):
        return True  # a byte-order mark, or UTF-16 without one: libxml2 tells these apart itself
    head = data[:200].lstrip()
    return head.startswith(b"<?xml") and b"encoding" in head[: head.find(b"?>") if b"?>" in head else 200]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# A document that declares windows-1252 is parsed as UTF-8, its bytes converted by Python's cp1252 codec (as
# they are: ASCII throughout), not by libxml2 through iconv: iconv's conversion is about a quarter of the parse of
# a MedCom message (medcom build writes windows-1252, as many senders do). Both map every byte alike (the five
# that windows-1252 leaves undefined are an error to both; a document with one is parsed as before). The
# spellings libxml2 takes for that encoding; the name the document declares is still the one it is read in.
_WINDOWS_1252 = frozenset({"windows-1252", "cp1252"})
_UTF8_PARSER = safe_parser("utf-8")


def parse_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse one XML document safely; `UnsafeXMLError` with a line number where known.

    A document that names no encoding is UTF-8 by the XML rules; MedCom's 34C messages nevertheless arrive in
    ISO-8859-1 without a declaration, so bytes that are not UTF-8 and declare nothing are read as ISO-8859-1
    (`tree.docinfo.encoding` then says so)."""
    return _parse(data, max_bytes, as_read=False)[0]


def parse_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[etree._ElementTree, str]:
    """`parse_bytes`, and the encoding the document is read in as people name it (`read_encoding` of what
    parse_bytes gives). A windows-1252 document is parsed as the UTF-8 it converts to, so its `docinfo` says
    UTF-8: ask this encoding, not the tree's."""
    tree, declared = _parse(data, max_bytes, as_read=True)
    return tree, declared.upper() if declared is not None else read_encoding(tree)


def _as_utf8(data: bytes) -> bytes | None:
    """A windows-1252 document's bytes in UTF-8 (None: a byte windows-1252 does not define)."""
    if data.isascii():
        return data
    try:
        return data.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse(data: bytes, max_bytes: int, *, as_read: bool) -> tuple[etree._ElementTree, str | None]:
    """The parsed document, and with `as_read` the encoding it declares where it was converted to UTF-8 and
    parsed as such (None: the tree's docinfo tells)."""
    if len(data) > max_bytes:
        raise UnsafeXMLError(f"document is {len(data):,} bytes, over the limit of {max_bytes:,}")
    if not data or data.isspace():
        raise UnsafeXMLError("empty document", line=1)
    problem, declared = _read_declaration(data)
    if problem:
        raise UnsafeXMLError(f"{problem}; a MedCom message is UTF-8, UTF-16, ISO-8859-1 or windows-1252", line=1)
    _refuse_doctype(data)
    text = _as_utf8(data) if as_read and declared is not None and declared.lower() in _WINDOWS_1252 else None
    if text is not None:
        parser = _UTF8_PARSER
    else:
        text, declared = data, None
        parser = _PARSER if _declares_encoding(data) or _is_utf8(data) else _LATIN1_PARSER
    try:
        tree = etree.ElementTree(etree.fromstring(text, parser))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise UnsafeXMLError(f"not well-formed XML: {exc.msg}", line=line) from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise UnsafeXMLError(f"cannot parse XML: {exc}") from None
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXMLError("DOCTYPE/DTD is not allowed in a MedCom message (entities are never expanded)",
                             line=1)
    _refuse_too_many_nodes(data, tree)
    return tree, declared


def read_encoding(tree: etree._ElementTree) -> str:
    """The encoding a parsed document was read in, as people name it."""
    return (tree.docinfo.encoding or "UTF-8").upper()


def _refuse_too_many_nodes(data: bytes, tree: etree._ElementTree) -> None:
    """Refuse a document of more than MAX_NODES elements and attributes. Every element starts with '<' and
    every attribute has a '=', so a cheap count of those bytes clears nearly every document unwalked."""
    if len(data) <= MAX_NODES or data.count(b"<") + data.count(b"=") <= MAX_NODES:  # a byte counts once at most
        return
    nodes = 0
    for el in tree.getroot().iter():
        nodes += 1 + len(el.attrib)
        if nodes > MAX_NODES:
            raise UnsafeXMLError(f"more than {MAX_NODES:,} elements and attributes; not checked further",
                                 line=el.sourceline)
