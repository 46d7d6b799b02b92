"""MedCom OIOXML: the adapter that turns a parsed Emessage of any generation into messages with findings.

detect (root Emessage in a known namespace) -> validate (the generation's schema, then the message rules)
-> decode (one `Letter` record per letter; an Emessage may hold several, each is a message). Wrappers (VANS,
SBDH) are unwrapped by `medcom.formats.read` before this runs.
"""

from __future__ import annotations

import re

from lxml import etree

from medcom.findings import Finding, FindingLimit, Severity
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.formats.oioxml.checks import PathNamer, check_identifiers_and_times, local_name
from medcom.formats.oioxml.generations import Family, family_of_tag, generation_of, known_versions
from medcom.formats.oioxml.letters import Children, Kids, WallTimes, children, read_letter, text_of
from medcom.formats.oioxml.names import namespace_of
from medcom.formats.oioxml.plain import plain
from medcom.formats.oioxml.schemas import judge_for
from medcom.formats.xmlsafe import read_encoding
from medcom.quoting import cut_quotes, quoted, shortened

_NS_IN_TEXT = re.compile(r"\{[^{}'\s]*\}")  # a namespace in braces; not libxml2's {'a', 'b'} of enumerations
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


def _locate(root: etree._Element, path: str | None, top: etree._Element | None = None) -> etree._Element | None:
    """The element a schema error's path names. lxml writes the path with the document's own prefixes (or `*`);
    each named step becomes a local-name() test so that it evaluates whatever the prefixes. With `top`, the
    root's child the path goes through, only the steps below it are evaluated (from there, not over every
    letter of the document)."""
    if not path:
        return None
    steps = path.split("/")
    context: etree._Element | etree._ElementTree = root.getroottree()
    if top is not None and len(steps) > 2:
        if len(steps) == 3:
            return top
        context, path = top, "./" + "/".join(steps[3:])
    query = _NAMED_STEP.sub(lambda m: f"*[local-name()='{m[1]}']", path)
    try:
        hits = context.xpath(query)
    except (etree.XPathError, ValueError):
        return None
    return hits[0] if hits and isinstance(hits[0], etree._Element) else None


_STEP = re.compile(r"(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*|\*)(?:\[([0-9]{1,9})\])?")


def _top_child(kids: list[etree._Element], path: str | None) -> etree._Element | None:
    """The child of the root that a schema error's path goes through (its second step), found among the root's
    element children `kids` without evaluating the whole path: placing each error costs no XPath."""
    steps = (path or "").split("/")
    match = _STEP.fullmatch(steps[2]) if len(steps) > 2 else None
    if match is None:
        return None
    name, number = match[1], int(match[2] or 1)
    same = kids if name == "*" else [k for k in kids if local_name(k) == name]
    return same[number - 1] if 0 < number <= len(same) else None


def _misplaced_in_root(error: etree._LogEntry) -> bool:
    """Whether a schema error says a child of the root is not allowed where it is (a letter before the Envelope, an
    Envelope misspelt, a body of another generation): an error of the Emessage, not of that letter alone. libxml2
    validates none of the root's later children once its content goes wrong, so it must reject every letter."""
    return (error.path or "").count("/") == 2 and "This element is not expected" in error.message


class _Placed:
    """The findings of one Emessage, each kept once where it belongs: on its letter, or on the document (the
    envelope, the root) once for all letters. At most `limit` findings are built per place (FindingLimit: the
    rest are counted), so a document of many errors and many letters costs memory in proportion to itself."""

    def __init__(self, bodies: list[etree._Element], limit: int) -> None:
        self.limit = limit
        self.shared = FindingLimit([], limit)
        self.bodies = {id(b) for b in bodies}
        self.per_body: dict[int, FindingLimit] = {}  # a letter's own listing, made at its first finding

    def at(self, body: etree._Element | None) -> FindingLimit:
        if body is None:
            return self.shared
        own = self.per_body.get(id(body))
        if own is None:
            if id(body) not in self.bodies:
                return self.shared
            own = self.per_body[id(body)] = FindingLimit([], self.limit)
        return own

    def finish(self) -> None:
        """Count the document's errors by rule (for the letters after the first), then close its listing."""
        self.shared_errors: dict[str, int] = {}
        for finding in self.shared.findings:
            if finding.severity is Severity.ERROR:
                self.shared_errors[finding.rule] = self.shared_errors.get(finding.rule, 0) + 1
        for rule, (count, worst, _) in self.shared.more.items():
            if worst is Severity.ERROR:
                self.shared_errors[rule] = self.shared_errors.get(rule, 0) + count
        self.shared.close()

    def findings(self, body: etree._Element, position: int, source: str) -> list[Finding]:
        """A letter's findings: its own, after the document's (letter 1) or, for the other letters, one finding
        per rule that says how many errors the document has and where they are listed (the letter is rejected,
        as the document is, and a suppression of the rule still applies)."""
        own = self.per_body.get(id(body))
        listed: list[Finding] = []
        if own is not None:
            own.close()
            listed = own.findings
        if position == 1:
            return [*self.shared.findings, *listed]
        errors = self.shared_errors
        return [*(Finding(rule, Severity.ERROR, f"this letter's Emessage has {count:,} {rule} error"
                          f"{'s' if count != 1 else ''} outside its letters (listed once, with letter 1)", source)
                  for rule, count in errors.items()), *listed]


