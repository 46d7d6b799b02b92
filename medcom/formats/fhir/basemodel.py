"""The FHIR base model as fhir.resources describes it: which elements a type has, which repeat, their types.

fhir.resources ships no FHIR R4 (4.0.1) models in its maintained (pydantic 2) releases, only R5 and R4B (4.3.0);
its last R4 release (6.4.0) needs pydantic 1. R4B changed little of what MedCom's messages use (Bundle,
MessageHeader, Encounter, Patient, Provenance, Communication, OperationOutcome, Organization and their datatypes
are the same shapes; R4B adds a few choice types such as CodeableReference that R4 messages never use), so its
R4B models serve as the base model: the element names and types for reading FHIR XML into FHIR JSON, the JSON
representation of each primitive, the code enumerations of base required bindings, and (`check_resource`) the
model's own validation of structure and primitive formats.

What the check reads of it (each type's elements, required choices, whether it is a resource) is derived from
fhir.resources once, when medcom is built (`basemodel.write_table()` writes
medcom/schemas/fhir-basemodel/r4b.json), and read from that table at run time: building fhir.resources' pydantic
models for the 26 types a MedCom log touches cost about 0.35 s of CPU a process, its import 0.1 s more, and every
replay worker paid it. tests/test_fhir_basemodel_table.py derives the table again from the installed
fhir.resources and compares it whole.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

# The JSON representation of each primitive (FHIR JSON: boolean and numbers are JSON literals, the rest strings).
_JSON_KIND = {"Boolean": "boolean", "Integer": "integer", "UnsignedInt": "integer", "PositiveInt": "integer",
              "Integer64": "string", "Decimal": "decimal", "Xhtml": "xhtml"}
# fhir_core's annotation class -> FHIR primitive type name.
_PRIMITIVE_NAME = {"EncodedBytes": "base64Binary", "UuidVersion": "uuid", "Base64Binary": "base64Binary",
                   "UnsignedInt": "unsignedInt", "PositiveInt": "positiveInt", "DateTime": "dateTime"}


# R4's codes of required bindings that fhir.resources lists only in part (ending its list with "+").
# OperationOutcome.issue.code (R4's issue-type, required) has no list in fhir.resources: R4's codes.
_R4_CODES = {("Encounter", "status"): ("planned", "arrived", "triaged", "in-progress", "onleave", "finished",
                                       "cancelled", "entered-in-error", "unknown"),
             ("OperationOutcomeIssue", "code"): (
                 "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
                 "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches",
                 "not-found", "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule",
                 "conflict", "transient", "lock-error", "no-store", "exception", "timeout", "incomplete",
                 "throttled", "informational")}


@dataclass(frozen=True)
class ElementInfo:
    """One element of a base type: its JSON name, whether it repeats, its type and how JSON writes it."""

    name: str
    is_list: bool
    fhir_type: str  # a primitive ('dateTime'), a datatype ('Identifier'), a backbone ('BundleEntry'), 'Resource'
    kind: str  # 'boolean' | 'integer' | 'decimal' | 'string' | 'xhtml' | 'complex' | 'resource'
    required: bool
    enum: tuple[str, ...] | None
    choice_of: str | None  # 'deceased' for deceasedBoolean

    @property
    def primitive(self) -> bool:
        return self.kind not in ("complex", "resource")


def _unwrap(annotation: typing.Any) -> tuple[bool, typing.Any]:
    """(repeats, the inner type) of a field annotation such as `Optional[List[X]]`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) in (list, typing.List):  # noqa: UP006 - fhir.resources writes typing.List
        return True, _unwrap(typing.get_args(annotation)[0])[1]  # List[Optional[X]]: a list of X
    return False, annotation


def _type_of(inner: typing.Any) -> tuple[str, str]:
    """(FHIR type name, JSON kind) of an unwrapped field type."""
    if inner is bool:
        return "boolean", "boolean"
    if typing.get_origin(inner) is typing.Annotated:
        marker = type(typing.get_args(inner)[1]).__name__
        name = _PRIMITIVE_NAME.get(marker, marker[:1].lower() + marker[1:])
        return name, _JSON_KIND.get(marker, "string")
    if typing.get_origin(inner) in (typing.Union, types.UnionType):  # Url: Union[AnyUrl, str] inside Annotated
        return "string", "string"
    klass = inner.get_model_klass() if hasattr(inner, "get_model_klass") else None
    if klass is None:
        return "string", "string"
    name = klass.__name__
    return (name, "resource") if name in ("Resource", "DomainResource") else (name, "complex")


@cache
def _model_class(type_name: str) -> type | None:
    from fhir.resources.R4B import get_fhir_model_class  # writing XML and deriving the table only (module doc)

    try:
        return get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError, ImportError, TypeError):
        return None


def model_class(type_name: object) -> type | None:
    """The fhir.resources R4B class of a resource, datatype or backbone element name; None if it has none."""
    return _model_class(type_name) if isinstance(type_name, str) and type_name.isidentifier() else None


# --- the table the check reads ----------------------------------------------------------------------------------

