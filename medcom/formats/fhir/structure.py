"""Base-model checks of a resource (rule F-STRUCTURE), before and apart from any profile.

One walk of FHIR JSON's shape, by the base model's element metadata (`basemodel`): unknown elements, arrays where
an element repeats and only there, the JSON type of every primitive, empty objects, arrays, strings and nulls, a
choice element given twice, resources of unknown types, base-required elements; and in the same pass what
fhir.resources' R4B models used to be asked for, resource by resource: each primitive's format (`primitives`:
dates, ids, codes...), a required primitive given only as an `_name` with no extension, a required choice element
missing. Those come after the shape's findings (`add_base`); one finding per location.

Two of R4's base invariants hold for every element, and are checked here wherever the element is, since a profile
walk reaches only the elements its snapshot expands (never the `_name` object of a primitive): ele-1, an element
has a value or children (an empty object, an object with only an `id`, a primitive's `_name` with only an `id` where
the primitive has no value) as F-STRUCTURE; ext-1, an extension has nested extensions or a value, not both, as the
F-INVARIANT finding a profile walk would give (`validator._merge` keeps one where both say it); so are txt-1 and
txt-2 of every narrative (base_invariants.narrative_rules), the first broken of them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Protocol

from medcom.findings import Finding, Location, Severity
from medcom.formats.fhir import walks
from medcom.formats.fhir.base_invariants import narrative_rules
from medcom.formats.fhir.basemodel import ElementInfo, elements, is_resource_type, required_choices
from medcom.formats.fhir.locations import LineMap, Path
from medcom.formats.fhir.primitives import ADVISED, CHECKS, advice
from medcom.formats.fhir.rules import F_INVARIANT, F_STRUCTURE
from medcom.identifiers import mask_cprs
from medcom.quoting import quoted

_JSON_TYPES = {"boolean": (bool,), "integer": (int,), "decimal": (int, Decimal, float), "string": (str,),
               "xhtml": (str,)}
_INT32 = (-(2**31), 2**31 - 1)
_DESCENDED = ("complex", "resource")
_TEXT_KINDS = ("string", "xhtml")  # the kinds whose JSON value is a string
_TEXT, _FORMAT, _MEMBER, _REFERENCE = range(4)  # the value checks a remembered walk does again (`_replay`)
EXT_1 = "ext-1: Must have either extensions or value[x], not both"  # as R4's Extension states it (its `human`)
TXT_1 = ("txt-1: The narrative SHALL contain only the basic html formatting elements and attributes described in "
         "chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0 standard, <a> elements (either name "
         "or href), images and internally contained style attributes")  # as R4's Narrative.div states them
TXT_2 = "txt-2: The narrative SHALL have some non-whitespace content"
_ID_ALONE = "an element must have a value or children; an id alone is not allowed"


class ElementRules(Protocol):
    """Rules asked by the walk as it goes (bundle_rules.BundleRules), never inside a primitive's `_name`."""

    def reference(self, value: dict, path: Path) -> None:
        """A Reference object, before its members are walked."""

    def member(self, item: object, info: ElementInfo, type_name: str, path: Path) -> None:
        """A key the walk does not descend into as the rules would (a primitive with codes, an element given as an
        array where it does not repeat, or not as one where it does): the rules walk it wholly themselves."""


@cache
def _required(type_name: str) -> tuple[ElementInfo, ...]:
    """The elements the base model requires of a type (a choice apart: `required_choices`), in its order: looked
    for in each object of the type, which would otherwise go through all the type's elements."""
    return tuple(info for info in elements(type_name).values() if info.required and info.choice_of is None)