def _body_of_element(el: etree._Element, root: etree._Element) -> etree._Element | None:
    node = el
    while node is not None and node.getparent() is not root:
        node = node.getparent()
    return node if node is not None and local_name(node) not in NOT_LETTERS else None


def read_emessage(tree: etree._ElementTree, source: str, options: ReadOptions,
                  encoding: str | None = None) -> list[ReadMessage]:
    """The messages of one Emessage document: one per letter, each with the findings that concern it (findings
    on the envelope or the document are listed once, with the first letter, and reject every letter). `encoding`:
    the one it was read in, if the tree's docinfo does not say it (xmlsafe.parse_document)."""
    root = tree.getroot()
    namespace = namespace_of(root)
    generation = generation_of(namespace)
    encoding = encoding or read_encoding(tree)
    if generation is None:
        return [ReadMessage(source, "oioxml", [Finding(
            "M-VERSION", Severity.ERROR, f"an Emessage in namespace {namespace or '(none)'}, which is not an OIOXML "
            f"generation medcom knows ({known_versions()})", source, root.sourceline)], encoding=encoding)]
    envelope = None
    bodies = []
    kids = []
    for child in root:
        if isinstance(child.tag, str):
            kids.append(child)
            name = local_name(child)
            if name not in NOT_LETTERS:
                bodies.append(child)
            elif name == ENVELOPE and envelope is None:
                envelope = child
    placed = _Placed(bodies, options.max_findings)
    readable_path = PathNamer()

    judge = judge_for(generation, options.schemas_dir)
    judge.schema.validate(tree)
    for error in judge.schema.error_log:
        top = _top_child(kids, error.path)
        cap = placed.at(top if top is not None and local_name(top) not in NOT_LETTERS
                        and not _misplaced_in_root(error) else None)
        if cap.full:  # counted, not built: no XPath, no path text
            cap.skip("M-SCHEMA", Severity.ERROR, source)
            continue
        el = _locate(root, error.path, top)
        text = cut_quotes(plain(_NS_IN_TEXT.sub("", error.message)))
        cap.add(Finding("M-SCHEMA", Severity.ERROR, f"{text} [{judge.label}]", source, error.line or None,
                        readable_path(el) if el is not None else error.path, code="schema", judged_by=judge.label))

    def add(rule: str, severity: Severity, text: str, el: etree._Element, *, code: str | None = None) -> None:
        cap = placed.at(_body_of_element(el, root))
        if cap.full:
            cap.skip(rule, severity, source)
        else:
            cap.add(Finding(rule, severity, text, source, el.sourceline, readable_path(el), code=code))

    wall_times = check_identifiers_and_times(root, add, sent_before_event=options.sent_before_event)
    placed.finish()
    if not bodies:
        shared = placed.shared.findings
        shared.append(Finding("M-SCHEMA", Severity.ERROR, f"the Emessage holds no letter [{judge.label}]", source,
                              root.sourceline, code="schema", judged_by=judge.label))
        return [ReadMessage(source, "oioxml", shared, generation=generation.name, schema=judge.label,
                            encoding=encoding)]
    messages = []
    head = children(envelope, None if options.letter_content else _HEAD_PARTS)
    for position, body in enumerate(bodies, start=1):
        name = f"{source} letter {position}" if len(bodies) > 1 else source
        findings = placed.findings(body, position, source)
        family = family_of_tag(body.tag)
        message = ReadMessage(name, "oioxml", findings, generation=generation.name, schema=judge.label,
                              encoding=encoding, position=position, line=body.sourceline, document=source)
        _describe(message, body, envelope, family, head, wall_times if options.letter_content else None,
                  readable_path)
        messages.append(message)
    return messages


