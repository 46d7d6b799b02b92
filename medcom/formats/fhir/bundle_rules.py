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

from medcom.formats.fhir.basemodel import elements, is_resource_type
from medcom.formats.fhir.locations import Path
from medcom.formats.fhir.rules import F_BINDING
from medcom.formats.fhir.structure import StructureCheck
from medcom.quoting import quoted, shortened

_RESTFUL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
_LOCAL_URN = ("urn:uuid:", "urn:oid:")


def bundle_rules(bundle: dict, structure: StructureCheck) -> None:
    """Add the findings of the rules above to `structure` (one per location, as its own findings)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return
    urls = {e["fullUrl"] for e in entries if isinstance(e, dict) and isinstance(e.get("fullUrl"), str)}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        resource = entry["resource"]
        full_url = entry.get("fullUrl")
        match = _RESTFUL.search(full_url) if isinstance(full_url, str) and not full_url.startswith("urn:") else None
        if match is not None and is_resource_type(match[1]):  # `.../Patient/x`: a resource type, then an id
            kind, ident = match.groups()
            own = resource.get("id")
            if resource.get("resourceType") != kind or (isinstance(own, str) and own != ident):
                structure.add(("entry", index, "fullUrl"), f"fullUrl {shortened(full_url)} disagrees with the "
                              f"resource ({resource.get('resourceType')} with id {quoted(own)}): a RESTful fullUrl "
                              "ends with the "
                              "resource's type and id")
    _walk(bundle, "Bundle", (), urls, structure)


def _walk(value: dict, type_name: str, path: Path, urls: set[str], structure: StructureCheck) -> None:
    known = elements(type_name)
    for key, item in value.items():
        if key.startswith("_") or key == "resourceType":
            continue
        info = known.get(key)
        if info is None:
            continue  # unknown: the structure check says so
        items = list(enumerate(item)) if isinstance(item, list) else [(None, item)]
        for index, one in items:
            where = path + (key,) if index is None else path + (key, index)
            if info.kind == "resource":
                if isinstance(one, dict) and isinstance(one.get("resourceType"), str):
                    _walk(one, one["resourceType"], where, urls, structure)
            elif info.kind == "complex":
                if not isinstance(one, dict):
                    continue
                if info.fhir_type == "Reference":
                    target = one.get("reference")
                    if isinstance(target, str) and target.startswith(_LOCAL_URN) and target not in urls:
                        structure.add(where + ("reference",), f"{shortened(target)} resolves to no entry of the "
                                      "Bundle: a urn: reference names a resource inside the Bundle")
                _walk(one, info.fhir_type, where, urls, structure)
            elif info.enum and isinstance(one, str) and one not in info.enum:
                structure.add(where, f"code {quoted(one)} is not in the required value set of {type_name}.{key} "
                              f"(R4: {', '.join(info.enum)})", F_BINDING)
