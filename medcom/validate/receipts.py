"""Answer received messages with technical receipts, as a receiving system does (MESSAGES.md): OIOXML with XCTL
receipts, MedCom FHIR with Acknowledgement Bundles (ok, or fatal-error with the errors as issues).

A refused letter always gets a negative receipt (XCTL02, a RefuseCode per letter); accepted letters get a
positive receipt (XCTL03) when the envelope asks for one (`pluspositivkvitt`); a receipt is never receipted.
Refuse codes: an unknown family or version -> problem_med_version; the receiver's own identifiers wrong ->
problem_med_modtagerID; not well-formed or schema-invalid -> syntaksfejl; anything else -> ikke_specificeret.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from medcom.findings import RECEIVER_GLN, RECEIVER_MUNICIPALITY, Finding, Severity
from medcom.formats.messages import ReadMessage
from medcom.formats.oioxml import write
from medcom.identifiers import mask_cprs
from medcom.safe_files import create_new, safe_name

MAX_REFUSE_TEXT = 2000
_RECEIVER_CODES = frozenset({RECEIVER_GLN, RECEIVER_MUNICIPALITY})  # the receiver's own identifiers


@dataclass(frozen=True, slots=True)
class Answer:
    """What was done for one message: kind (positive, negative, not_requested, not_for_receipts, impossible)
    and a detail (the receipt's file name, or why none)."""

    kind: str
    detail: str


def refuse_code(findings: list[Finding]) -> str | None:
    """The RefuseCode for a message with errors (None when it is accepted)."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return None
    rules = {f.rule for f in errors}
    if "M-VERSION" in rules:
        return "problem_med_version"
    if any(f.code in _RECEIVER_CODES for f in errors):  # what the finding is about, not what its path reads
        return "problem_med_modtagerID"
    if rules & {"M-SCHEMA", "M-XML"}:
        return "syntaksfejl"
    return "ikke_specificeret"


def refuse_text(findings: list[Finding]) -> str:
    """The errors as a receipt's RefuseText (masked by the caller unless --show-cpr)."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    text = "\n".join(f"{f.rule} line {f.line}: {f.text}" if f.line else f"{f.rule}: {f.text}" for f in errors)
    return text[:MAX_REFUSE_TEXT]


def receipt_id(sender: str, envelope_id: str, positive: bool, letters: list[tuple[str, str, str | None]]) -> str:
    """A stable 14-character envelope (and letter) id for the receipt of one received envelope: a digest of what it
    answers (sender, envelope id, the letters and their verdicts), not of where the envelope was found, so that a
    duplicate gets the same receipt as the first (M-DUP)."""
    answered = "\0".join([sender, envelope_id, str(positive), *("\1".join(map(str, x)) for x in letters)])
    return "K" + hashlib.sha1(answered.encode(), usedforsecurity=False).hexdigest()[:13]


def _ack_ids(header_id: str, code: str) -> tuple[str, str]:
    """The MessageHeader and Bundle ids of the Acknowledgement of `header_id` with `code`: the same for a
    duplicate as for the first (M-DUP), different for every message and verdict."""
    return (str(uuid.uuid5(uuid.NAMESPACE_URL, f"medcom:acknowledgement:{header_id}:{code}")),
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"medcom:acknowledgement-bundle:{header_id}:{code}")))


def input_stem(source: str) -> str:
    """The receipt file's name part saying which input it answers: the input file's (or archive member's) name
    without its suffix, the wrappers and the letter number; CPR numbers masked even with --show-cpr (a file name
    outlives the report), cut to a safe length."""
    outer = source.split(" > ")[0]
    outer = outer.rsplit(" letter ", 1)[0] if outer.rsplit(" letter ", 1)[-1].isdigit() else outer
    stem = Path(outer.rpartition("!")[2]).stem
    return safe_name(mask_cprs(stem), 48) if stem else "message"