def _describe(message: ReadMessage, body: etree._Element, envelope: etree._Element | None,
              family: Family | None, head: Children, wall_times: WallTimes | None,
              readable_path: PathNamer) -> None:
    """Fill in what the message is and its content (without `wall_times`, no content); an unknown body or version
    is a finding."""
    if wall_times is not None and family is not None:
        _describe_with_content(message, body, envelope, family, head, wall_times, readable_path)
        return
    # Describing alone (validate), only the few names it needs, and each walk stops once they are found.
    parts = children(body, _BODY_PARTS)
    letter_el = parts.get("Letter")
    letter = children(letter_el, _LETTER_PARTS)
    version = text_of(letter.get("VersionCode")) or ""
    message.version = version or None
    message.letter_id = text_of(letter.get("Identifier"))
    message.envelope_id = text_of(head.get("Identifier"))
    message.receipt_requested = envelope is not None and text_of(head.get("AcknowledgementCode")) == "pluspositivkvitt"
    sender = children(parts.get("Sender"), _SENDER_PARTS)
    message.sender = _party_ean(body, sender.get("EANIdentifier"), "Sender" in parts, "Sender")
    message.sender_name = _party_name(text_of(sender.get("OrganisationName")), text_of(sender.get("DepartmentName")))
    message.receiver = _party_ean(body, children(parts.get("Receiver"), _EAN).get("EANIdentifier"),
                                  "Receiver" in parts, "Receiver")
    if family is None:
        message.family = text_of(letter.get("StatisticalCode")) or local_name(body) \
            if letter_el is not None else local_name(body)
        message.findings.append(Finding(
            "M-VERSION", Severity.INFO, f"{local_name(body)} is a MedCom letter outside the admission and discharge "
            f"families ({known_versions()}): validated, not replayed", message.source, body.sourceline,
            readable_path(body)))
        return
    message.family = family.code
    _check_version(message, family, version, letter, letter_el, body, readable_path)


def _describe_with_content(message: ReadMessage, body: etree._Element, envelope: etree._Element | None,
                           family: Family, head: Children, wall_times: WallTimes, readable_path: PathNamer) -> None:
    """`_describe` of a letter of a known family whose content is read (replay): the letter is read first, each
    element's children once (Kids), and the description takes what the content already holds (the same texts of
    the same elements) instead of reading them again."""
    kids = Kids()
    parts = kids[body]
    content = read_letter(body, family, envelope, parts=parts, head=head, known=wall_times, kids=kids)
    letter_el = parts.get("Letter")
    letter = kids[letter_el]
    version = text_of(letter.get("VersionCode")) or ""
    message.version = version or None
    message.letter_id = content.letter_id
    message.envelope_id = content.envelope_id
    message.receipt_requested = content.receipt_requested
    sender, receiver = content.sender, content.receiver
    message.sender = sender.ean if sender.ean is not None else _party_ean(body, None, "Sender" in parts, "Sender")
    message.sender_name = _party_name(sender.organisation, sender.department)
    message.receiver = receiver.ean if receiver.ean is not None \
        else _party_ean(body, None, "Receiver" in parts, "Receiver")
    message.family = family.code
    _check_version(message, family, version, letter, letter_el, body, readable_path)
    message.content = content


def _check_version(message: ReadMessage, family: Family, version: str, letter: Children,
                   letter_el: etree._Element | None, body: etree._Element, readable_path: PathNamer) -> None:
    """M-VERSION: a letter's VersionCode must be its family's in its generation, and its StatisticalCode its family's
    code (XDIS20 for a NotificationOfAdmission), as in every MedCom sample; `letter` holds the Letter's children.
    (An absent or empty one is the schema's.)"""
    where = letter_el if letter_el is not None else body
    if version and version != family.version:
        message.findings.append(Finding(
            "M-VERSION", Severity.ERROR, f"{family.body} of generation {family.generation.name} is version "
            f"{family.version}, not {shortened(version)}", message.source, where.sourceline, readable_path(where)))
    code_el = letter.get("StatisticalCode")
    code = text_of(code_el)
    if code is not None and code_el is not None and code != family.code:
        message.findings.append(Finding(
            "M-VERSION", Severity.ERROR, f"{family.body} is a letter of family {family.code}, its StatisticalCode "
            f"says {quoted(code)}", message.source, code_el.sourceline, readable_path(code_el)))


_SENDER_PARTS = frozenset({"EANIdentifier", "OrganisationName", "DepartmentName"})


def _party_name(organisation: str | None, department: str | None) -> str | None:
    """'Organisation, department' of a Sender or Receiver, as the letter names them (None: it names neither)."""
    if organisation and department:
        return f"{organisation}, {department}"
    return organisation or department


def _party_ean(body: etree._Element, ean: etree._Element | None, present: bool, party: str) -> str | None:
    """The text of <party>/EANIdentifier, as the path finds it: the first party element's (`ean`, if it has one),
    else the first party element that has one (looked for only where a party element is `present`)."""
    if ean is None and present:
        ean = body.find(f"{{*}}{party}/{{*}}EANIdentifier")
    return text_of(ean)
