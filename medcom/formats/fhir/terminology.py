"""Value set membership from the shipped terminology and IG packages.

A ValueSet's compose is expanded here when every include is either an enumerated list of concepts or a whole
CodeSystem that is shipped; an include by filter, by another value set, or of a CodeSystem not shipped (SNOMED CT,
HL7's v3 code systems) makes the value set unexpandable, and a binding to it is "not checked" rather than guessed.
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


def _include(part: dict, context: Context) -> set[tuple[str, str]] | None:
    system = part.get("system")
    if system is None or part.get("filter") or part.get("valueSet"):
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
