"""MedCom FHIR message Bundles as messages of a log: the adapter beside OIOXML's (detect -> read -> validate).

Each Bundle is one message: its envelope is the Bundle id, its id the MessageHeader id (MedCom's reliable
messaging: a resend keeps the MessageHeader id under a new Bundle id). The content is the typed message
(`medcom.formats.fhir.messages`) for the events mapping, and the parsed Bundle for an Acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass

from medcom.findings import RECEIVER_MUNICIPALITY, Finding, Location, Severity
from medcom.formats import fhir
from medcom.formats.messages import ReadMessage, ReadOptions
from medcom.identifiers import check_municipality

FAMILY_OF = {"HospitalNotification": "HospitalNotification", "CareCommunication": "CareCommunication",
             "Acknowledgement": "Acknowledgement"}


@dataclass(frozen=True, slots=True)
class FhirContent:
    """What the events mapping and the receipts need of a FHIR message."""

    message: fhir.HospitalNotification | fhir.CareCommunication | fhir.Acknowledgement
    bundle: dict


def _label(profile: str | None, ig: str | None) -> str:
    """Which IG version judged the message: 'MedCom FHIR IG medcom.fhir.dk.hospitalnotification#3.0.1 (...)'."""
    if profile is None:
        return "MedCom FHIR (no message profile applies)"
    return f"MedCom FHIR IG {ig or '?'} ({profile.rsplit('/', 1)[-1]})"


def _identifier(party: fhir.messages.Party | None) -> str | None:
    if party is None:
        return None
    return party.gln or party.sor


def _event_code(bundle: dict) -> str | None:
    entries = bundle.get("entry")
    first = entries[0].get("resource") if isinstance(entries, list) and entries and isinstance(entries[0], dict) \
        else None
    coding = first.get("eventCoding") if isinstance(first, dict) else None
    return str(coding.get("code")) if isinstance(coding, dict) and coding.get("code") else None


def _first_line(data: bytes) -> int:
    """The line the document's content starts on (one Bundle a document: the message's line)."""
    start = len(data) - len(data.lstrip())
    return data.count(b"\n", 0, start) + 1


def read_fhir(data: bytes, source: str, options: ReadOptions) -> list[ReadMessage]:
    """One FHIR document as a message, validated against MedCom's profiles."""
    parsed = fhir.parse(data, source, max_bytes=options.max_bytes)
    message = ReadMessage(source, "fhir", list(parsed.findings), generation="FHIR R4",
                          encoding="UTF-8" if parsed.format == "json" else None, line=_first_line(data))
    if parsed.resource is None:
        return [message]
    result = fhir.validate_resource(parsed.resource, source, parsed.lines)
    message.findings += result.findings
    message.schema = _label(result.profile, result.ig)
    typed = fhir.read_message(parsed.resource)
    if typed is None:
        message.family = _event_code(parsed.resource)
        message.findings.append(Finding("M-VERSION", Severity.INFO if result.profile else Severity.ERROR,
                                        "not a MedCom HospitalNotification, CareCommunication or Acknowledgement"
                                        + (": validated, not replayed" if result.profile else ""), source, 1))
        return [message]
    if isinstance(typed, fhir.HospitalNotification):
        message.findings += [Finding(p.rule, Severity.ERROR, p.text, source, parsed.lines.line(p.path),
                                     location=Location.fhir("Bundle", p.path)) for p in typed.problems]
    header = typed.header
    for party, code in ((header.sender, "municipality"), (header.receiver, RECEIVER_MUNICIPALITY)):
        if party is not None and party.municipality_code is not None \
                and (problem := check_municipality(party.municipality_code)):
            message.findings.append(Finding("M-MUNICIPALITY", Severity.ERROR, problem, source, parsed.lines.line(()),
                                            code=code))
    message.family = FAMILY_OF[type(typed).__name__]
    message.version = result.ig.partition("#")[2] if result.ig else None
    message.envelope_id, message.letter_id = header.bundle_id, header.message_id
    message.sender, message.receiver = _identifier(header.sender), _identifier(header.receiver)
    message.sender_name = header.sender.name if header.sender else None
    message.receipt_requested = message.family != "Acknowledgement"  # every MedCom message is acknowledged
    message.content = FhirContent(typed, parsed.resource)
    return [message]
