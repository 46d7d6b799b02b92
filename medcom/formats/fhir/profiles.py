"""MedCom's StructureDefinition snapshots compiled into trees of element definitions, once per process.

A snapshot is a flat list of ElementDefinitions whose ids say where each sits: `Encounter.period.start` is a
child of `Encounter.period`, `Encounter.extension:leavePeriod` a slice of `Encounter.extension`, and the
children of a slice follow it (`Encounter.episodeOfCare:lpr3identifier.identifier`). `compile_profile` turns that
list into `ElementDef` nodes with their children and slices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

from medcom.formats.fhir.base_invariants import STRUCTURE_CHECKED, Native
from medcom.formats.fhir.igpackages import Context, package, strip_version
from medcom.formats.fhir.medcom_invariants import native


@dataclass(frozen=True)
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str | None
    source: str


@dataclass(frozen=True)
class Discriminator:
    type: str  # value | pattern | type | profile | exists
    path: str


@dataclass
class ElementDef:
    """One element definition of a profile, with its children and its slices."""

    id: str
    path: str
    name: str  # the last path step: 'class', 'value[x]'
    slice_name: str | None
    min: int
    max: int | None  # None: unbounded
    types: tuple[TypeRef, ...]
    fixed: tuple[str, object] | None  # ('fixedUri', value)
    pattern: tuple[str, object] | None
    binding: tuple[str, str] | None  # (strength, value set canonical)
    constraints: tuple[Constraint, ...]
    discriminators: tuple[Discriminator, ...] = ()
    slicing_rules: str | None = None  # closed | open | openAtEnd; None: not sliced
    content_reference: str | None = None
    children: list[ElementDef] = field(default_factory=list)
    slices: list[ElementDef] = field(default_factory=list)

    @cached_property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @cached_property
    def json_name(self) -> str:
        return self.name[:-3] if self.is_choice else self.name

    @cached_property
    def twin_key(self) -> str:
        """The JSON key of a primitive's id and extensions: `_status`."""
        return "_" + self.json_name

    @cached_property
    def single_type(self) -> str | None:
        """The type code when there is one type (not FHIRPath's System.String of an id or extension url)."""
        if len(self.types) == 1 and self.types[0].code != "http://hl7.org/fhirpath/System.String":
            return self.types[0].code
        return None

    @cached_property
    def shown(self) -> str:
        """How findings name it: its path, with the slice name of a slice."""
        return self.slice_name and f"{self.path}:{self.slice_name}" or self.path

    @cached_property
    def absent_key(self) -> str | None:
        """The JSON key whose absence leaves nothing to check here (optional, not sliced, not a choice)."""
        return None if self.is_choice or self.min > 0 or (self.slicing_rules and self.slices) else self.json_name

    @cached_property
    def type_codes(self) -> frozenset[str]:
        """The allowed type codes (FHIRPath's System.String of an id or extension url aside)."""
        return frozenset(t.code for t in self.types if t.code != "http://hl7.org/fhirpath/System.String")

    def child(self, name: str) -> ElementDef | None:
        return next((c for c in self.children if c.name == name), None)

    @cached_property
    def invariants(self) -> tuple[tuple[Constraint, Native | None], ...]:
        """The constraints the validator evaluates here, each with its Python shortcut if it has one."""
        return tuple((c, native(c.key, c.expression)) for c in self.constraints
                     if c.expression and c.key not in STRUCTURE_CHECKED)


@dataclass
class Profile:
    url: str
    name: str
    type: str  # the resource or datatype it constrains
    package: str
    root: ElementDef
    by_id: dict[str, ElementDef]


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)  # type: ignore[arg-type]


def _first_with_prefix(element: dict, prefix: str) -> tuple[str, object] | None:
    for key, value in element.items():
        if key.startswith(prefix) and len(key) > len(prefix) and key[len(prefix)].isupper():
            return key, value
    return None


def _element(raw: dict) -> ElementDef:
    path = raw["path"]
    types = tuple(TypeRef(t["code"], tuple(t.get("profile", ())), tuple(t.get("targetProfile", ())))
                  for t in raw.get("type", ()))
    binding = raw.get("binding")
    slicing = raw.get("slicing")
    constraints = tuple(Constraint(c["key"], c.get("severity", "error"), c.get("human", ""), c.get("expression"),
                                   c.get("source", "")) for c in raw.get("constraint", ()))
    return ElementDef(
        id=raw["id"], path=path, name=path.rsplit(".", 1)[-1], slice_name=raw.get("sliceName"),
        min=int(raw.get("min", 0)), max=_max(raw.get("max")), types=types,
        fixed=_first_with_prefix(raw, "fixed"), pattern=_first_with_prefix(raw, "pattern"),
        binding=(binding["strength"], binding["valueSet"]) if binding and binding.get("valueSet") else None,
        constraints=constraints,
        discriminators=tuple(Discriminator(d["type"], d["path"]) for d in (slicing or {}).get("discriminator", ())),
        slicing_rules=slicing.get("rules", "open") if slicing else None,
        content_reference=raw.get("contentReference"),
    )


def _parent_id(element_id: str) -> tuple[str, bool]:
    """(the id this element hangs on, whether it is a slice of it rather than a child)."""
    head, _, last = element_id.rpartition(".")
    if ":" in last:
        base = last.split(":", 1)[0]
        return (f"{head}.{base}" if head else base), True
    return head, False


@cache
def compile_profile(canonical: str, context: Context) -> Profile | None:
    """The compiled snapshot of a StructureDefinition of the IG version `context`; None if it is not in its
    packages. Compiled once per package version, shared by every IG version built on that package."""
    definition = context.structure_definition(canonical)
    if definition is None or "snapshot" not in definition:
        return None
    return _compiled(definition["_package"], strip_version(canonical))


@cache
def _compiled(label: str, url: str) -> Profile:
    loaded = package(label)
    assert loaded is not None
    return compiled(loaded.structure_definitions[url])


def compiled(definition: dict) -> Profile:
    """A StructureDefinition's snapshot as a tree of element definitions."""
    by_id: dict[str, ElementDef] = {}
    root: ElementDef | None = None
    for raw in definition["snapshot"]["element"]:
        node = _element(raw)
        by_id[node.id] = node
        if root is None:
            root = node
            continue
        parent_id, is_slice = _parent_id(node.id)
        parent = by_id.get(parent_id)
        if parent is None:
            continue  # malformed snapshot: an orphan element is ignored rather than guessed at
        (parent.slices if is_slice else parent.children).append(node)
    assert root is not None
    return Profile(strip_version(definition["url"]), definition.get("name", ""), definition["type"],
                   definition.get("_package", ""), root, by_id)


def resolve_content_reference(profile: Profile, reference: str) -> ElementDef | None:
    """`http://hl7.org/fhir/StructureDefinition/Bundle#Bundle.link` -> the `Bundle.link` element of `profile`."""
    target = reference.split("#", 1)[-1]
    return profile.by_id.get(target)
