"""Detect an input's format and read its messages: the one entry point `validate` and `replay` share.

detect -> unwrap -> decode -> validate: bytes are parsed safely (no DTD, no entities, no network, a size
limit); FHIR (JSON, or XML in FHIR's namespace) goes to the FHIR adapter; a VANS envelope or an SBDH is
unwrapped and its payload read again (it may hold FHIR or OIOXML); an Emessage goes to the OIOXML adapter.
Whatever cannot be read is still one message, rejected with its finding, so every input is counted.
"""

from __future__ import annotations

from medcom.findings import Finding, Severity
from medcom.formats import oioxml
from medcom.formats.messages import ReadMessage, ReadOptions, unreadable
from medcom.formats.oioxml.names import local_name
from medcom.formats.oioxml.wrappers import MAX_DEPTH, unwrap, wrapper_kind
from medcom.formats.xmlsafe import UnsafeXMLError, parse_document, root_start_in
from medcom.quoting import quoted, shortened

DEFAULT_OPTIONS = ReadOptions()


def read_document(data: bytes, source: str, options: ReadOptions = DEFAULT_OPTIONS,
                  depth: int = 0) -> list[ReadMessage]:
    """Every message in one input document, in document order (never raises for bad input)."""
    if not _surely_not_fhir(data):
        # The FHIR stack (fhir.resources, fhirpathpy, the IG packages) costs ~0.8 s to import: an OIOXML-only log,
        # and each of its workers, never pays it.
        from medcom.formats.fhir import looks_like_fhir
        from medcom.formats.fhir_adapter import read_fhir

        if looks_like_fhir(data):
            return read_fhir(data, source, options)
    try:
        tree, encoding = parse_document(data, max_bytes=options.max_bytes)
    except UnsafeXMLError as exc:
        return [unreadable(source, "M-XML", str(exc), exc.line)]
    root = tree.getroot()
    if wrapper_kind(root) is not None:
        if depth >= MAX_DEPTH:
            return [unreadable(source, "M-XML", f"wrappers nested more than {MAX_DEPTH} deep", root.sourceline)]
        messages: list[ReadMessage] = []
        for payload in unwrap(root, source):
            inner = read_document(payload.data, payload.via, options, depth + 1) if payload.data is not None \
                else [ReadMessage(payload.via, "unknown")]
            inner[0].findings[:0] = payload.findings  # the wrapper's own findings go with its first message,
            for message in inner[1:]:  # and its errors with each: a payload the wrapper rejects is rejected whole
                message.findings[:0] = [f for f in payload.findings if f.severity is Severity.ERROR]
            if payload.envelope:
                for message in inner:
                    message.wrappers = ((payload.envelope, source), *message.wrappers)
            _check_declared(inner, payload.declared_name, payload.declared_version, payload.via)
            messages += inner
        return messages
    if oioxml.is_emessage(root):
        return oioxml.read_emessage(tree, source, options, encoding)
    return [unreadable(source, "M-VERSION", "not a MedCom message medcom knows: root element "
                       f"{quoted(local_name(root))} in namespace {quoted(root.nsmap.get(root.prefix) or '(none)')}",
                       root.sourceline)]


_NOT_LATIN1_HEADS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # byte-order marks: `_head` decodes those itself


def _surely_not_fhir(data: bytes) -> bool:
    """`not fhir.looks_like_fhir(data)` for the documents it reads as Latin-1 (no byte-order mark, no NUL in the
    first two bytes): XML whose first kilobyte holds its root's start tag and does not name FHIR's namespace, as
    every OIOXML document is, or anything that starts with neither '<' nor JSON's '{' or '['. On bytes, without
    importing the FHIR stack; False (ask `looks_like_fhir`) for the other encodings."""
    head = data[:1024]
    if head.startswith(_NOT_LATIN1_HEADS) or b"\x00" in head[:2]:
        return False
    start = head.lstrip(b" \t\r\n")
    if start.startswith(b"<"):
        return b"http://hl7.org/fhir" not in head and (len(data) <= len(head) or root_start_in(head.decode("latin-1")))
    return not start.startswith((b"{", b"["))


def _check_declared(messages: list[ReadMessage], name: str | None, version: str | None, via: str) -> None:
    """A wrapper that names its document (VANS Document Name/Version, SBDH Type/TypeVersion) must name what it
    carries: each OIOXML letter of its own payload (`via`; not those of a wrapper one deeper) is compared (an SBDH
    Type "Emessage" comes as no name: `wrappers._sbdh`). The wrapper's words are quoted shortened: a wrapper of
    many letters says them once for each."""
    for message in messages:
        if message.family is None or message.format != "oioxml" or message.document_source != via:
            continue
        actual = [x.lower() for x in (message.family, message.version) if x]
        wrong = [v for v in (name, version) if v and not any(v.lower().endswith(a) for a in actual)]
        if wrong:
            said = shortened(" ".join(x for x in (name, version) if x))
            message.findings.append(Finding(
                "M-XML", Severity.WARNING, f"the wrapper says it carries {said}, "
                f"the payload is {message.family} {message.version}", via))