_TABLE = ("schemas", "fhir-basemodel", "r4b.json")
# a type: [is a concrete resource, {JSON name: [is_list, fhir_type, kind, required, enum, choice_of]}, required
# choices [[prefix, [names]]], its elements' JSON names in the specification's order]
Row = list


@cache
def _table() -> dict[str, Row]:
    """Every type fhir.resources R4B has, by name, as `derive_table` made it (module doc)."""
    return json.loads(resources.files("medcom").joinpath(*_TABLE).read_bytes())  # type: ignore[no-any-return]


def _row(type_name: object) -> Row | None:
    return _table().get(type_name) if isinstance(type_name, str) else None


@cache
def elements(type_name: str) -> dict[str, ElementInfo]:
    """The elements of a type by JSON name (choice types by their typed names: valueString, valueCoding...)."""
    row = _row(type_name)
    if row is None:
        return {}
    return {name: ElementInfo(name, is_list, fhir_type, kind, required, tuple(enum) if enum else None, choice_of)
            for name, (is_list, fhir_type, kind, required, enum, choice_of) in row[1].items()}


@cache
def required_choices(type_name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The choice elements a type requires (`event` of MessageHeader), each with its typed names (eventCoding,
    eventUri): one of them must have a value."""
    row = _row(type_name)
    return tuple((prefix, tuple(names)) for prefix, names in row[2]) if row is not None else ()


@cache
def element_order(type_name: str) -> dict[str, int]:
    """Each element's place in the specification's order (FHIR XML writes a type's elements in it; a choice type by
    its typed names, which share no place with another element). Empty for a type the model does not know."""
    row = _row(type_name)
    return {name: place for place, name in enumerate(row[3])} if row is not None else {}


def is_resource_type(name: object) -> bool:
    """Whether `name` is a concrete FHIR resource type the base model knows (not Resource, DomainResource)."""
    if not isinstance(name, str) or not name.isidentifier() or name in ("Resource", "DomainResource"):
        return False
    row = _row(name)
    return row is not None and bool(row[0])


# --- the table derived from fhir.resources ----------------------------------------------------------------------


def derive_table() -> dict[str, Row]:
    """The table from the installed fhir.resources: every name its R4B `get_fhir_model_class` knows (an `<X>Type`
    of its fhirtypes), with what `elements`, `required_choices`, `is_resource_type` and `element_order` answer of
    it (the order is its `elements_sequence()`, which R4's snapshots agree with: tests/test_fhir_xml_order.py)."""
    from fhir.resources.R4B import fhirtypes

    table: dict[str, Row] = {}
    for attribute in sorted(dir(fhirtypes)):
        name = attribute[:-4]
        klass = model_class(name) if attribute.endswith("Type") else None
        if klass is None:
            continue
        derived = _derived_elements(name, klass)
        table[name] = [_is_resource(klass), {
            info.name: [info.is_list, info.fhir_type, info.kind, info.required,
                        list(info.enum) if info.enum else None, info.choice_of]
            for info in derived.values()}, [
            [prefix, list(names)] for prefix, names in _derived_required_choices(klass)],
            [element for element in klass.elements_sequence() if element in derived]]  # type: ignore[attr-defined]
    return table


def _derived_elements(type_name: str, klass: type) -> dict[str, ElementInfo]:
    found: dict[str, ElementInfo] = {}
    for field in klass.model_fields.values():  # type: ignore[attr-defined]
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if not extra.get("element_property") or field.alias is None:
            continue
        is_list, inner = _unwrap(field.annotation)
        fhir_type, kind = _type_of(inner)
        enum = extra.get("enum_values") or _R4_CODES.get((type_name, field.alias))
        if enum and "+" in enum:  # fhir.resources' "and more": the full R4 list where it is known, else unchecked
            enum = _R4_CODES.get((type_name, field.alias))
        # a list with min 1 (Provenance.target) is a required pydantic field, not marked element_required
        required = bool(extra.get("element_required")) or (is_list and field.is_required())
        found[field.alias] = ElementInfo(field.alias, is_list, fhir_type, kind, required,
                                         tuple(enum) if enum else None, extra.get("one_of_many"))
    return found


def _derived_required_choices(klass: type) -> tuple[tuple[str, tuple[str, ...]], ...]:
    groups: dict[str, list[str]] = {}
    for field in klass.model_fields.values():  # type: ignore[attr-defined]
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("one_of_many_required") and extra.get("one_of_many") and field.alias:
            groups.setdefault(str(extra["one_of_many"]), []).append(field.alias)
    return tuple((prefix, tuple(names)) for prefix, names in groups.items())


def _is_resource(klass: type) -> bool:
    return any(base.__name__ == "Resource" for base in klass.__mro__)


def write_table(path: Path | None = None) -> None:
    """The table derived again, written where medcom ships it (or to `path`)."""
    path = path or Path(__file__).parents[2].joinpath(*_TABLE)
    path.write_text(json.dumps(derive_table(), separators=(",", ":")) + "\n", encoding="utf-8")
