"""The XSDs that judge OIOXML: the official MedCom ones shipped as package data, medcom's own for 34C, or a
user's (`--schemas DIR`). Each is compiled once per process; includes and imports resolve inside its folder
only (no network, no entities)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lxml import etree

from medcom.formats.oioxml.generations import GENERATIONS, Generation


class SchemaError(ValueError):
    """A schema folder or file that cannot be used (names the file)."""


@dataclass(frozen=True, slots=True)
class Judge:
    """A compiled schema and the words a finding uses to name it."""

    schema: etree.XMLSchema
    label: str


def _compile(path: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        return etree.XMLSchema(etree.parse(path, parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        raise SchemaError(f"{path}: cannot compile the schema: {exc}") from None


@cache
def shipped(generation: Generation) -> Judge:
    """The schema shipped with medcom for a generation (official XSD or medcom's own)."""
    entry = resources.files("medcom").joinpath("schemas", "oioxml", *generation.schema.split("/"))
    with resources.as_file(entry) as path:
        return Judge(_compile(str(path)), generation.schema_label)


@cache
def user_schemas(directory: str) -> dict[str, Judge]:
    """The user's schema files by target namespace: every *.xsd under `directory` that declares a global
    `Emessage` element is an entry point for its namespace (MedCom's files are named EMessage.xsd)."""
    found: dict[str, Judge] = {}
    paths = sorted(str(p) for p in Path(directory).rglob("*.xsd"))
    if not paths:
        raise SchemaError(f"{directory}: no .xsd files")
    for path in paths:
        try:
            root = etree.parse(path, etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
        except (etree.XMLSyntaxError, OSError) as exc:
            raise SchemaError(f"{path}: not a readable XML schema: {exc}") from None
        namespace = root.get("targetNamespace") or ""
        declares = any(el.get("name") == "Emessage" for el in root.iterchildren("{*}element"))
        if declares and namespace not in found:
            found[namespace] = Judge(_compile(path), f"user schema {os.path.relpath(path, directory)} "
                                                     f"(--schemas {directory})")
    if not found:
        raise SchemaError(f"{directory}: no schema declares an Emessage element")
    return found


def judge_for(generation: Generation, user_dir: str | None = None) -> Judge:
    """The schema for a generation: the user's for its namespace if `--schemas` gave one, else the shipped one."""
    if user_dir is not None:
        user = user_schemas(user_dir).get(generation.namespace)
        if user is not None:
            return user
    return shipped(generation)


def check_user_dir(directory: str) -> list[str]:
    """Compile a `--schemas DIR` up front (usage errors before the work); the namespaces it covers."""
    covered = user_schemas(directory)
    known = {g.namespace for g in GENERATIONS}
    return sorted(ns for ns in covered if ns in known)
