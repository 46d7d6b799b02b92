"""Answer checked messages with technical receipts: positive when valid, negative with a refuse code."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from medcom.formats.dialect.codec import to_xml
from medcom.formats.dialect.factory import make_receipt
from medcom.formats.dialect.model import RefuseCode
from medcom.formats.dialect.validation import CheckedDocument, Finding, Severity
from medcom.identifiers import mask_cprs
from medcom.safe_files import create_new, safe_name

MAX_REFUSE_TEXT = 2000


def refusal(findings: list[Finding], show_cpr: bool = False) -> tuple[RefuseCode, str] | None:
    """The refuse code and text for a message with errors, or None when it is accepted.

    Unknown family or version -> problem_med_version; the receiver's own identifiers wrong ->
    problem_med_modtagerID; not well-formed or schema-invalid -> syntaksfejl; any other error
    (CPR, time, letter status) -> ikke_specificeret.
    """
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return None
    rules = {f.rule for f in errors}
    if any(f.rule == "M-SCHEMA" and f.text.startswith("not a known") for f in errors):
        code = RefuseCode.VERSION
    elif any(f.rule in ("M-GLN", "M-MUNICIPALITY") and "/Receiver/" in (f.xpath or "") for f in errors):
        code = RefuseCode.RECEIVER_ID
    elif rules & {"M-SCHEMA", "M-XML"}:
        code = RefuseCode.SYNTAX
    else:
        code = RefuseCode.UNSPECIFIED
    text = "; ".join(f"{f.rule} line {f.line}: {f.text}" if f.line else f"{f.rule}: {f.text}" for f in errors)
    return code, (text if show_cpr else mask_cprs(text))[:MAX_REFUSE_TEXT]


def receipt_envelope_id(doc: CheckedDocument) -> str:
    """A stable 14-character envelope id for the receipt of one input."""
    digest = hashlib.sha1(f"{doc.source}\0{doc.envelope_id}".encode(), usedforsecurity=False).hexdigest()
    return "K" + digest[:13]


def write_receipt(doc: CheckedDocument, directory: Path, sent: datetime, show_cpr: bool = False) -> tuple[str, str]:
    """Write the receipt for `doc` if it asked for one. Returns (kind, detail) for the report; kind is
    positive, negative, not_requested, not_for_receipts, impossible or not_written (the file could not be
    created). A receipt file is always new (see medcom.safe_files): a name that is taken gets a number."""
    if doc.family is not None and doc.family.code.startswith("XCTL"):
        return "not_for_receipts", "a receipt is never itself receipted"
    if not doc.envelope_id:
        return "impossible", "the envelope cannot be read"
    if not doc.receipt_requested:
        return "not_requested", "the envelope does not ask for a positive receipt"
    sender, receiver = doc.party("sender"), doc.party("receiver")
    if sender is None or receiver is None:
        return "impossible", "the sender or receiver cannot be read"
    refuse = refusal(doc.findings, show_cpr)
    envelope_id = receipt_envelope_id(doc)
    receipt = make_receipt(sender=receiver, receiver=sender, original_envelope_id=doc.envelope_id,
                           original_letter_ids=(doc.letter_id,) if doc.letter_id else (), sent=sent,
                           envelope_id=envelope_id, refuse=refuse)
    try:
        shown = doc.envelope_id if show_cpr else mask_cprs(doc.envelope_id)  # a file name is output too
        name = create_new(directory, f"{safe_name(shown)}.{envelope_id}.xml", to_xml(receipt)).name
    except OSError as exc:
        return "not_written", f"cannot write the receipt: {exc.strerror or exc}"
    if refuse is None:
        return "positive", name
    return "negative", f"{name}: {refuse[0].value}"
