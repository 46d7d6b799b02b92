"""Base-model checks of a resource (rule F-STRUCTURE), before and apart from any profile.

Two passes: this module's own walk of FHIR JSON's shape, which fhir.resources does not check strictly (it coerces
"true" to a boolean): unknown elements, arrays where an element repeats and only there, the JSON type of every
primitive, empty objects, arrays, strings and nulls, a choice element given twice, resources of unknown types;
then fhir.resources' R4B model validation of each resource for primitive formats (dates, ids, uris...), base
required elements and the rest of what its models check. Findings from both are merged, one per location.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from medcom.findings import Finding, Location, Severity
from medcom.formats.fhir.basemodel import ElementInfo, elements, is_resource_type, model_class
from medcom.formats.fhir.locations import LineMap, Path
from medcom.formats.fhir.rules import F_STRUCTURE, F_UNCHECKED
from medcom.identifiers import mask_cprs
from medcom.quoting import quoted

_JSON_TYPES = {"boolean": (bool,), "integer": (int,), "decimal": (int, Decimal, float), "string": (str,),
               "xhtml": (str,)}
_INT32 = (-(2**31), 2**31 - 1)
_PYDANTIC_OWN = {"extra_forbidden", "list_type", "model_type", "dict_type", "string_type", "bool_type", "int_type",
                 "bool_parsing", "int_parsing", "float_type", "decimal_type", "missing"}


class StructureCheck:
    """Collects F-STRUCTURE findings for the resources of one document."""

    def __init__(self, file: str, root_type: str, lines: LineMap) -> None:
        self.file = file
        self.root_type = root_type
        self.lines = lines
        self.findings: dict[Location, Finding] = {}  # by location: the first problem found there
        self.unchecked: list[Finding] = []

    def _add(self, path: Path, text: str) -> None:
        self.add(path, text)

    def add(self, path: Path, text: str, rule: str = F_STRUCTURE) -> None:
        """An error at `path` (the first problem found at a location is the one reported)."""
        location = Location.fhir(self.root_type, path)
        if location not in self.findings:
            self.findings[location] = Finding(rule, Severity.ERROR, mask_cprs(text), self.file, self.lines.line(path),
                                              location=location)

    # --- the JSON shape walk -------------------------------------------------------------------------------------

    def resource(self, value: object, path: Path) -> None:
        if not isinstance(value, dict):
            self._add(path, "a resource must be a JSON object")
            return
        kind = value.get("resourceType")
        if not is_resource_type(kind):
            self._add(path, f"unknown resource type {quoted(kind)}" if kind is not None else "resourceType is missing")
            return
        self._object(value, kind, path, is_resource=True)

    def _object(self, value: dict, type_name: str, path: Path, *, is_resource: bool = False) -> None:
        known = elements(type_name)
        if not value:
            self._add(path, "an element must have a value or children; {} is not allowed")
            return
        choices: dict[str, str] = {}
        for key, item in value.items():
            if key == "resourceType" and is_resource:
                continue
            name = key[1:] if key.startswith("_") else key
            info = known.get(name)
            if info is None or (key.startswith("_") and not info.primitive):
                self._add(path + (key,), f"unknown element {quoted(key)} in {type_name}")
                continue
            if info.choice_of:
                other = choices.setdefault(info.choice_of, name)
                if other != name:
                    self._add(path + (key,), f"{info.choice_of}[x] is given twice ({other} and {name})")
            self._member(item, info, path + (key,), extension_part=key.startswith("_"))
        for info in known.values():
            if info.required and info.name not in value and "_" + info.name not in value and info.choice_of is None:
                self._add(path + (info.name,), f"{type_name}.{info.name} is required by the base specification")

    def _member(self, item: object, info: ElementInfo, path: Path, *, extension_part: bool) -> None:
        if info.is_list:
            if not isinstance(item, list):
                self._add(path, f"'{info.name}' repeats: it must be a JSON array")
                return
            if not item:
                self._add(path, "an empty array is not allowed")
                return
            for index, element in enumerate(item):
                if element is None and info.primitive:
                    continue  # null in a primitive array pairs with its `_name` twin
                self._single(element, info, path + (index,), extension_part=extension_part)
            return
        if isinstance(item, list):
            self._add(path, f"'{info.name}' occurs at most once: it must not be an array")
            return
        self._single(item, info, path, extension_part=extension_part)

    def _single(self, item: object, info: ElementInfo, path: Path, *, extension_part: bool) -> None:
        if item is None:
            self._add(path, "null is not allowed here")
        elif extension_part:  # the `_name` object of a primitive: id and extensions
            if isinstance(item, dict):
                self._object(item, "Element", path)
            else:
                self._add(path, "a primitive's `_` twin must be an object")
        elif info.kind == "resource":
            self.resource(item, path)
        elif info.kind == "complex":
            if isinstance(item, dict):
                self._object(item, info.fhir_type, path)
            else:
                self._add(path, f"'{info.name}' is a {info.fhir_type}: it must be a JSON object")
        else:
            self._primitive(item, info, path)

    def _primitive(self, item: object, info: ElementInfo, path: Path) -> None:
        allowed = _JSON_TYPES[info.kind]
        if isinstance(item, bool) and bool not in allowed or not isinstance(item, allowed):
            json_type = {"boolean": "true or false", "integer": "a JSON number without a fraction",
                         "decimal": "a JSON number"}.get(info.kind, "a JSON string")
            self._add(path, f"'{info.name}' is a {info.fhir_type}: its value must be {json_type}, not {quoted(item)}")
        elif isinstance(item, str) and not item.strip():
            self._add(path, f"'{info.name}' is empty: a string value must have content")
        elif info.kind == "integer" and not _INT32[0] <= item <= _INT32[1]:  # type: ignore[operator]
            self._add(path, f"'{info.name}' is out of the 32-bit integer range")

    # --- fhir.resources' model validation ---------------------------------------------------------------------------

    def with_model(self, resource: dict, path: Path) -> None:
        """fhir.resources R4B validation of one resource (entries of a Bundle are passed on their own)."""
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        klass = model_class(kind) if is_resource_type(kind) else None
        if klass is None:
            return
        inside = Location.fhir(self.root_type, path)
        if any(location.within(inside) for location in self.findings):
            return  # the shape is already wrong here: the model would only repeat it (or choke on it)
        problems = _model_problems(klass, resource)
        if isinstance(problems, str):
            self.unchecked.append(Finding(F_UNCHECKED, Severity.INFO,
                                          f"the R4B base model could not check this resource ({problems})",
                                          self.file, self.lines.line(path), location=inside))
            return
        for steps, text in problems:
            self._add(path + steps, text)


_MODEL_MEMO: dict[str, tuple[tuple[Path, str], ...] | str] = {}
MODEL_MEMO_LIMIT = 2048  # resources remembered (messages repeat organisations); all forgotten at the limit


def _refuse(value: object) -> object:
    raise TypeError(type(value).__name__)  # a decimal (or anything but JSON's own types): not remembered


_VALID_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # within what the model's id type accepts


# Values the model accepts in every element of their name, and which messages renew: a reference or fullUrl without
# white space or escapes (R4B's `reference` elements are strings or uris, `fullUrl` a uri: any such text is both),
# a narrative's div (xhtml, which the model takes as any text: the shape walk refuses an empty one, and medcom
# does not judge XHTML), and a whole instant with seconds and a time zone in the time elements below (R4B:
# dateTime, instant or code). An element of another type that a JSON string reaches is the shape walk's finding,
# and then the model is not asked. Only a value that passes the stricter check here is replaced, by one that
# passes it too, so the model's verdict cannot change (tests/test_fhir_model_memo.py).
TIME_ELEMENTS = ("timestamp", "recorded", "sent", "start", "end", "occurredDateTime", "lastUpdated")
_RENEWED = re.compile(
    r'"(?P<ref>reference|fullUrl)": "[^\s"\\]{1,4096}"|"div": "(?:[^"\\]|\\.)*"'
    rf'|"(?P<time>{"|".join(TIME_ELEMENTS)})": '
    r'"(?P<instant>(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d'
    r'(?:\.\d{3}|\.\d{6})?(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d))"')


def _renewed(match: re.Match[str]) -> str:
    if match["ref"]:
        return f'"{match["ref"]}": "x"'
    if match["time"] is None:
        return '"div": "x"'
    try:
        datetime.fromisoformat(match["instant"])  # a calendar date (no 30 February)
    except ValueError:
        return match[0]
    return f'"{match["time"]}": "2000-01-01T00:00:00Z"'


def model_key(klass: type, resource: dict) -> str:
    """What the model's verdict on a resource depends on: its JSON text, with a valid id left out (it gives no
    finding, and messages renew the ids of the resources they repeat) and renewed values that every element of
    their name accepts replaced by one such value (`_RENEWED`). Raises TypeError for a value no JSON reader
    makes."""
    ident = resource.get("id")
    valid_id = isinstance(ident, str) and _VALID_ID.fullmatch(ident) is not None
    rest = {k: v for k, v in resource.items() if k != "id"} if valid_id else resource
    text = json.dumps(rest, ensure_ascii=False, default=_refuse)
    return f"{klass.__name__} {valid_id} {_RENEWED.sub(_renewed, text)}"


def _model_problems(klass: type, resource: dict) -> tuple[tuple[Path, str], ...] | str:
    """fhir.resources' findings on a resource (steps inside it, text), or the name of the exception it failed
    with; remembered by `model_key`, since the model's verdict depends on nothing else."""
    try:
        key = model_key(klass, resource)
    except (TypeError, ValueError, RecursionError):
        return _validate_model(klass, resource)
    known = _MODEL_MEMO.get(key)
    if known is None:
        known = _validate_model(klass, resource)
        if len(_MODEL_MEMO) >= MODEL_MEMO_LIMIT:
            _MODEL_MEMO.clear()
        _MODEL_MEMO[key] = known
    return known


def _validate_model(klass: type, resource: dict) -> tuple[tuple[Path, str], ...] | str:
    try:
        klass.model_validate(resource)  # type: ignore[attr-defined]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["type"] in _PYDANTIC_OWN:
                continue  # the shape walk says these in FHIR's words
            steps = tuple(step for step in error["loc"] if isinstance(step, int) or
                          (isinstance(step, str) and step.lstrip("_").isidentifier() and step != "root"))
            problems.append((steps, _message(error)))
        return tuple(problems)
    except Exception as exc:  # fhir.resources fails on some malformed input instead of reporting it
        return type(exc).__name__
    return ()


def _message(error: dict) -> str:
    text = str(error.get("msg", "invalid")).split("\n", 1)[0]
    value = error.get("input")
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        return f"{text} (value {quoted(str(value))})"
    return text
