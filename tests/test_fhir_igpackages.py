"""The IG packages' conformance resources are found by the package's own index and parsed when first asked for
(igpackages.Resources): the same tables as reading every file of the package."""

from __future__ import annotations

import io
import json
import tarfile
from importlib import resources

import pytest

from medcom.formats.fhir import igpackages
from medcom.formats.fhir.igpackages import package, shipped

LABELS = [f"{name}#{version}" for name, versions in shipped().items() for version in versions]


def _every_file_read(label: str) -> dict[str, dict[str, dict]]:
    """The tables as igpackages made them before: every JSON file at the package's top parsed, a conformance
    resource with a url kept by its url (the later file of a url wins), marked with its package."""
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


@pytest.mark.parametrize("label", LABELS)
def test_a_package_s_tables_are_what_its_files_say(label: str) -> None:
    loaded = package(label)
    assert loaded is not None
    expected = _every_file_read(label)
    for kind, table in (("StructureDefinition", loaded.structure_definitions), ("ValueSet", loaded.value_sets),
                        ("CodeSystem", loaded.code_systems)):
        assert list(table) == list(expected[kind]), kind
        assert {url: table[url] for url in table} == expected[kind], kind
        assert table.get("http://example.org/not-there") is None


def test_a_resource_is_parsed_when_first_asked_for() -> None:
    loaded = package.__wrapped__(LABELS[0])  # read afresh, past the process's cache
    assert loaded is not None and len(loaded.structure_definitions) > 5
    table = loaded.structure_definitions
    assert isinstance(table, igpackages.Resources) and table._parsed == {}
    url = next(iter(table))
    assert url in table and "http://example.org/not-there" not in table and table._parsed == {}
    assert table[url] is table.get(url) and table[url]["url"] == url
    assert list(table._parsed) == [url]
