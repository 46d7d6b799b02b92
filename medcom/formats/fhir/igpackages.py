"""MedCom's FHIR IG packages, every version in use, each with the exact dependencies it was built on.

The `.tgz` files in `medcom/schemas/fhir/` are published NPM-style packages (`<name>-<version>.tgz`), unchanged (see
its SOURCE.md): every version of HospitalNotification, CareCommunication and Acknowledgement medcom judges by, and
the MedCom core, messaging, terminology, messagedefinitions and HL7 Denmark dk-core versions their `package.json`
names. The check reads none of the archives: what it reads of their conformance resources is derived once into a
shipped table (`medcom/schemas/fhir-conformance/`, see its SOURCE.md: `derive_table`, tested to be what the
archives say), one resource a line, each parsed the first time a message needs it. An archive is opened only for
its example Bundles (`medcom build`, the simulation, the tests).

A `Context` is one IG version with its dependency closure: the IG's own package, the versions its package.json
names, then (for a package it does not name) what those name in turn. Canonical URLs are looked up in it without
their `|version` suffix: inside one closure each canonical exists once.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

_CONFORMANCE = ("StructureDefinition", "ValueSet", "CodeSystem")
_FOLDER = ("schemas", "fhir")
_TABLE = ("schemas", "fhir-conformance", "conformance.ndjson")


@dataclass(frozen=True)
class IGPackage:
    """One IG package: its name and version (from package.json) and the file it came from."""

    name: str
    version: str
    file: str
    dependencies: dict[str, str] = field(default_factory=dict, compare=False)


class Resources(Mapping[str, dict]):
    """A package's conformance resources of one kind by canonical URL, each parsed from its line of the table when
    first asked for: a message needs a few of the dozens each package holds."""

    def __init__(self, label: str, files: dict[str, bytes]) -> None:
        self._label = label
        self._files = files  # canonical URL -> the resource's JSON text
        self._parsed: dict[str, dict] = {}

    def __getitem__(self, url: str) -> dict:
        found = self._parsed.get(url)
        if found is None:
            found = self._parsed[url] = json.loads(self._files[url])
            found["_package"] = self._label
        return found

    def __contains__(self, url: object) -> bool:  # without parsing the resource (Mapping's would)
        return url in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


@dataclass
class Package:
    """The conformance resources of one package version by canonical URL (as the table has them), its examples."""

    info: IGPackage
    structure_definitions: Mapping[str, dict] = field(default_factory=dict)
    value_sets: Mapping[str, dict] = field(default_factory=dict)
    code_systems: Mapping[str, dict] = field(default_factory=dict)

    @property
    def examples(self) -> dict[str, bytes]:
        """The package's example files by file name, read from its archive when first asked for."""
        return _examples(self.info.file)


def strip_version(canonical: str) -> str:
    """`http://x/StructureDefinition/y|1.2.3` -> `http://x/StructureDefinition/y`."""
    return canonical.split("|", 1)[0]


