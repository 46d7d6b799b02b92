"""Value set membership from the shipped terminology and IG packages.

A ValueSet's compose is expanded here when every include is an enumerated list of concepts, a whole CodeSystem
that is shipped, or a filter whose answer this module knows (`_KNOWN_FILTERS`); any other filter, an include by
another value set or of a CodeSystem not shipped (SNOMED CT, most of HL7's) makes the value set unexpandable,
and a binding to it is "not checked" rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from medcom.formats.fhir.igpackages import Context


@dataclass(frozen=True)
class Expansion:
    """The (system, code) pairs of a value set."""

    url: str
    pairs: frozenset[tuple[str, str]]

    def contains_code(self, code: object) -> bool:
        return isinstance(code, str) and any(c == code for _, c in self.pairs)

    def contains(self, system: object, code: object) -> bool:
        if system is None:
            return self.contains_code(code)
        return isinstance(system, str) and isinstance(code, str) and (system, code) in self.pairs


def _all_codes(concepts: list[dict]) -> list[str]:
    found: list[str] = []
    for concept in concepts:
        found.append(concept["code"])
        found.extend(_all_codes(concept.get("concept", [])))
    return found


# Filters over HL7 code systems that are not shipped, expanded by hand from HL7's terminology (THO): MedCom's
# Encounter.class value set includes v3 ActCode's descendants of _ActEncounterCode.
_V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_KNOWN_FILTERS = {
    (_V3_ACT_CODE, "concept", "descendent-of", "_ActEncounterCode"):
        ("AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"),
}


def _include(part: dict, context: Context) -> set[tuple[str, str]] | None:
    system = part.get("system")
    filters = part.get("filter")
    if system is not None and isinstance(filters, list) and len(filters) == 1 and not part.get("concept") \
            and not part.get("valueSet") and isinstance(filters[0], dict):
        rule = filters[0]
        codes = _KNOWN_FILTERS.get((system, rule.get("property"), rule.get("op"), rule.get("value")))
        return None if codes is None else {(system, code) for code in codes}
    if system is None or filters or part.get("valueSet"):
        return None
    if part.get("concept"):
        return {(system, c["code"]) for c in part["concept"]}
    code_system = context.code_system(system)
    if code_system is None or code_system.get("content") != "complete":
        return None
    return {(system, code) for code in _all_codes(code_system.get("concept", []))}


@cache
def expansion(value_set: str, context: Context) -> Expansion | None:
    """The expansion of a value set of the IG version `context`; None when it is not in its packages or cannot
    be expanded here."""
    definition = context.value_set(value_set)
    if definition is None:
        return None
    compose = definition.get("compose", {})
    pairs: set[tuple[str, str]] = set()
    for part in compose.get("include", []):
        included = _include(part, context)
        if included is None:
            return None
        pairs |= included
    for part in compose.get("exclude", []):
        excluded = _include(part, context)
        if excluded is None:
            return None
        pairs -= excluded
    return Expansion(definition["url"], frozenset(pairs))