class StructureCheck:
    """Collects F-STRUCTURE findings for the resources of one document."""

    def __init__(self, file: str, root_type: str, lines: LineMap, rules: ElementRules | None = None,
                 shapes: walks.Shapes | None = None) -> None:
        self.file = file
        self.rules = rules  # rules that no base element states, asked on the way (bundle_rules.py)
        self.root_type = root_type
        self.lines = lines
        self.findings: dict[Location, Finding] = {}  # by location: the first problem found there
        # the base model's own findings (path, text, rule, severity), added after the shape's (`add_base`)
        self.base: list[tuple[Path, str, str, Severity]] = []
        self.shapes = shapes  # the message's resources' shapes (walks.shape_of), shared with the profile walks
        # an entry's walk being remembered (walks.py): its value checks (place inside the resource, which check, the
        # element, what else the check needs), where the resource is, and whether the walk found nothing by the
        # shape alone (only such a walk is remembered: its findings by the shape would need remembering too)
        self._checks: list[tuple] | None = None
        self._base = 0
        self._clean = True

    def _add(self, path: Path, text: str) -> None:
        if self._checks is not None:
            self._clean = False
        self.add(path, text)

    def add(self, path: Path, text: str, rule: str = F_STRUCTURE, severity: Severity = Severity.ERROR) -> None:
        """A finding at `path`, an error unless said (the first problem found at a location is the one reported)."""
        location = Location.fhir(self.root_type, path)
        if location not in self.findings:
            self.findings[location] = Finding(rule, severity, mask_cprs(text), self.file, self.lines.line(path),
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
        key = walks.structure_key(value, self.rules is not None, self.shapes) if path and self._checks is None \
            else None  # an entry's resource (a Bundle is one message: its own members are few)
        if key is None:
            self._object(value, kind, path, is_resource=True)
            return
        checks = walks.structure_known(key)
        if checks is not None:
            self._replay(value, path, checks)
            return
        self._checks, self._base, self._clean = [], len(path), True
        try:
            self._object(value, kind, path, is_resource=True)
        finally:
            checks, self._checks = self._checks, None
        if self._clean:
            index = walks.node_places(value)  # each check's value found again by its place in the shape's nodes
            walks.remember_structure(key, [  # a string's format check found once
                (index[where], where, how, info, CHECKS.get(info.fhir_type) if how == _TEXT else extra)
                for where, how, info, extra in checks])

    def _replay(self, resource: dict, path: Path, checks: list[tuple]) -> None:
        """A remembered walk of a resource of the same shape: its value checks, in its order, at their places (a
        string that passes them is not looked at again; one that fails is checked as the walk checks it)."""
        nodes = walks.nodes_of(resource, self.shapes)
        for index, where, kind, info, extra in checks:
            value = nodes[index]
            if kind == _TEXT:
                if not value.strip() or (extra is not None and extra(value) is not None) or info.kind == "xhtml" or (
                        info.fhir_type in ADVISED and advice(info.fhir_type, value) is not None):
                    self._text_check(value, info, path + where)
            elif kind == _FORMAT:
                self._format(value, info, path + where)
            elif kind == _MEMBER:
                self.rules.member(value, info, extra, path + where)  # type: ignore[union-attr]
            else:
                self.rules.reference(value, path + where)  # type: ignore[union-attr]

    def _check(self, kind: int, path: Path, info: ElementInfo | None = None, extra: object = None) -> None:
        """A walk being remembered does a check of a value's text: noted with its place."""
        self._checks.append((path[self._base:], kind, info, extra))  # type: ignore[union-attr]

    def _rules_member(self, item: object, info: ElementInfo, type_name: str, path: Path) -> None:
        if self._checks is not None:
            self._check(_MEMBER, path, info, type_name)
        self.rules.member(item, info, type_name, path)  # type: ignore[union-attr]

    def _object(self, value: dict, type_name: str, path: Path, *, is_resource: bool = False,
                of_primitive: bool = False) -> None:
        known = elements(type_name)
        if not value:
            self._add(path, "an element must have a value or children; {} is not allowed")
            return
        if not (is_resource or of_primitive) and value.keys() <= {"id"}:  # ele-1 (a primitive's `_name`: `_twins`)
            self._add(path, _ID_ALONE)
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
            twin = key.startswith("_")
            if twin:
                self._twins(item, value.get(name), path + (key,))
            if self.rules is not None and not twin and (info.enum or (
                    info.kind in _DESCENDED and info.is_list != isinstance(item, list))):
                self._rules_member(item, info, type_name, path + (key,))  # codes, or a shape not descended into
            if item.__class__ is str and not twin and info.kind in _TEXT_KINDS and not info.is_list:
                self._text(item, info, path + (key,))  # most members: what _member -> _single -> _primitive does
                continue
            self._member(item, info, path + (key,), extension_part=twin,
                         twins=value.get(name if twin else "_" + key) if info.primitive and info.is_list else None)
        self._base_rules(value, type_name, path)

    def _base_rules(self, value: dict, type_name: str, path: Path) -> None:
        """The base model's required elements and choices of an object, and ext-1 of an extension."""
        for info in _required(type_name):
            if info.name in value:
                continue
            twin = value.get("_" + info.name)
            if twin is None:
                self._add(path + (info.name,), f"{type_name}.{info.name} is required by the base specification")
            elif not (isinstance(twin, dict) and twin.get("extension")):  # FHIR: an absent value needs extensions
                self._base_finding(path + (info.name,), f"{type_name}.{info.name} is required by the base "
                                                        f"specification: its `_{info.name}` has no extension")
        for prefix, names in required_choices(type_name):
            if not any(name in value for name in names):
                self._base_finding(path, f"{type_name}.{prefix}[x] is required by the base specification "
                                         f"({', '.join(names)})")
        if type_name == "Extension" and ("extension" in value) == any(
                k.startswith(("value", "_value")) for k in value):  # ext-1, by the keys (an empty one is an error)
            self._base_finding(path, EXT_1, F_INVARIANT)

    def _base_finding(self, path: Path, text: str, rule: str = F_STRUCTURE) -> None:
        """A finding of the base model's, reported after the shape's (`add_base`); a walk that finds one is not
        remembered."""
        self._clean = False
        self.base.append((path, text, rule, Severity.ERROR))

    def _twins(self, twins: object, values: object, path: Path) -> None:
        """ele-1 of a primitive's `_name` object (or each of an array of them): an `id` alone is a child only where
        the primitive has a value."""
        if isinstance(twins, list):
            values = values if isinstance(values, list) else []
            found = [(path + (i,), t, values[i] if i < len(values) else None) for i, t in enumerate(twins)]
        else:
            found = [(path, twins, values)]
        for where, twin, value in found:
            if isinstance(twin, dict) and twin and twin.keys() <= {"id"} and value is None:
                self._add(where, _ID_ALONE)

    def _member(self, item: object, info: ElementInfo, path: Path, *, extension_part: bool,
                twins: object = None) -> None:
        if info.is_list:
            if not isinstance(item, list):
                self._add(path, f"'{info.name}' repeats: it must be a JSON array")
                return
            if not item:
                self._add(path, "an empty array is not allowed")
                return
            for index, element in enumerate(item):
                if element is None and info.primitive and isinstance(twins, list) and index < len(twins) \
                        and twins[index] is not None:
                    continue  # a null pairs with its twin array's element: a value, or the `_name` id and extensions
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
                rules, self.rules = self.rules, None  # the rules do not look inside a primitive's extensions
                try:
                    self._object(item, "Element", path, of_primitive=True)
                finally:
                    self.rules = rules
            else:
                self._add(path, "a primitive's `_` twin must be an object")
        elif info.kind == "resource":
            self.resource(item, path)
        elif info.kind == "complex":
            if isinstance(item, dict):
                if self.rules is not None and info.fhir_type == "Reference":
                    if self._checks is not None:
                        self._check(_REFERENCE, path)
                    self.rules.reference(item, path)
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
        elif isinstance(item, str):
            self._text(item, info, path)
        elif info.kind == "integer" and not _INT32[0] <= item <= _INT32[1]:  # type: ignore[operator]
            self._add(path, f"'{info.name}' is out of the 32-bit integer range")
        else:
            if self._checks is not None:
                self._check(_FORMAT, path, info)
            self._format(item, info, path)

    def _text(self, item: str, info: ElementInfo, path: Path) -> None:
        """A string value of an element that takes one."""
        if self._checks is not None:  # judged by its text: a check a remembered walk does again
            self._check(_TEXT, path, info)
            checks, self._checks = self._checks, None
            try:
                self._text_check(item, info, path)
            finally:
                self._checks = checks
            return
        self._text_check(item, info, path)

    def _text_check(self, item: str, info: ElementInfo, path: Path) -> None:
        if not item.strip():
            self._add(path, f"'{info.name}' is empty: a string value must have content")
        elif info.kind == "xhtml":
            txt_1, txt_2 = narrative_rules(item)
            if not (txt_1 and txt_2):
                self._base_finding(path, TXT_2 if txt_1 else TXT_1, F_INVARIANT)
        elif not self._format(item, info, path) and info.fhir_type in ADVISED:
            found = advice(info.fhir_type, item)
            if found is not None:
                self.base.append((path, f"'{info.name}' is a FHIR {info.fhir_type}: {found}", F_STRUCTURE,
                                  Severity.WARNING))

    def _format(self, item: object, info: ElementInfo, path: Path) -> bool:
        """Whether the value's format is wrong (said, with the base model's findings)."""
        check = CHECKS.get(info.fhir_type)
        rule = check(item) if check is not None else None
        if rule is not None:
            self.base.append((path, f"'{info.name}' is a FHIR {info.fhir_type}: {quoted(item)} is not one ({rule})",
                              F_STRUCTURE, Severity.ERROR))
        return rule is not None

    def add_base(self) -> None:
        """The base model's findings (primitive formats, required primitives and choices), after the shape's."""
        for path, text, rule, severity in self.base:
            self.add(path, text, rule, severity)
        self.base.clear()