def version_key(version: str) -> tuple[int, ...]:
    """`3.0.10` sorts after `3.0.2`."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


@cache
def shipped() -> dict[str, tuple[str, ...]]:
    """Package name -> its shipped versions, oldest first (from the file names: nothing is read)."""
    found: dict[str, list[str]] = {}
    for entry in resources.files("medcom").joinpath(*_FOLDER).iterdir():
        name = entry.name
        if name.endswith(".tgz") and "-" in name:
            package, _, version = name[:-4].rpartition("-")
            found.setdefault(package, []).append(version)
    return {name: tuple(sorted(versions, key=version_key)) for name, versions in sorted(found.items())}


@cache
def package(label: str) -> Package | None:
    """The shipped package `name#version`, from the table on first use; None if it is not shipped."""
    name, _, version = label.partition("#")
    if version not in shipped().get(name, ()):
        return None
    header, lines = _table()
    manifest_name, manifest_version, file, dependencies, tables = header[label]
    return Package(IGPackage(manifest_name, manifest_version, file, dependencies),
                   *(Resources(label, {url: lines[at] for url, at in tables[kind].items()}) for kind in _CONFORMANCE))


@cache
def _table() -> tuple[dict[str, list], list[bytes]]:
    """The shipped table: its first line says, for each package `name#version`, its name, version, file and
    dependencies, and on which line each of its conformance resources is (by kind and canonical URL)."""
    lines = resources.files("medcom").joinpath(*_TABLE).read_bytes().split(b"\n")
    return json.loads(lines[0]), lines


def _archive(file: str) -> dict[str, bytes]:
    """The JSON files of a shipped package's archive by member name (read again at each call: `_examples` and
    `derive_table` keep what they need of it)."""
    data = resources.files("medcom").joinpath(*_FOLDER, file).read_bytes()
    # unzipped once, then read as a plain tar: on the gzip stream ("r:gz") extracting the members after listing
    # them rewound it and unzipped the archive a second time
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".json")]
        return {m.name: archive.extractfile(m).read() for m in members}  # type: ignore[union-attr]


@cache
def _examples(file: str) -> dict[str, bytes]:
    """The example files of a shipped package's archive by file name."""
    return {member.rsplit("/", 1)[1]: raw for member, raw in sorted(_archive(file).items())
            if member.startswith("package/example/")}


@dataclass(frozen=True)
class Context:
    """One IG version and the package versions it was built on, in lookup order (the IG first)."""

    label: str  # the IG: 'medcom.fhir.dk.hospitalnotification#3.0.2'
    packages: tuple[str, ...]
    missing: tuple[str, ...] = ()  # dependencies that are not shipped (HL7 International's packages)

    def _find(self, table: str, canonical: str) -> dict | None:
        url = strip_version(canonical)
        for label in self.packages:
            loaded = package(label)
            found = getattr(loaded, table).get(url) if loaded is not None else None
            if found is not None:
                return found
        return None

    def structure_definition(self, canonical: str) -> dict | None:
        return self._find("structure_definitions", canonical)

    def value_set(self, canonical: str) -> dict | None:
        return self._find("value_sets", canonical)

    def code_system(self, canonical: str) -> dict | None:
        return self._find("code_systems", canonical)


@cache
def context(label: str) -> Context | None:
    """The IG `name#version` with its dependency closure; None if the IG is not shipped. The versions a package
    names win over those its dependencies name (as the IG Publisher resolves them when it builds the IG)."""
    root = package(label)
    if root is None:
        return None
    chosen = {root.info.name: label}
    missing: list[str] = []
    queue = [root]
    while queue:
        current = queue.pop(0)
        for name, version in current.info.dependencies.items():
            if name in chosen:
                continue
            dependency = package(f"{name}#{version}")
            chosen[name] = f"{name}#{version}"
            if dependency is None:
                missing.append(chosen[name])
                continue
            queue.append(dependency)
    return Context(label, tuple(v for v in chosen.values() if v not in missing), tuple(missing))


def newest(name: str) -> str | None:
    """`name#version` of the newest shipped version of a package."""
    versions = shipped().get(name)
    return f"{name}#{versions[-1]}" if versions else None


def example_bundles(*, every_version: bool = False) -> dict[str, bytes]:
    """The example message Bundles of the message IGs, by `<package>#<version>/<file name>` (every shipped
    version) or `<package>/<file name>` (the newest version only)."""
    found: dict[str, bytes] = {}
    for name in MESSAGE_IGS:
        for version in shipped().get(name, ()) if every_version else [shipped()[name][-1]]:
            loaded = package(f"{name}#{version}")
            prefix = f"{name}#{version}" if every_version else name
            found.update({f"{prefix}/{file}": raw for file, raw in (loaded.examples.items() if loaded else ())
                          if file.startswith("Bundle-")})
    return found


