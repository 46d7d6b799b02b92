"""The IG packages' conformance resources come from the shipped table (medcom/schemas/fhir-conformance/), derived
from the archives: the table is what the archives say now, holds what reading every file of a package finds, and
what it leaves out of a resource is nothing medcom reads (the same compiled profiles and value set expansions)."""

from __future__ import annotations

import io
import json
import tarfile
from importlib import resources

import pytest

from medcom.formats.fhir import igpackages, profiles, terminology
from medcom.formats.fhir.igpackages import Package, Resources, context, package, pruned, shipped

LABELS = [f"{name}#{version}" for name, versions in shipped().items() for version in versions]


def _every_file_read(label: str) -> dict[str, dict[str, dict]]:
    """The tables as igpackages made them from the archive: every JSON file at the package's top parsed, a
    conformance resource with a url kept by its url (the later file of a url wins), marked with its package."""
    name, _, version = label.partition("#")
    data = resources.files("medcom").joinpath("schemas", "fhir", f"{name}-{version}.tgz").read_bytes()
    tables: dict[str, dict[str, dict]] = {"StructureDefinition": {}, "ValueSet": {}, "CodeSystem": {}}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = sorted((m.name, archive.extractfile(m).read()) for m in archive.getmembers()  # type: ignore[union-attr]
                         if m.isfile() and m.name.endswith(".json"))
    for member, raw in members:
        if member.count("/") != 1 or member.rsplit("/", 1)[1].startswith("."):
            continue
        resource = json.loads(raw)
        if resource.get("resourceType") in tables and "url" in resource:
            resource["_package"] = label
            tables[resource["resourceType"]][resource["url"]] = resource
    return tables


def test_the_shipped_table_is_what_the_archives_say() -> None:
    """Written by `igpackages.write_table()` (medcom/schemas/fhir-conformance/SOURCE.md): an archive added,
    replaced or removed without writing it again fails here."""
    shipped_table = resources.files("medcom").joinpath("schemas", "fhir-conformance", "conformance.ndjson")
    assert shipped_table.read_bytes() == igpackages.derive_table()
    header, _ = igpackages._table()
    assert list(header) == LABELS


@pytest.mark.parametrize("label", LABELS)
def test_a_package_s_tables_are_what_its_files_say(label: str) -> None:
    loaded = package(label)
    assert loaded is not None
    expected = _every_file_read(label)
    for kind, table in (("StructureDefinition", loaded.structure_definitions), ("ValueSet", loaded.value_sets),
                        ("CodeSystem", loaded.code_systems)):
        assert list(table) == list(expected[kind]), kind
        assert {url: table[url] for url in table} == {url: {**pruned(r), "_package": label}
                                                      for url, r in expected[kind].items()}, kind
        assert table.get("http://example.org/not-there") is None
    manifest = json.loads(igpackages._archive(loaded.info.file)["package/package.json"])
    assert (loaded.info.name, loaded.info.version, loaded.info.dependencies) == (
        manifest["name"], manifest["version"], manifest.get("dependencies", {}))


def _whole(label: str) -> Package:
    """A package with its conformance resources whole, as the archive has them."""
    loaded = package(label)
    assert loaded is not None
    files = {kind: {url: json.dumps(r).encode() for url, r in table.items()}
             for kind, table in _every_file_read(label).items()}
    return Package(loaded.info, *(Resources(label, files[kind]) for kind in ("StructureDefinition", "ValueSet",
                                                                          "CodeSystem")))


@pytest.mark.parametrize("label", LABELS)
def test_what_the_table_leaves_out_compiles_to_the_same_profiles(label: str) -> None:
    whole, loaded = _whole(label), package(label)
    assert loaded is not None
    compared = 0
    for url in whole.structure_definitions:
        full = whole.structure_definitions[url]
        if "snapshot" in full:
            assert profiles.compiled(loaded.structure_definitions[url]) == profiles.compiled(full), url
            compared += 1
        else:
            assert "snapshot" not in loaded.structure_definitions[url]
    assert compared == len(whole.structure_definitions) > 0 or label.startswith("medcom.fhir.dk.terminology")


@pytest.mark.parametrize("label", [f"{name}#{version}" for name in igpackages.MESSAGE_IGS
                                   for version in shipped()[name]])
def test_what_the_table_leaves_out_expands_to_the_same_value_sets(label: str, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = context(label)
    assert judge is not None
    urls = sorted({url for member in judge.packages for url in package(member).value_sets})  # type: ignore[union-attr]
    from_table = [terminology.expansion.__wrapped__(url, judge) for url in urls]
    monkeypatch.setattr(igpackages, "package", _whole)
    assert [terminology.expansion.__wrapped__(url, judge) for url in urls] == from_table
    assert sum(e is not None for e in from_table) > 5


def test_a_resource_is_parsed_when_first_asked_for() -> None:
    loaded = package.__wrapped__(LABELS[0])  # read afresh, past the process's cache
    assert loaded is not None and len(loaded.structure_definitions) > 5
    table = loaded.structure_definitions
    assert isinstance(table, igpackages.Resources) and table._parsed == {}
    url = next(iter(table))
    assert url in table and "http://example.org/not-there" not in table and table._parsed == {}
    assert table[url] is table.get(url) and table[url]["url"] == url
    assert list(table._parsed) == [url]


def test_a_check_opens_no_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    """The archives are read for their examples only: a package's conformance resources come from the table."""
    opened: list[str] = []
    monkeypatch.setattr(igpackages, "_archive", lambda file: opened.append(file) or {})
    loaded = package.__wrapped__("medcom.fhir.dk.hospitalnotification#3.0.2")
    assert loaded is not None and len(loaded.structure_definitions) > 5
    assert [loaded.structure_definitions[url]["url"] for url in loaded.structure_definitions] == list(
        loaded.structure_definitions)
    assert opened == []
    igpackages._examples.cache_clear()
    assert loaded.examples == {} and opened == [loaded.info.file]
    igpackages._examples.cache_clear()
