"""MedCom OIOXML: the adapter that turns a parsed Emessage of any generation into messages with findings.

detect (root Emessage in a known namespace) -> validate (the generation's schema, then the message rules)
-> decode (one `Letter` record per letter; an Emessage may hold several, each is a message). Wrappers (VANS,
SBDH) are unwrapped by `medcom.formats.read` before this runs.
"""

from __future__ import annotations

import re

from lxml import etree

from medcom.findings import Finding, Severity
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.formats.oioxml.checks import check_identifiers_and_times, local_name, readable_path
from medcom.formats.oioxml.generations import Family, family_of, generation_of, known_versions
from medcom.formats.oioxml.letters import Children, WallTimes, children, read_letter, text_of
from medcom.formats.oioxml.plain import plain
from medcom.formats.oioxml.schemas import judge_for
from medcom.formats.xmlsafe import read_encoding

_NS_IN_TEXT = re.compile(r"\{[^}]*\}")
ENVELOPE = "Envelope"
NOT_LETTERS = frozenset({ENVELOPE, "Local_Elements"})
# What describing a message reads (validate reads no more; replay reads the whole letter too).
_HEAD_PARTS = frozenset({"Identifier", "AcknowledgementCode"})
_BODY_PARTS = frozenset({"Letter", "Sender", "Receiver"})
_LETTER_PARTS = frozenset({"VersionCode", "Identifier", "StatisticalCode"})
_EAN = frozenset({"EANIdentifier"})


def is_emessage(root: etree._Element) -> bool:
    return local_name(root) == "Emessage"


_NAMED_STEP = re.compile(r"(?<=/)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?=\[|/|$)")


def _locate(root: etree._Element, path: str | None) -> etree._Element | None:
    """The element a schema error's path names. lxml writes the path with the document's own prefixes (or `*`);
    each named step becomes a local-name() test so that it evaluates whatever the prefixes."""
    if not path:
        return None
    query = _NAMED_STEP.sub(lambda m: f"*[local-name()='{m[1]}']", path)
    try:
        hits = root.getroottree().xpath(query)
    except (etree.XPathError, ValueError):
        return None
    return hits[0] if hits and isinstance(hits[0], etree._Element) else None


def _body_of_element(el: etree._Element, root: etree._Element) -> etree._Element | None:
    node = el
    while node is not None and node.getparent() is not root:
        node = node.getparent()
    return node if node is not None and local_name(node) not in NOT_LETTERS else None