def example(name: str, file: str) -> bytes:
    """An example file of the newest shipped version of a package."""
    loaded = package(newest(name) or "")
    if loaded is None or file not in loaded.examples:
        raise KeyError(f"{name}/{file}")
    return loaded.examples[file]


MESSAGE_IGS = ("medcom.fhir.dk.hospitalnotification", "medcom.fhir.dk.carecommunication",
               "medcom.fhir.dk.acknowledgement")


# --- the table derived from the archives -------------------------------------------------------------------------

# What medcom reads of a conformance resource (profiles.py, terminology.py, messages.py): the rest (narratives,
# differentials, mappings, definitions and comments, three quarters of a StructureDefinition) is left out
_KEPT = {"StructureDefinition": ("url", "name", "type", "snapshot"), "ValueSet": ("url", "compose"),
         "CodeSystem": ("url", "content", "concept")}
_ELEMENT = ("id", "path", "sliceName", "min", "max", "type", "binding", "constraint", "slicing", "contentReference")
_ELEMENT_PARTS = {"type": ("code", "profile", "targetProfile"), "binding": ("strength", "valueSet"),
                  "constraint": ("key", "severity", "human", "expression", "source"),
                  "slicing": ("discriminator", "rules")}


def pruned(resource: dict) -> dict:
    """A conformance resource with only what medcom reads of it; a snapshot's elements keep their members' order
    (profiles.py takes an element's first `fixed[x]` and `pattern[x]`)."""
    kept = {key: value for key, value in resource.items() if key in _KEPT[resource["resourceType"]]}
    if "snapshot" in kept:
        kept["snapshot"] = {"element": [{key: _part(key, value) for key, value in element.items()
                                         if key in _ELEMENT or key.startswith(("fixed", "pattern"))}
                                        for element in kept["snapshot"]["element"]]}
    return kept


def _part(key: str, value: object) -> object:
    parts = _ELEMENT_PARTS.get(key)
    if parts is None:
        return value
    if isinstance(value, list):
        return [{k: v for k, v in item.items() if k in parts} for item in value]
    return {k: v for k, v in value.items() if k in parts}  # type: ignore[attr-defined]


def derive_table() -> bytes:
    """The table from the shipped archives: each package's name, version, file and dependencies (package.json),
    and its conformance resources (found by the package's `.index.json`, as the NPM package format lists them;
    the later file of a URL wins), `pruned`; a resource that several packages hold alike is written once."""
    header: dict[str, list] = {}
    lines: dict[bytes, int] = {}
    for name, versions in shipped().items():
        for version in versions:
            file = f"{name}-{version}.tgz"
            contents = _archive(file)
            manifest = json.loads(contents["package/package.json"])
            listed = {f"package/{entry['filename']}": entry
                      for entry in json.loads(contents["package/.index.json"])["files"]}
            tables: dict[str, dict[str, int]] = {kind: {} for kind in _CONFORMANCE}
            for member, raw in sorted(contents.items()):
                entry = listed.get(member, {})
                if member.count("/") != 1 or member.rsplit("/", 1)[1].startswith(".") \
                        or entry.get("resourceType") not in tables or "url" not in entry:
                    continue
                line = json.dumps(pruned(json.loads(raw)), ensure_ascii=False, separators=(",", ":")).encode()
                tables[entry["resourceType"]][entry["url"]] = lines.setdefault(line, len(lines) + 1)
            header[f"{name}#{version}"] = [manifest["name"], manifest["version"], file,
                                           dict(manifest.get("dependencies", {})), tables]
    return b"\n".join([json.dumps(header, separators=(",", ":")).encode(), *lines]) + b"\n"


def write_table(path: Path | None = None) -> None:
    """The table derived again, written where medcom ships it (or to `path`)."""
    (path or Path(__file__).parents[2].joinpath(*_TABLE)).write_bytes(derive_table())
