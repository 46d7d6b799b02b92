"""Build the Acknowledgement Bundle that answers a MedCom FHIR message (for `validate --receipts`).

The answer goes back the way the message came: its sender is the message's primary receiver and its receiver the
message's sender (their Organization resources are copied), MessageHeader.response names the acknowledged
MessageHeader id with ok / transient-error / fatal-error, an OperationOutcome carries the issue texts of an error,
and a Provenance (activity `acknowledgement`) names the acknowledged message as its revision. Their ids derive from
the acknowledgement's MessageHeader id, so an acknowledgement given its ids (as `medcom build` gives them) is the
same bytes every time.
"""

from __future__ import annotations

import copy
import html
import uuid
from collections.abc import Sequence
from datetime import datetime

from medcom.formats.fhir.compose import uuid_of
from medcom.formats.fhir.messages import ACTIVITY_SYSTEM, _Bundle, _primary_receiver

ACK_PROFILE = "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"
ACK_HEADER_PROFILE = ("http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"
                      "medcom-messaging-acknowledgementHeader")
OUTCOME_PROFILE = ("http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"
                   "medcom-acknowledgement-operationoutcome")
PROVENANCE_PROFILE = "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance"
EVENT_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
DESTINATION_USE = "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
DESTINATION_USE_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"
RESPONSE_CODES = ("ok", "transient-error", "fatal-error")


def _narrative(text: str) -> dict:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></div>'}


def _fhir_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _base_url(message: dict, header: dict) -> str:
    """The base of the message's fullUrls (`https://x/MessageHeader/<id>` -> `https://x`), to write ours alike."""
    for entry in message.get("entry", []):
        if isinstance(entry, dict) and entry.get("resource") is header and isinstance(entry.get("fullUrl"), str):
            full = entry["fullUrl"]
            suffix = f"MessageHeader/{header.get('id')}"
            if full.endswith(suffix) and len(full) > len(suffix):
                return full[: -len(suffix)].rstrip("/")
    return "https://medcomfhir.dk/fhir"


def build_acknowledgement(message: dict, code: str = "ok", issues: Sequence[str] = (), *, now: datetime,
                          message_id: str | None = None, bundle_id: str | None = None) -> dict | None:
    """The Acknowledgement answering `message` (a parsed MedCom message Bundle); None when the message has no
    MessageHeader id, sender or receiver Organization to answer with. `now` must be timezone-aware."""
    if code not in RESPONSE_CODES:
        raise ValueError(f"response code must be one of {', '.join(RESPONSE_CODES)}, not {code!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    view = _Bundle(message if isinstance(message, dict) else {})
    header = next(iter(view.of_type("MessageHeader")), None)
    if header is None or not isinstance(header.get("id"), str):
        return None
    original_sender = view.resolve(header.get("sender"))
    original_receiver = view.resolve(_primary_receiver(header) or {})
    if not original_sender or not original_receiver or not original_sender.get("id") or not original_receiver.get(
            "id"):
        return None
    base = _base_url(message, header)
    ack_id = message_id or str(uuid.uuid4())
    sender, receiver = copy.deepcopy(original_receiver), copy.deepcopy(original_sender)
    sender_ref = {"reference": f"Organization/{sender['id']}"}
    receiver_ref = {"reference": f"Organization/{receiver['id']}"}
    source = header.get("source") if isinstance(header.get("source"), dict) else {}
    destinations = [d for d in header.get("destination", []) if isinstance(d, dict)]
    back_to = source.get("endpoint") or ""
    from_endpoint = next((d.get("endpoint") for d in destinations if isinstance(d.get("endpoint"), str)), "")
    response: dict = {"identifier": header["id"], "code": code}
    entries: list[dict] = []
    outcome = None
    if code != "ok" or issues:
        outcome = {
            "resourceType": "OperationOutcome", "id": uuid_of(ack_id, "outcome"),
            "meta": {"profile": [OUTCOME_PROFILE]},
            "text": _narrative("; ".join(issues) or "The message could not be processed"),
            "issue": [{"severity": "error" if code != "ok" else "information", "code": "processing",
                       "details": {"text": text}} for text in (issues or ["The message could not be processed"])],
        }
        response["details"] = {"reference": f"OperationOutcome/{outcome['id']}"}
    ack_header = {
        "resourceType": "MessageHeader", "id": ack_id, "meta": {"profile": [ACK_HEADER_PROFILE]},
        "text": _narrative(f"Acknowledgement ({code}) of message {header['id']}"),
        "eventCoding": {"system": EVENT_SYSTEM, "code": "acknowledgement-message"},
        "destination": [{"extension": [{"url": DESTINATION_USE, "valueCoding": {
            "system": DESTINATION_USE_SYSTEM, "code": "primary"}}], "endpoint": back_to, "receiver": receiver_ref}],
        "sender": sender_ref, "source": {"endpoint": from_endpoint}, "response": response,
    }
    provenance = {
        "resourceType": "Provenance", "id": uuid_of(ack_id, "provenance"), "meta": {"profile": [PROVENANCE_PROFILE]},
        "text": _narrative(f"Acknowledgement of message {header['id']}"),
        "target": [{"reference": f"MessageHeader/{ack_id}"}], "occurredDateTime": _fhir_time(now),
        "recorded": _fhir_time(now),
        "activity": {"coding": [{"system": ACTIVITY_SYSTEM, "code": "acknowledgement"}]},
        "agent": [{"who": sender_ref}],
        "entity": [{"role": "revision", "what": {"reference": f"MessageHeader/{header['id']}"}}],
    }
    for resource in (ack_header, provenance, sender, receiver, outcome):
        if resource is not None:
            entries.append({"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource})
    return {"resourceType": "Bundle", "id": bundle_id or str(uuid.uuid4()), "meta": {"profile": [ACK_PROFILE]},
            "type": "message", "timestamp": _fhir_time(now), "entry": entries}
