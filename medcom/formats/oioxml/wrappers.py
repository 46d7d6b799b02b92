"""Unwrap what carries an Emessage: a VANS envelope (base64 `Data`) or an SBDH (base64 `BinaryContent`, holding
a VANS envelope or an Emessage), possibly nested. Each payload is named by its path through the wrappers, so a
finding says where it was found ("inbox.xml > SBDH BinaryContent > VANS Message 1 Data")."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from medcom.findings import Finding, Severity
from medcom.formats.oioxml.letters import text_of
from medcom.formats.oioxml.names import namespace_of
from medcom.identifiers import ascii_digits
from medcom.quoting import quoted

VANS_NS_PREFIX = "urn:oio:medcom:vans-envelope:"
SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
MAX_DEPTH = 4  # SBDH > VANS > Emessage is two; more is not a real wrapping


@dataclass(slots=True)
class Payload:
    """One document found inside a wrapper, with what the wrapper said about it."""

    via: str  # path through the wrappers
    data: bytes | None
    declared_name: str | None = None  # VANS MetaInformation/Document/Name (XDIS21) or SBDH Type
    declared_version: str | None = None  # VANS Document/Version (XD2134C) or SBDH TypeVersion
    sender: str | None = None  # the wrapper's sender id (EAN, or 0088:<GLN> in SBDH)
    receiver: str | None = None
    findings: list[Finding] = field(default_factory=list)
    envelope: str | None = None  # the transport envelope's own id ("VANS envelope <EnvelopeIdentifier>",
    # "SBDH InstanceIdentifier <id>"): M-ENVELOPE


def wrapper_kind(root: etree._Element) -> str | None:
    """'VANS' or 'SBDH' for a wrapper's root, None for anything else."""
    namespace = namespace_of(root) or ""
    if namespace.startswith(VANS_NS_PREFIX):
        return "VANS"
    if namespace == SBDH_NS:
        return "SBDH"
    return None


def _decode(text: str | None, where: str, source: str, line: int | None) -> tuple[bytes | None, Finding | None]:
    if not text:
        return None, Finding("M-XML", Severity.ERROR, f"{where} is empty: no message inside", source, line)
    try:
        return base64.b64decode("".join(text.split()), validate=True), None
    except (binascii.Error, ValueError) as exc:
        return None, Finding("M-XML", Severity.ERROR, f"{where} is not valid base64: {exc}", source, line)


def _vans(root: etree._Element, source: str) -> Iterator[Payload]:
    sender = text_of(root.find("{*}SenderID")) or text_of(root.find(".//{*}SenderID"))
    receiver = text_of(root.find("{*}ReceiverID")) or text_of(root.find(".//{*}ReceiverID"))
    envelope_id = text_of(root.find("{*}EnvelopeIdentifier"))
    envelope = f"VANS envelope {envelope_id}" if envelope_id else None
    messages = root.findall(".//{*}Message")
    read = [message.find("{*}Data") for message in messages]
    if not messages:
        yield Payload(f"{source} > VANS", None, findings=[Finding(
            "M-XML", Severity.ERROR, "VANS envelope holds no Message", source, root.sourceline)])
    for number, (message, data_el) in enumerate(zip(messages, read, strict=True), start=1):
        where = f"VANS Message {number} Data" if len(messages) > 1 else "VANS Data"
        data, problem = _decode(text_of(data_el), where, source,
                                (data_el if data_el is not None else message).sourceline)
        document = message.find("{*}MetaInformation/{*}Document")
        payload = Payload(f"{source} > {where}", data, text_of(document.find("{*}Name")) if document is not None
                          else None, text_of(document.find("{*}Version")) if document is not None else None,
                          sender, receiver, [problem] if problem else [], envelope)
        size = text_of(document.find("{*}SizeInBytes")) if document is not None else None
        if data is not None and size is not None and not ascii_digits(size):
            payload.findings.append(Finding(
                "M-XML", Severity.WARNING, f"VANS MetaInformation SizeInBytes {quoted(size)} is not a number of bytes",
                source, document.sourceline))
        elif data is not None and size is not None and int(size) != len(data):
            payload.findings.append(Finding(
                "M-XML", Severity.WARNING, f"VANS MetaInformation says {int(size):,} bytes, the Data holds "
                f"{len(data):,}", source, document.sourceline))
        yield payload
    yield from _stray_data(root, read, source)


def _stray_data(root: etree._Element, read: list[etree._Element | None], source: str) -> Iterator[Payload]:
    """Each Data element that is not the Data of a Message (a second one in a Message, one outside any): read and
    counted as a message of its own, rejected (a payload VANS does not carry there is never passed unseen)."""
    carried = set(read)  # lxml elements hash by identity: one look-up a Data, not a walk of every Message's
    for number, data_el in enumerate((d for d in root.iter("{*}Data") if d not in carried), start=1):
        where = f"VANS stray Data {number}"
        data, problem = _decode(text_of(data_el), where, source, data_el.sourceline)
        yield Payload(f"{source} > {where}", data, findings=[problem or Finding(
            "M-XML", Severity.ERROR, f"{where} is not the Data of a VANS Message (a Message carries one Data): read, "
            "and rejected", source, data_el.sourceline)])


