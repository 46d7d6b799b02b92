"""MedCom FHIR messages: read Bundles (JSON or XML), validate them against MedCom's IG packages, read what they say.

- `validate_bytes(data, file)` -> `ValidationResult`: parse and validate one document (rule ids in `rules`).
- `parse(data, file)` -> `ParsedResource`: only the reading (for a caller that validates later or not at all).
- `read_message(bundle)` -> `HospitalNotification | CareCommunication | Acknowledgement | None`: the typed facts.
- `build_acknowledgement(...)`: the Acknowledgement Bundle that answers a message.
The IG packages are package data (`packages/`, with their licence and SOURCE.md).
"""

from __future__ import annotations

from medcom.formats.fhir.reading import DEFAULT_MAX_BYTES, ParsedResource, parse, sniff
from medcom.formats.fhir.validator import ValidationResult, message_profile, validate_resource


def validate_bytes(data: bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ValidationResult:
    """Parse and validate one FHIR document; findings for everything wrong, never an exception."""
    parsed = parse(data, file, max_bytes=max_bytes)
    if parsed.resource is None:
        return ValidationResult(findings=parsed.findings)
    result = validate_resource(parsed.resource, file, parsed.lines)
    result.findings[:0] = parsed.findings
    return result


__all__ = ["DEFAULT_MAX_BYTES", "ParsedResource", "ValidationResult", "message_profile", "parse", "sniff",
           "validate_bytes", "validate_resource"]
