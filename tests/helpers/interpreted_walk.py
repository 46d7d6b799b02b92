"""The profile walk as the validator interpreted it before the profiles were compiled (checkers.py): each
element definition's children, values, slices and checks worked out again for every value of every message. Kept
here as the oracle the compiled checkers are tested against (tests/test_fhir_compiled.py): same findings, same
locations and order, same codes and judging profile, same unchecked counts and remembered walks."""

from __future__ import annotations

from dataclasses import dataclass

from medcom.findings import Severity
from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, SHAPE_ONLY, UNEVALUABLE
from medcom.formats.fhir.basemodel import ElementInfo, elements
from medcom.formats.fhir.igpackages import strip_version
from medcom.formats.fhir.locations import Path
from medcom.formats.fhir.medcom_invariants import VALUE_ONLY
from medcom.formats.fhir.profiles import ElementDef, Profile, resolve_content_reference
from medcom.formats.fhir.rules import (
    F_BINDING,
    F_INVARIANT,
    F_PROFILE,
    FIXED_VALUE,
    MAX_CARDINALITY,
    MIN_CARDINALITY,
    PATTERN,
)
from medcom.formats.fhir.slicing import (
    PRIMITIVE_TYPES,
    SlicingUnsupported,
    choice_type_code,
    discriminated,
    discriminator_reads,
    matches_pattern,
    slice_problems,
    split_steps,
)
from medcom.formats.fhir.validator import _Validation
from medcom.quoting import quoted, shortened


@dataclass(slots=True)
class _Item:
    """One value of an element in the instance: its value (a primitive, or the `_name` object when a primitive
    has only extensions), where it is, its type code and its base-model element."""

    value: object
    path: Path
    type_code: str
    info: ElementInfo | None