def answer_fhir(message: ReadMessage, directory: Path, sent: datetime, mask: Callable[[str], str] = str) -> Answer:
    """The Acknowledgement Bundle for a received FHIR message: ok, or fatal-error with the errors as issues."""
    from medcom.formats.fhir import build_acknowledgement  # the FHIR stack only when a FHIR message is answered

    if message.family == "Acknowledgement":
        return Answer("not_for_receipts", "an acknowledgement is never itself acknowledged")
    content = message.content
    bundle = getattr(content, "bundle", None)
    if not isinstance(bundle, dict):
        return Answer("impossible", "the message cannot be read")
    errors = [mask(f"{f.rule} {f.xpath or ''} line {f.line}: {f.text}") for f in message.errors]
    code = "fatal-error" if errors else "ok"
    answered = message.letter_id or message.envelope_id  # the MessageHeader id (else the Bundle id)
    message_id, bundle_id = _ack_ids(answered, code) if answered else (None, None)
    ack = build_acknowledgement(bundle, code, errors[:20], now=sent, message_id=message_id, bundle_id=bundle_id)
    if ack is None:
        return Answer("impossible", "the message has no MessageHeader id, sender or receiver to answer")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        name = create_new(directory, f"{input_stem(message.source)}.ack.json",
                          json.dumps(ack, indent=2, ensure_ascii=False).encode()).name
    except OSError as exc:
        return Answer("not_written", f"cannot write the acknowledgement: {exc.strerror or exc}")
    return Answer("negative" if errors else "positive", f"{name}: fatal-error" if errors else name)


def answer_envelope(messages: list[ReadMessage], directory: Path, sent: datetime,
                    mask: Callable[[str], str] = str) -> list[Answer]:
    """Write the receipts for the letters of one received envelope; one `Answer` per message. OIOXML is answered
    with XCTL receipts, FHIR with Acknowledgement Bundles."""
    first = messages[0]
    if first.format == "fhir":
        return [answer_fhir(m, directory, sent, mask) for m in messages]
    if any(m.family and m.family.startswith("XCTL") for m in messages):
        return [Answer("not_for_receipts", "a receipt is never itself receipted")] * len(messages)
    if first.format != "oioxml" or not first.envelope_id:
        return [Answer("impossible", "the envelope cannot be read")] * len(messages)
    if not first.sender or not first.receiver:
        return [Answer("impossible", "the sender or receiver location number cannot be read")] * len(messages)
    refused = [m for m in messages if not m.accepted]
    accepted = [m for m in messages if m.accepted]
    names: dict[bool, str] = {}
    for positive, group in ((False, refused), (True, accepted)):
        if not group or (positive and not first.receipt_requested):
            continue
        letters = [(m.letter_id or "ukendt", m.version or "ukendt", refuse_code(m.findings),
                    mask(refuse_text(m.findings))) for m in group]
        ident = receipt_id(first.sender, first.envelope_id, positive, [x[:3] for x in letters])
        whole = None
        if not positive and all(m.letter_id is None for m in group):
            whole = (refuse_code(group[0].findings) or "ikke_specificeret", mask(refuse_text(group[0].findings)))
        data = write.receipt(positive=positive, envelope_id=ident, letter_id=ident, sent=sent,
                             sender_ean=first.receiver, receiver_ean=first.sender,
                             original_envelope_id=first.envelope_id, original_sender_ean=first.sender,
                             original_receiver_ean=first.receiver,
                             letters=[x for x in letters if x[0] != "ukendt" or whole is None], refuse=whole)
        try:  # a receipt file is always new (medcom.safe_files); a file name is output too: masked
            directory.mkdir(parents=True, exist_ok=True)
            name = f"{input_stem(first.source)}.{safe_name(mask_cprs(first.envelope_id))}." \
                   f"{'positive' if positive else 'negative'}.xml"
            names[positive] = create_new(directory, name, data).name
        except OSError as exc:
            return [Answer("not_written", f"cannot write the receipt: {exc.strerror or exc}")] * len(messages)
    answers = []
    for m in messages:
        if m.accepted:
            answers.append(Answer("positive", names[True]) if True in names else
                           Answer("not_requested", "the envelope does not ask for a positive receipt"))
        else:
            answers.append(Answer("negative", f"{names[False]}: {refuse_code(m.findings)}"))
    return answers
