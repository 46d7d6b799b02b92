"""MedCom FHIR messages: read Bundles (JSON or XML), validate them against MedCom's IG packages, read what they say.

- `validate_bytes(data, file)` -> `ValidationResult`: parse and validate one document (rule ids in `rules`).
- `parse(data, file)` -> `ParsedResource`: only the reading (for a caller that validates later or not at all).
- `read_message(bundle)` -> `HospitalNotification | CareCommunication | Acknowledgement | None`: the typed facts.
- `build_acknowledgement(message, code, issues, now=...)`: the Acknowledgement Bundle that answers a message.
- `to_xml(resource)`: FHIR XML of a resource; `looks_like_fhir(data)`: a cheap test for sorting a mixed log.
The IG packages, every version in use with its dependencies, are package data (`medcom/schemas/fhir/`, with
their licence and SOURCE.md); `ValidationResult.ig` names the version that judged a message.
"""

from __future__ import annotations

from medcom.formats.fhir.acknowledge import build_acknowledgement
from medcom.formats.fhir.messages import (
    Acknowledgement,
    CareCommunication,
    HospitalNotification,
    notification_code,
    read_message,
)
from medcom.formats.fhir.reading import DEFAULT_MAX_BYTES, ParsedResource, looks_like_fhir, parse, sniff
from medcom.formats.fhir.validator import ValidationResult, message_profile, validate_resource
from medcom.formats.fhir.xmlwrite import to_xml


def validate_bytes(data: bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ValidationResult:
    """Parse and validate one FHIR document; findings for everything wrong, never an exception."""
    parsed = parse(data, file, max_bytes=max_bytes)
    if parsed.resource is None:
        return ValidationResult(findings=parsed.findings)
    result = validate_resource(parsed.resource, file, parsed.lines)
    result.findings[:0] = parsed.findings
    return result


__all__ = ["DEFAULT_MAX_BYTES", "Acknowledgement", "CareCommunication", "HospitalNotification", "ParsedResource",
           "ValidationResult", "build_acknowledgement", "looks_like_fhir", "message_profile", "notification_code",
           "parse", "read_message", "sniff", "to_xml", "validate_bytes", "validate_resource"]