def _sbdh(root: etree._Element, source: str) -> Iterator[Payload]:
    header = root.find("{*}StandardBusinessDocumentHeader")
    ident = header.find("{*}DocumentIdentification") if header is not None else None
    sender = text_of(header.find("{*}Sender/{*}Identifier")) if header is not None else None
    receiver = text_of(header.find("{*}Receiver/{*}Identifier")) if header is not None else None
    instance = text_of(ident.find("{*}InstanceIdentifier")) if ident is not None else None
    envelope = f"SBDH InstanceIdentifier {instance}" if instance else None
    contents = [el for el in root.iter("{*}BinaryContent")]
    if not contents:
        yield Payload(f"{source} > SBDH", None, findings=[Finding(
            "M-XML", Severity.ERROR, "SBDH holds no BinaryContent", source, root.sourceline)])
        return
    # An SBDH Type "Emessage" names the document's root element, as SBDH types do (MedCom's 34C samples): true of
    # every letter, so it names no family to compare with the letters; TypeVersion still does.
    kind = text_of(ident.find("{*}Type")) if ident is not None else None
    declared = None if kind is not None and kind.lower() == "emessage" else kind
    version = text_of(ident.find("{*}TypeVersion")) if ident is not None else None
    for number, content in enumerate(contents, start=1):
        where = f"SBDH BinaryContent {number}" if len(contents) > 1 else "SBDH BinaryContent"
        data, problem = _decode(text_of(content), where, source, content.sourceline)
        yield Payload(f"{source} > {where}", data, declared, version, sender, receiver, [problem] if problem else [],
                      envelope)


def unwrap(root: etree._Element, source: str) -> Iterator[Payload]:
    """The payloads of a VANS envelope or an SBDH root (one level; the caller parses and unwraps again)."""
    kind = wrapper_kind(root)
    if kind == "VANS":
        yield from _vans(root, source)
    elif kind == "SBDH":
        yield from _sbdh(root, source)


VANS_NS = "urn:oio:medcom:vans-envelope:1.0.4"


def vans_envelope(payload: bytes, *, envelope_id: str, sent: str, sender_ean: str, receiver_ean: str,
                  name: str, version: str) -> bytes:
    """An Emessage inside a VANS envelope (base64 Data with its MetaInformation), as the VANS network carries it.
    `sent` is the envelope's SentDateTime (ISO 8601)."""
    v = f"{{{VANS_NS}}}"
    root = etree.Element(v + "VANSEnvelope", nsmap={None: VANS_NS})
    etree.SubElement(root, v + "SenderID", EndPointType="EAN").text = sender_ean
    etree.SubElement(root, v + "ReceiverID", EndPointType="EAN").text = receiver_ean
    etree.SubElement(root, v + "EnvelopeIdentifier").text = envelope_id
    etree.SubElement(root, v + "SentDateTime").text = sent
    message = etree.SubElement(root, v + "Message")
    meta = etree.SubElement(message, v + "MetaInformation")
    etree.SubElement(meta, v + "Identifier").text = envelope_id
    document = etree.SubElement(meta, v + "Document")
    etree.SubElement(document, v + "Format").text = "XML"
    etree.SubElement(document, v + "Name").text = name
    etree.SubElement(document, v + "Version").text = version
    etree.SubElement(document, v + "SizeInBytes").text = str(len(payload))
    etree.SubElement(message, v + "Data").text = base64.b64encode(payload).decode("ascii")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sbdh(payload: bytes, *, instance_id: str, created: str, sender_gln: str, receiver_gln: str, standard: str,
         type_version: str, doc_type: str) -> bytes:
    """A payload (an Emessage or a VANS envelope) inside a Standard Business Document Header, identifiers
    `0088:<GLN>`, the payload base64 in BinaryContent."""
    s = f"{{{SBDH_NS}}}"
    root = etree.Element(s + "StandardBusinessDocument", nsmap={None: SBDH_NS})
    header = etree.SubElement(root, s + "StandardBusinessDocumentHeader")
    etree.SubElement(header, s + "HeaderVersion").text = "1.0"
    for role, gln in (("Sender", sender_gln), ("Receiver", receiver_gln)):
        party = etree.SubElement(header, s + role)
        etree.SubElement(party, s + "Identifier", Authority="iso6523-actorid-upis").text = f"0088:{gln}"
    ident = etree.SubElement(header, s + "DocumentIdentification")
    etree.SubElement(ident, s + "Standard").text = standard
    etree.SubElement(ident, s + "TypeVersion").text = type_version
    etree.SubElement(ident, s + "InstanceIdentifier").text = instance_id
    etree.SubElement(ident, s + "Type").text = doc_type
    etree.SubElement(ident, s + "CreationDateAndTime").text = created
    content = etree.SubElement(root, s + "BinaryContent", mimeType="application/xml")
    content.text = base64.b64encode(payload).decode("ascii")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
