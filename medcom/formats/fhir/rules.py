"""The FHIR format layer's rule ids: what kind of problem a finding reports."""

from __future__ import annotations

F_JSON = "F-JSON"            # not parseable as FHIR JSON: size, encoding, syntax, nesting depth, numbers, duplicates
F_XML = "F-XML"              # not parseable as FHIR XML: unsafe or malformed XML, not FHIR's XML form
F_STRUCTURE = "F-STRUCTURE"  # the FHIR R4 base model: unknown elements, types, JSON representation, base cardinality
F_PROFILE = "F-PROFILE"      # a MedCom profile: cardinality, fixed and pattern values, types, slices, target profiles
F_BINDING = "F-BINDING"      # a code outside the value set of a required binding
F_INVARIANT = "F-INVARIANT"  # a profile's or the base specification's FHIRPath constraint is violated
F_UNCHECKED = "F-UNCHECKED"  # info: what could not be checked (profile, value set or expression not available)
# A HospitalNotification's event is told by its Provenance activity; Encounter.status and .class must agree with it.
F_EVENT = "F-EVENT"                # the event cannot be told: no Provenance targets the message's own MessageHeader,
                                   # or its activity is not a HospitalNotification's
F_EVENT_STATUS = "F-EVENT-STATUS"  # the activity and Encounter.status disagree (SLHJ with status onleave)
F_EVENT_CLASS = "F-EVENT-CLASS"    # the activity and Encounter.class disagree (admit-emergency with class IMP)

ALL = (F_JSON, F_XML, F_STRUCTURE, F_PROFILE, F_BINDING, F_INVARIANT, F_UNCHECKED, F_EVENT, F_EVENT_STATUS,
       F_EVENT_CLASS)

# Machine codes of F-PROFILE findings that a decision reads (a finding's `code`; its text is for people).
MIN_CARDINALITY = "min-cardinality"  # fewer values than the profile's minimum (the base model may have said so)
MAX_CARDINALITY = "max-cardinality"  # more values than the profile's maximum
FIXED_VALUE = "fixed-value"  # a value other than the profile's fixed value
PATTERN = "pattern"  # a value that does not match the profile's pattern
