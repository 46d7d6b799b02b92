"""Hardened XML parsing: no entity expansion, no DTD loading, no network, a size limit.

MedCom messages never need a DTD, so a document with a DOCTYPE is refused outright: that stops both
external entities (XXE: nothing is resolved, so no local file is read) and entity bombs (billion laughs:
nothing is expanded).
"""

from __future__ import annotations

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


def _make_parser(encoding: str | None = None) -> etree.XMLParser:
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,  # neither external (XXE) nor internal (billion laughs) entities expand
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )


_PARSER = _make_parser()  # one per process: lxml parsers are reusable, not shared across threads here
_LATIN1_PARSER = _make_parser("iso-8859-1")
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


def _declares_encoding(data: bytes) -> bool:
    """Whether the document starts with an XML declaration that names its encoding (or has a BOM)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:200].lstrip()
    return head.startswith(b"<?xml") and b"encoding" in head[: head.find(b"?>") if b"?>" in head else 200]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse one XML document safely; `UnsafeXMLError` with a line number where known.

    A document that names no encoding is UTF-8 by the XML rules; MedCom's 34C messages nevertheless arrive in
    ISO-8859-1 without a declaration, so bytes that are not UTF-8 and declare nothing are read as ISO-8859-1
    (`tree.docinfo.encoding` then says so)."""
    if len(data) > max_bytes:
        raise UnsafeXMLError(f"document is {len(data):,} bytes, over the limit of {max_bytes:,}")
    if not data or data.isspace():
        raise UnsafeXMLError("empty document", line=1)
    _refuse_doctype(data)
    parser = _PARSER if _declares_encoding(data) or _is_utf8(data) else _LATIN1_PARSER
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise UnsafeXMLError(f"not well-formed XML: {exc.msg}", line=line) from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise UnsafeXMLError(f"cannot parse XML: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXMLError("DOCTYPE/DTD is not allowed in a MedCom message (entities are never expanded)",
                             line=1)
    _refuse_too_many_nodes(data, tree)
    return tree


def read_encoding(tree: etree._ElementTree) -> str:
    """The encoding a parsed document was read in, as people name it."""
    return (tree.docinfo.encoding or "UTF-8").upper()


def _refuse_too_many_nodes(data: bytes, tree: etree._ElementTree) -> None:
    """Refuse a document of more than MAX_NODES elements and attributes. Every element starts with '<' and
    every attribute has a '=', so a cheap count of those bytes clears nearly every document unwalked."""
    if data.count(b"<") + data.count(b"=") <= MAX_NODES:
        return
    nodes = 0
    for el in tree.getroot().iter():
        nodes += 1 + len(el.attrib)
        if nodes > MAX_NODES:
            raise UnsafeXMLError(f"more than {MAX_NODES:,} elements and attributes; not checked further",
                                 line=el.sourceline)
