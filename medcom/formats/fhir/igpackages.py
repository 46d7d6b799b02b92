"""MedCom's FHIR IG packages, shipped as package data: their StructureDefinitions, ValueSets, CodeSystems, examples.

The `.tgz` files in `packages/` are MedCom's published NPM-style IG packages, unchanged (see packages/SOURCE.md).
They are read with importlib.resources and tarfile, straight from the archives: nothing is unpacked to disk.
Canonical URLs are looked up without their `|version` suffix: each canonical exists once across the packages.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

PACKAGE_FILES = (
    "medcom.fhir.dk.terminology-2.0.2.tgz",
    "medcom.fhir.dk.core-4.0.0.tgz",
    "medcom.fhir.dk.messaging-4.0.2.tgz",
    "medcom.fhir.dk.hospitalnotification-3.0.2.tgz",
    "medcom.fhir.dk.carecommunication-5.0.2.tgz",
    "medcom.fhir.dk.acknowledgement-2.0.3.tgz",
)
_CONFORMANCE = frozenset({"StructureDefinition", "ValueSet", "CodeSystem"})


@dataclass(frozen=True)
class IGPackage:
    """One IG package: its name and version (from package.json) and the file it came from."""

    name: str
    version: str
    file: str
    dependencies: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Conformance:
    """Every conformance resource of the shipped packages, by canonical URL, and the packages' examples."""

    packages: list[IGPackage] = field(default_factory=list)
    structure_definitions: dict[str, dict] = field(default_factory=dict)
    value_sets: dict[str, dict] = field(default_factory=dict)
    code_systems: dict[str, dict] = field(default_factory=dict)
    examples: dict[str, bytes] = field(default_factory=dict)  # "<package>/<file name>" -> bytes

    def structure_definition(self, canonical: str) -> dict | None:
        return self.structure_definitions.get(strip_version(canonical))

    def value_set(self, canonical: str) -> dict | None:
        return self.value_sets.get(strip_version(canonical))

    def code_system(self, canonical: str) -> dict | None:
        return self.code_systems.get(strip_version(canonical))

    def package(self, label: str) -> IGPackage | None:
        """The shipped package `name#version`."""
        return next((p for p in self.packages if f"{p.name}#{p.version}" == label), None)

    def package_of(self, canonical: str) -> str | None:
        """The `name#version` of the package that defines `canonical`, if shipped."""
        resource = (self.structure_definition(canonical) or self.value_set(canonical)
                    or self.code_system(canonical))
        return resource.get("_package") if resource else None


def strip_version(canonical: str) -> str:
    """`http://x/StructureDefinition/y|1.2.3` -> `http://x/StructureDefinition/y`."""
    return canonical.split("|", 1)[0]


def _read_package(data: bytes, file: str, into: Conformance) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".json")]
        contents = {m.name: archive.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    manifest = json.loads(contents["package/package.json"])
    label = f"{manifest['name']}#{manifest['version']}"
    into.packages.append(IGPackage(manifest["name"], manifest["version"], file, dict(manifest.get("dependencies", {}))))
    for name, raw in sorted(contents.items()):
        if name.startswith("package/example/"):
            into.examples[f"{manifest['name']}/{name.rsplit('/', 1)[1]}"] = raw
            continue
        if name.count("/") != 1 or name.rsplit("/", 1)[1].startswith("."):
            continue
        resource = json.loads(raw)
        kind = resource.get("resourceType")
        if kind not in _CONFORMANCE or "url" not in resource:
            continue
        resource["_package"] = label
        table = {"StructureDefinition": into.structure_definitions, "ValueSet": into.value_sets,
                 "CodeSystem": into.code_systems}[kind]
        table[resource["url"]] = resource


@cache
def conformance() -> Conformance:
    """All shipped packages, loaded once per process."""
    loaded = Conformance()
    folder = resources.files("medcom").joinpath("schemas", "fhir")
    for file in PACKAGE_FILES:
        _read_package(folder.joinpath(file).read_bytes(), file, loaded)
    return loaded


def example_bundles() -> dict[str, bytes]:
    """The example message Bundles the IG packages ship, by `<package>/<file name>`."""
    return {name: raw for name, raw in conformance().examples.items() if name.rsplit("/", 1)[1].startswith("Bundle-")}
