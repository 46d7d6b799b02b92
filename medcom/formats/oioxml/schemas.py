"""The XSDs that judge OIOXML: the official MedCom ones shipped as package data, medcom's own for 34C, or a
user's (`--schemas DIR`). Each is compiled once per process. Every schema file, the entry point and what it
includes or imports, is read as inputs are: a regular file (a FIFO named a.xsd would block, a device never end)
of bounded size, inside the schema folder, parsed by the parser that loads no DTD, entity or network resource."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from medcom.formats.oioxml.generations import GENERATIONS, Generation
from medcom.formats.xmlsafe import safe_parser
from medcom.safe_files import read_regular

MAX_SCHEMA_BYTES = 5_000_000  # MedCom's largest XSD is about 60 KB


class SchemaError(ValueError):
    """A schema folder or file that cannot be used (names the file)."""


@dataclass(frozen=True, slots=True)
class Judge:
    """A compiled schema and the words a finding uses to name it."""

    schema: etree.XMLSchema
    label: str


class _FolderFiles(etree.Resolver):
    """Resolves a schema's includes and imports to regular files inside one folder, read by `read_regular`;
    anything else (a FIFO, a device, a file outside the folder, a URL) resolves to nothing, and the reason is
    kept for the error message."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = os.path.realpath(folder)
        self.refused: list[str] = []

    def resolve(self, url: str, pubid: str | None, context: object) -> object:
        parts = urlsplit(url)
        path = unquote(parts.path) if parts.scheme in ("", "file") else None
        try:
            if path is None:
                raise OSError(f"not a local file: {url}")
            real = os.path.realpath(path)
            if os.path.commonpath([real, self.folder]) != self.folder:
                raise OSError(f"{path} is outside the schema folder {self.folder}")
            return self.resolve_string(read_regular(real, MAX_SCHEMA_BYTES), context, base_url=path)
        except (OSError, ValueError) as exc:
            self.refused.append(f"{url}: {getattr(exc, 'strerror', None) or exc}")
            return self.resolve_string(b"", context, base_url=url)


def _parse_schema_file(path: str, folder: str) -> tuple[etree._ElementTree, _FolderFiles]:
    """A schema file parsed safely, with the resolver its includes will go through."""
    resolver = _FolderFiles(folder)
    parser = safe_parser()
    parser.resolvers.add(resolver)
    try:
        data = read_regular(path, MAX_SCHEMA_BYTES)
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read the schema: {exc.strerror or exc}") from None
    try:
        root = etree.fromstring(data, parser, base_url=path)
    except etree.XMLSyntaxError as exc:
        raise SchemaError(f"{path}: not a readable XML schema: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise SchemaError(f"{path}: a DTD in a schema file is not allowed")
    return root.getroottree(), resolver


def _compile(path: str, folder: str | None = None) -> etree.XMLSchema:
    tree, resolver = _parse_schema_file(path, folder or os.path.dirname(path))
    try:
        return etree.XMLSchema(tree)
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        why = f" ({'; '.join(resolver.refused)})" if resolver.refused else ""
        raise SchemaError(f"{path}: cannot compile the schema: {exc}{why}") from None


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
        root = _parse_schema_file(path, directory)[0].getroot()
        namespace = root.get("targetNamespace") or ""
        declares = any(el.get("name") == "Emessage" for el in root.iterchildren("{*}element"))
        if declares and namespace not in found:
            found[namespace] = Judge(_compile(path, directory), f"user schema {os.path.relpath(path, directory)} "
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