class InterpretedValidation(_Validation):
    """A validation that walks each profile's element tree for every resource, as the validator did."""

    def walk(self, resource: dict, profile: Profile, path: Path) -> None:
        self.node(resource, profile.root, path, profile.type, resource, profile)

    def node(self, obj: dict, definition: ElementDef, path: Path, base_type: str, resource: dict,
             profile: Profile) -> None:
        """`obj` against a profile's root `definition`: its constraints, then its children."""
        outer, self.judging = self.judging, profile
        try:
            self.invariants(definition, obj, path, definition.path, resource)
            self.children(obj, definition, path, base_type, resource, profile)
        finally:
            self.judging = outer

    def children(self, obj: dict, definition: ElementDef, path: Path, base_type: str, resource: dict,
                 profile: Profile | None = None) -> None:
        children = definition.children
        if not children and definition.content_reference and profile is not None:
            target = resolve_content_reference(profile, definition.content_reference)
            children = target.children if target else []
        known = elements(base_type)
        for child in children:
            absent = child.absent_key
            if absent is not None and absent not in obj and child.twin_key not in obj:
                continue  # optional, not sliced and not there: nothing to check
            self.element(self.collect(obj, child, path, known), child, path, resource, profile)

    def collect(self, obj: dict, definition: ElementDef, path: Path, known: dict[str, ElementInfo]) -> list[_Item]:
        name = definition.json_name
        if definition.is_choice:
            keys = sorted({k.lstrip("_") for k in obj if k.lstrip("_").startswith(name)
                           and k.lstrip("_")[len(name):][:1].isupper()})
        elif name in obj or definition.twin_key in obj:
            keys = [name]
        else:
            return []
        found: list[_Item] = []
        for key in keys:
            info = known.get(key)
            if definition.is_choice:
                type_code = choice_type_code(key[len(name):])
            elif definition.single_type is not None:
                type_code = definition.single_type
            elif info is not None:
                type_code = info.fhir_type if info.kind != "resource" else "Resource"
            else:
                type_code = "string"
            value, twin = obj.get(key), obj.get("_" + key)
            if isinstance(value, list) or isinstance(twin, list):
                values = value if isinstance(value, list) else []
                twins = twin if isinstance(twin, list) else []
                for index in range(max(len(values), len(twins))):
                    item = values[index] if index < len(values) else None
                    if item is None and index < len(twins):
                        item = twins[index]
                    if item is not None:
                        found.append(_Item(item, path + (key, index), type_code, info))
            else:
                item = value if value is not None else twin
                if item is not None:
                    found.append(_Item(item, path + (key,), type_code, info))
        return found

    def element(self, items: list[_Item], definition: ElementDef, parent: Path, resource: dict,
                profile: Profile | None) -> None:
        self.cardinality(len(items), definition, items, parent, definition.shown)
        assigned: list[ElementDef | None] = [None] * len(items)
        if definition.slicing_rules and definition.slices:
            usable = []
            for slice_def, problem in slice_problems(definition, self.context):
                if problem:
                    self.not_checked("slice", f"{definition.path}:{slice_def.slice_name} ({problem})")
                else:
                    usable.append(slice_def)
            if usable and self.remembering:  # what value, pattern and binding discriminators read by text
                for item in items:
                    for discriminator in definition.discriminators:
                        if discriminator.type == "type":
                            continue
                        try:
                            reads = discriminator_reads(item.value, split_steps(discriminator.path), item.path)
                        except SlicingUnsupported:
                            reads = [(item.path, item.value)]
                        for place, found in reads:
                            self.read(place, found)
            assigned = [self.slice_of(item, definition, usable) for item in items]
            for slice_def in usable:
                members = [item for item, s in zip(items, assigned, strict=True) if s is slice_def]
                self.cardinality(len(members), slice_def, members, parent, f"{definition.path}:{slice_def.slice_name}")
            if definition.slicing_rules == "closed" and len(usable) == len(definition.slices):
                for item, slice_def in zip(items, assigned, strict=True):
                    if slice_def is None:
                        names = ", ".join(str(s.slice_name) for s in definition.slices)
                        self.report(F_PROFILE, Severity.ERROR, item.path,
                                    f"{definition.path} is closed: the value matches none of its slices ({names})")
        for item, slice_def in zip(items, assigned, strict=True):
            self.value(item, slice_def or definition, resource, profile)

    def cardinality(self, count: int, definition: ElementDef, items: list[_Item], parent: Path, shown: str) -> None:
        if count < definition.min:
            where = parent + (definition.json_name,) if not definition.is_choice else parent
            self.report(F_PROFILE, Severity.ERROR, where if count == 0 else items[0].path,
                        f"{shown}: minimum required = {definition.min}, but only found {count}", MIN_CARDINALITY)
        if definition.max is not None and count > definition.max:
            self.report(F_PROFILE, Severity.ERROR, items[definition.max].path if definition.max < len(items)
                        else parent, f"{shown}: max allowed = {definition.max}, but found {count}", MAX_CARDINALITY)

    # --- one value ---------------------------------------------------------------------------------------------

    def value(self, item: _Item, definition: ElementDef, resource: dict, profile: Profile | None) -> None:
        value, path = item.value, item.path
        codes = definition.type_codes
        if codes and item.type_code not in codes and not (item.type_code == "Resource" or "*" in codes):
            allowed = ", ".join(sorted(codes))
            self.report(F_PROFILE, Severity.ERROR, path,
                        f"type {item.type_code} is not allowed for {definition.path} (allowed: {allowed})")
            return
        if definition.fixed is not None or definition.pattern is not None or (
                definition.binding and definition.binding[0] == "required"):
            self.read(path, value)  # judged by its text
        comparable = not isinstance(value, dict | list) or item.type_code not in PRIMITIVE_TYPES
        if comparable and definition.fixed is not None and value != definition.fixed[1]:
            self.report(F_PROFILE, Severity.ERROR, path, f"value {quoted(value)} is not the fixed value "
                        f"{quoted(definition.fixed[1])} of {definition.path}", FIXED_VALUE)
        if comparable and definition.pattern is not None and not matches_pattern(definition.pattern[1], value):
            self.report(F_PROFILE, Severity.ERROR, path, f"value {quoted(value)} does not match the pattern "
                        f"{quoted(definition.pattern[1])} of {definition.path}", PATTERN)
        if definition.binding and definition.binding[0] == "required":
            self.binding(item, definition)
        if item.type_code == "Reference" and isinstance(value, dict):
            self.reference(value, path, definition)
        if definition.invariants:
            self.invariants(definition, value, path, self.type_path(item, definition), resource)
        if not isinstance(value, dict) or item.type_code == "Resource":
            return  # a primitive, or a resource validated as an entry of its own
        base_type = item.type_code if item.type_code not in ("BackboneElement", "Element") else (
            item.info.fhir_type if item.info else "Element")
        if item.type_code in PRIMITIVE_TYPES:
            base_type = "Element"  # a primitive's `_name` object
        if definition.children or definition.content_reference:
            self.children(value, definition, path, base_type, resource, profile)
            return
        for type_ref in definition.types:
            if type_ref.code != item.type_code:
                continue
            for url in type_ref.profiles:
                type_profile = self.profile(url)
                if type_profile is None:
                    self.not_checked("profile", strip_version(url))
                    continue
                self.node(value, type_profile.root, path, base_type, resource, type_profile)

    def type_path(self, item: _Item, definition: ElementDef) -> str:
        if item.type_code in ("BackboneElement", "Element", "Resource"):
            return definition.path.replace("[x]", "")
        return item.type_code

    def binding(self, item: _Item, definition: ElementDef) -> None:
        value_set = definition.binding[1]  # type: ignore[index]
        members = self.expansion(value_set)
        value = item.value
        if members is None:
            enum = item.info.enum if item.info else None
            if enum and isinstance(value, str):
                if value not in enum:
                    self.report(F_BINDING, Severity.ERROR, item.path,
                                f"code {quoted(value)} is not in the required value set {strip_version(value_set)}")
            else:
                self.not_checked("value set", strip_version(value_set))
            return
        if isinstance(value, str):
            ok, shown = members.contains_code(value), f"code {quoted(value)}"
        elif isinstance(value, dict) and item.type_code == "Coding":
            if "code" not in value:
                return
            ok = members.contains(value.get("system"), value["code"])
            shown = "code " + shortened(f"{value.get('system')}#{value['code']}")
        elif isinstance(value, dict) and item.type_code == "CodeableConcept":
            codings = [c for c in value.get("coding", []) if isinstance(c, dict) and "code" in c] if isinstance(
                value.get("coding"), list) else []
            ok = any(members.contains(c.get("system"), c["code"]) for c in codings)
            shown = "codes " + shortened(", ".join(f"{c.get('system')}#{c['code']}" for c in codings)) \
                if codings else "no code"
        else:
            return
        if not ok:
            self.report(F_BINDING, Severity.ERROR, item.path,
                        f"{shown} is not in the required value set {strip_version(value_set)}")

    def reference(self, value: dict, path: Path, definition: ElementDef) -> None:
        if not isinstance(value.get("reference"), str):
            return
        targets = [p for t in definition.types if t.code == "Reference" for p in t.target_profiles]
        found, target_path = self.resolve_reference(value, path)
        if found is None:
            return  # a reference outside the Bundle (a Provenance's earlier message): nothing here to check
        if not targets:
            return
        kind = found.get("resourceType")
        fitting = []
        for url in targets:
            profile = self.profile(url)
            type_name = profile.type if profile else strip_version(url).rsplit("/", 1)[-1]
            if type_name in (kind, "Resource"):
                fitting.append((url, profile))
        if not fitting:
            wanted = " or ".join(strip_version(t).rsplit("/", 1)[-1] for t in targets)
            self.report(F_PROFILE, Severity.ERROR, path, f"the reference points at a {kind}, not at {wanted}")
            return
        if target_path is None or not self._follow:
            return
        for url, profile in fitting:
            if profile is not None:
                self.expect(target_path, url, path)
            elif not strip_version(url).startswith("http://hl7.org/fhir/StructureDefinition/"):
                self.not_checked("profile", strip_version(url))

    def invariants(self, definition: ElementDef, value: object, path: Path, type_path: str, resource: dict) -> None:
        for constraint, shortcut in definition.invariants:
            if shortcut is None:
                answer = ASK_FHIRPATH
            elif shortcut in SHAPE_ONLY or shortcut in VALUE_ONLY:
                answer = shortcut(value, resource, self)
            else:  # it may read beyond the element (the entries, resolve(), conformsTo()): asked as a unit
                answer = self.ask(shortcut, value, resource)
            if answer is ASK_FHIRPATH:
                self.read_fhirpath(constraint.expression, value, path)  # type: ignore[arg-type]
                verdict = fp.evaluate(constraint.expression, value, type_path, resource, self)  # type: ignore[arg-type]
            else:
                if shortcut not in SHAPE_ONLY:  # the answer recorded, asked again on replay
                    self.read_answer(shortcut, value, path, answer)  # type: ignore[arg-type]
                verdict = None if answer is UNEVALUABLE else bool(answer)
            if verdict is None:
                self.not_checked("invariant", constraint.key)
            elif not verdict:
                severity = Severity.ERROR if constraint.severity == "error" else Severity.WARNING
                self.report(F_INVARIANT, severity, path, f"{constraint.key}: {constraint.human}")

    # --- slicing -----------------------------------------------------------------------------------------------

    def slice_of(self, item: _Item, definition: ElementDef, usable: list[ElementDef]) -> ElementDef | None:
        for slice_def in usable:
            if all(discriminated(item.value, item.type_code, slice_def, d.type, d.path, self.context)
                   for d in definition.discriminators):
                return slice_def
        return None