def read_emessage(tree: etree._ElementTree, source: str, options: ReadOptions) -> list[ReadMessage]:
    """The messages of one Emessage document: one per letter, each with the findings that concern it (findings
    on the envelope concern every letter)."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    generation = generation_of(namespace)
    encoding = read_encoding(tree)
    if generation is None:
        return [ReadMessage(source, "oioxml", [Finding(
            "M-VERSION", Severity.ERROR, f"an Emessage in namespace {namespace or '(none)'}, which is not an OIOXML "
            f"generation medcom knows ({known_versions()})", source, root.sourceline)], encoding=encoding)]
    envelope = None
    bodies = []
    for child in root:
        if isinstance(child.tag, str):
            name = local_name(child)
            if name not in NOT_LETTERS:
                bodies.append(child)
            elif name == ENVELOPE and envelope is None:
                envelope = child
    shared: list[Finding] = []  # findings on the envelope or the document: every letter has them
    per_body: dict[int, list[Finding]] = {id(b): [] for b in bodies}

    def place(finding: Finding, body: etree._Element | None) -> None:
        (per_body[id(body)] if body is not None and id(body) in per_body else shared).append(finding)

    judge = judge_for(generation, options.schemas_dir)
    judge.schema.validate(tree)
    for error in judge.schema.error_log:
        el = _locate(root, error.path)
        text = plain(_NS_IN_TEXT.sub("", error.message))
        place(Finding("M-SCHEMA", Severity.ERROR, f"{text} [{judge.label}]", source, error.line or None,
                      readable_path(el) if el is not None else error.path),
              _body_of_element(el, root) if el is not None else None)

    def add(rule: str, severity: Severity, text: str, el: etree._Element) -> None:
        place(Finding(rule, severity, text, source, el.sourceline, readable_path(el)), _body_of_element(el, root))

    wall_times = check_identifiers_and_times(root, add, sent_before_event=options.sent_before_event)
    if not bodies:
        shared.append(Finding("M-SCHEMA", Severity.ERROR, f"the Emessage holds no letter [{judge.label}]", source,
                              root.sourceline))
        return [ReadMessage(source, "oioxml", shared, generation=generation.name, schema=judge.label,
                            encoding=encoding)]
    messages = []
    head = children(envelope, None if options.letter_content else _HEAD_PARTS)
    for position, body in enumerate(bodies, start=1):
        name = f"{source} letter {position}" if len(bodies) > 1 else source
        findings = [*shared, *per_body[id(body)]]
        family = family_of(etree.QName(body).namespace, local_name(body))
        message = ReadMessage(name, "oioxml", findings, generation=generation.name, schema=judge.label,
                              encoding=encoding, position=position, line=body.sourceline)
        _describe(message, body, envelope, family, head, wall_times if options.letter_content else None)
        messages.append(message)
    return messages


def _describe(message: ReadMessage, body: etree._Element, envelope: etree._Element | None,
              family: Family | None, head: Children, wall_times: WallTimes | None) -> None:
    """Fill in what the message is and its content (without `wall_times`, no content); an unknown body or version
    is a finding."""
    parts = children(body, None if wall_times is not None else _BODY_PARTS)
    letter_el = parts.get("Letter")
    letter = children(letter_el, _LETTER_PARTS)
    version = text_of(letter.get("VersionCode")) or ""
    message.version = version or None
    message.letter_id = text_of(letter.get("Identifier"))
    message.envelope_id = text_of(head.get("Identifier"))
    message.receipt_requested = envelope is not None and text_of(head.get("AcknowledgementCode")) == "pluspositivkvitt"
    message.sender = _party_ean(body, parts, "Sender")
    message.sender_name = _party_name(parts.get("Sender"))
    message.receiver = _party_ean(body, parts, "Receiver")
    if family is None:
        message.family = text_of(letter.get("StatisticalCode")) or local_name(body) \
            if letter_el is not None else local_name(body)
        message.findings.append(Finding(
            "M-VERSION", Severity.INFO, f"{local_name(body)} is a MedCom letter outside the admission and discharge "
            f"families ({known_versions()}): validated, not replayed", message.source, body.sourceline,
            readable_path(body)))
        return
    message.family = family.code
    if version and version != family.version:
        message.findings.append(Finding(
            "M-VERSION", Severity.ERROR, f"{family.body} of generation {family.generation.name} is version "
            f"{family.version}, not {version}", message.source,
            letter_el.sourceline if letter_el is not None else body.sourceline,
            readable_path(letter_el) if letter_el is not None else readable_path(body)))
    if wall_times is not None:
        message.content = read_letter(body, family, envelope, parts=parts, head=head, known=wall_times)


_NAMES = frozenset({"OrganisationName", "DepartmentName"})


def _party_name(party: etree._Element | None) -> str | None:
    """'Organisation, department' of a Sender or Receiver, as the letter names them (None: it names neither)."""
    names = children(party, _NAMES)
    return ", ".join(t for t in (text_of(names.get(n)) for n in ("OrganisationName", "DepartmentName")) if t) or None


def _party_ean(body: etree._Element, parts: Children, party: str) -> str | None:
    """The text of <party>/EANIdentifier, as the path finds it (the first party element that has one)."""
    ean = children(parts.get(party), _EAN).get("EANIdentifier")
    if ean is None and party in parts:
        ean = body.find(f"{{*}}{party}/{{*}}EANIdentifier")
    return text_of(ean)
