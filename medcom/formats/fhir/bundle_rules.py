"""FHIR R4 rules of a message Bundle that no profile states and the base model walk does not see.

HL7's package hl7.fhir.r4.core is not available here; these are the base rules MedCom's messages need, read from
the R4 specification and encoded by hand:

- `Bundle.entry.fullUrl` "SHALL NOT disagree with the id in the resource": a RESTful fullUrl (`.../Patient/x`)
  names the resource's type and id (F-STRUCTURE).
- A `urn:uuid:` or `urn:oid:` reference can only resolve inside the Bundle: one that no entry's fullUrl carries
  points at nothing (F-STRUCTURE). (Other references may point at a server and are not followed.)
- Required bindings of the base specification whose value set is a fixed list of codes (Patient.gender,
  Narrative.status, Identifier.use, ...), wherever the element sits, profiled or not (F-BINDING).
"""

from __future__ import annotations

import re

from medcom.formats.fhir.basemodel import ElementInfo, elements, is_resource_type
from medcom.formats.fhir.locations import Path
from medcom.formats.fhir.rules import F_BINDING, F_STRUCTURE
from medcom.formats.fhir.structure import StructureCheck
from medcom.quoting import quoted, shortened

_RESTFUL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
_LOCAL_URN = ("urn:uuid:", "urn:oid:")


class BundleRules:
    """The rules above over one Bundle, asked by the structure check's walk as it goes (one walk of the JSON, not
    two): a Reference object it descends into, a key whose shape it does not descend into or a primitive with a
    base binding (`member`). The findings are kept in the walk's order and added after the structure's own
    (`add_to`), as a walk of their own would have added them."""

    def __init__(self, bundle: dict) -> None:
        entries = bundle["entry"]
        self.bundle = bundle
        self.urls = {e["fullUrl"] for e in entries if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)}
        self.found: list[tuple[Path, str, str]] = []

    def reference(self, value: dict, path: Path) -> None:
        """A Reference object the walk descends into (before its members)."""
        target = value.get("reference")
        if isinstance(target, str) and target.startswith(_LOCAL_URN) and target not in self.urls:
            self.found.append((path + ("reference",), f"{shortened(target)} resolves to no entry of the Bundle: a "
                               "urn: reference names a resource inside the Bundle", F_STRUCTURE))

    def member(self, item: object, info: ElementInfo, type_name: str, path: Path) -> None:
        """One key of an object, wholly (what the walk does not descend into: a repeating element not given as an
        array, a single one given as one, a primitive's codes)."""
        _member(item, info, type_name, path, self.urls, self.found)

    def add_to(self, structure: StructureCheck) -> None:
        """A RESTful fullUrl's disagreement with its resource, then what the walk found, to `structure`."""
        for index, entry in enumerate(self.bundle["entry"]):
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            resource = entry["resource"]
            full_url = entry.get("fullUrl")
            match = _RESTFUL.search(full_url) if isinstance(full_url, str) and not full_url.startswith("urn:") \
                else None
            if match is not None and is_resource_type(match[1]):  # `.../Patient/x`: a resource type, then an id
                kind, ident = match.groups()
                own = resource.get("id")
                if resource.get("resourceType") != kind or (isinstance(own, str) and own != ident):
                    structure.add(("entry", index, "fullUrl"), f"fullUrl {shortened(full_url)} disagrees with the "
                                  f"resource ({resource.get('resourceType')} with id {quoted(own)}): a RESTful fullUrl "
                                  "ends with the "
                                  "resource's type and id")
        for path, text, rule in self.found:
            structure.add(path, text, rule)


def bundle_rules_of(bundle: object) -> BundleRules | None:
    """The rules' walker for a Bundle with entries (the rules are about entries); None for anything else."""
    if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle" and isinstance(bundle.get("entry"), list):
        return BundleRules(bundle)
    return None


def walk(value: dict, type_name: str, path: Path, urls: set[str], found: list[tuple[Path, str, str]]) -> None:
    """The rules on an object and all it holds, in a walk of their own (the structure check's walk asks them as it
    goes; the tests hold the two to the same findings)."""
    known = elements(type_name)
    for key, item in value.items():
        if key.startswith("_") or key == "resourceType":
            continue
        info = known.get(key)
        if info is None:
            continue  # unknown: the structure check says so
        _member(item, info, type_name, path + (key,), urls, found)


def _member(item: object, info: ElementInfo, type_name: str, where_key: Path, urls: set[str],
            found: list[tuple[Path, str, str]]) -> None:
    items = list(enumerate(item)) if isinstance(item, list) else [(None, item)]
    for index, one in items:
        where = where_key if index is None else where_key + (index,)
        if info.kind == "resource":
            if isinstance(one, dict) and isinstance(one.get("resourceType"), str):
                walk(one, one["resourceType"], where, urls, found)
        elif info.kind == "complex":
            if not isinstance(one, dict):
                continue
            if info.fhir_type == "Reference":
                target = one.get("reference")
                if isinstance(target, str) and target.startswith(_LOCAL_URN) and target not in urls:
                    found.append((where + ("reference",), f"{shortened(target)} resolves to no entry of the "
                                  "Bundle: a urn: reference names a resource inside the Bundle", F_STRUCTURE))
            walk(one, info.fhir_type, where, urls, found)
        elif info.enum and isinstance(one, str) and one not in info.enum:
            found.append((where, f"code {quoted(one)} is not in the required value set of {type_name}.{where_key[-1]} "
                          f"(R4: {', '.join(info.enum)})", F_BINDING))
