"""MedCom's profiles compiled into checking functions, once per process and IG version.

Walking a profile's element tree for every message asked the same questions of it again and again: which children
to look for and under which JSON keys, their types and cardinalities, whether a fixed or pattern value, a required
binding (and its expansion), slices (which can be told apart, and what each discriminator expects), target or type
profiles and invariants (with their native shortcut) apply. Here each element definition becomes a closure with
those answers taken once, when first needed, for the IG version judging; what is left per message is reading the
message, as fastjsonschema does for JSON Schema. The closures report through the validation under way (`run`: its
findings, its unchecked counts, the profiles it expects, its remembered walk) in the order the profile lists its
elements: the same findings at the same locations, with the same codes and judging profile.

Closures are made lazily (a child's checker on its first use), which keeps recursive definitions (a content
reference, an extension's extensions) finite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from medcom.findings import Severity
from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, SHAPE_ONLY, UNEVALUABLE
from medcom.formats.fhir.basemodel import ElementInfo, elements
from medcom.formats.fhir.igpackages import Context, strip_version
from medcom.formats.fhir.locations import Path
from medcom.formats.fhir.medcom_invariants import VALUE_ONLY
from medcom.formats.fhir.profiles import ElementDef, Profile, compile_profile, resolve_content_reference
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
    discriminator_reads,
    expected_for,
    in_value_set,
    matches_pattern,
    navigate,
    slice_problems,
    split_steps,
    type_matches,
)
from medcom.formats.fhir.terminology import expansion
from medcom.quoting import quoted, shortened

# (run, the object, its path, the resource) -> None; run is the validation under way (validator._Validation)
Check = Callable[[Any, dict, Path, dict], None]
# (run, a value, its path, the resource) -> None
ValueCheck = Callable[[Any, object, Path, dict], None]
# (a value, its type code) -> whether it is the slice's by one discriminator
Discriminator = Callable[[object, str], bool]
_ERROR = Severity.ERROR


def resource_checker(profile: Profile, judge: Context) -> Check:
    """The checking function of a resource against `profile` as the IG version `judge` has it."""
    return _compiler(judge).node(profile, profile.type)


_COMPILERS: dict[str, _Compiler] = {}


def _compiler(judge: Context) -> _Compiler:
    found = _COMPILERS.get(judge.label)
    if found is None or found.judge is not judge:
        found = _COMPILERS[judge.label] = _Compiler(judge)
    return found


class _Compiler:
    """The checking functions of one IG version (its value sets and type profiles are its own), made once each and
    kept for the process (the compiled profiles they read live as long)."""

    def __init__(self, judge: Context) -> None:
        self.judge = judge
        self._nodes: dict[tuple[int, str], Check] = {}
        self._children: dict[tuple[int, str], Check] = {}
        self._values: dict[tuple[int, str, ElementInfo | None], ValueCheck] = {}

    def profile(self, url: str) -> Profile | None:
        return compile_profile(url, self.judge)

    # --- a profile's root and an element's children -------------------------------------------------------------

    def node(self, profile: Profile, base_type: str) -> Check:
        """An object against a profile's root: its invariants, then its children, reported as judged by it."""
        key = (id(profile.root), base_type)
        found = self._nodes.get(key)
        if found is not None:
            return found
        definition = profile.root
        invariants = self.invariants(definition, definition.path)
        children = self.children(definition, base_type, profile)

        def node(run: Any, obj: dict, path: Path, resource: dict) -> None:
            outer, run.judging = run.judging, profile
            try:
                if invariants is not None:
                    invariants(run, obj, path, resource)
                children(run, obj, path, resource)
            finally:
                run.judging = outer

        self._nodes[key] = node
        return node

    def children(self, definition: ElementDef, base_type: str, profile: Profile) -> Check:
        """The children of `definition` in an object of `base_type`, in the profile's order: those that are always
        checked (required, sliced, a choice) and those whose JSON key the object has, found from its keys (an
        object has a few of the dozens of children a definition allows). The plan is made on first use."""
        key = (id(definition), base_type)
        found = self._children.get(key)
        if found is not None:
            return found
        plan: tuple[list[Check], list[int], dict[str, int]] | None = None

        def children(run: Any, obj: dict, path: Path, resource: dict) -> None:
            nonlocal plan
            if plan is None:
                plan = self._children_plan(definition, base_type, profile)
            checks, always, position = plan
            present = [position[k] for k in obj if k in position]
            if always:
                present += always
            if len(present) > 1:
                present = sorted(set(present))
            for index in present:
                checks[index](run, obj, path, resource)

        self._children[key] = children
        return children

    def _children_plan(self, definition: ElementDef, base_type: str,
                       profile: Profile) -> tuple[list[Check], list[int], dict[str, int]]:
        """(each child's checker, the positions of those always checked, the position of each JSON key)."""
        children = definition.children
        if not children and definition.content_reference:
            target = resolve_content_reference(profile, definition.content_reference)
            children = target.children if target else []
        known = elements(base_type)
        checks, always, position = [], [], {}
        for index, child in enumerate(children):
            checks.append(self.element(child, known, profile))
            if child.absent_key is None:
                always.append(index)
            elif child.absent_key in position:  # two children of one key (a malformed snapshot): both always run
                always += [position[child.absent_key], index]  # (an absent optional element's check finds nothing)
            else:
                position[child.absent_key] = position[child.twin_key] = index
        return checks, always, position

    # --- one element: its values, their cardinality and slices ----------------------------------------------------

    def element(self, definition: ElementDef, known: dict[str, ElementInfo], profile: Profile) -> Check:
        if definition.is_choice or (definition.slicing_rules and definition.slices):
            return self._values_of(definition, known, profile)
        name, twin = definition.json_name, definition.twin_key
        info = known.get(name)
        code = _code_of(definition, info)
        value_check = self.value_checks(profile)(definition, code, info)
        checked = value_check is not _nothing
        cardinality = _cardinality(definition, definition.shown)
        minimum, maximum = definition.min, definition.max

        def element(run: Any, obj: dict, parent: Path, resource: dict) -> None:
            value = obj.get(name)
            if value is not None and not isinstance(value, list) and twin not in obj:  # one value, no twin
                if minimum > 1 or (maximum is not None and maximum < 1):
                    cardinality(run, [(value, parent + (name,), code, info)], parent)
                if checked:
                    value_check(run, value, parent + (name,), resource)
                return
            items = _values_at(obj, name, parent, code, info) if value is not None or twin in obj else []
            cardinality(run, items, parent)
            for item, path, _, _ in items:
                value_check(run, item, path, resource)

        return element

    def _values_of(self, definition: ElementDef, known: dict[str, ElementInfo], profile: Profile) -> Check:
        """A choice or sliced element: its values collected with their types, counted, sorted into slices."""
        collect = _choice_collector(definition, known) if definition.is_choice else _collector(definition, known)
        cardinality = _cardinality(definition, definition.shown)
        sliced = self._slicing(definition, profile) if definition.slicing_rules and definition.slices else None
        values = self.value_checks(profile)

        def element(run: Any, obj: dict, parent: Path, resource: dict) -> None:
            items = collect(obj, parent)
            cardinality(run, items, parent)
            if sliced is not None:
                sliced(run, items, parent, resource)
                return
            for value, path, code, info in items:
                values(definition, code, info)(run, value, path, resource)

        return element

    def value_checks(self, profile: Profile) -> Callable[[ElementDef, str, ElementInfo | None], ValueCheck]:
        """The value checker of (definition, type code, base-model element), made once."""
        known = self._values

        def value_check(definition: ElementDef, code: str, info: ElementInfo | None) -> ValueCheck:
            key = (id(definition), code, info)
            found = known.get(key)
            if found is None:
                found = known[key] = self.value(definition, code, info, profile)
            return found

        return value_check

    def _slicing(self, definition: ElementDef, profile: Profile) -> Callable[[Any, list, Path, dict], None]:
        """The values of a sliced element sorted into its slices, each slice's cardinality, a closed slicing's
        strays, then each value against its slice (or the element)."""
        notes, usable = [], []
        for slice_def, problem in slice_problems(definition, self.judge):
            if problem:
                notes.append(f"{definition.path}:{slice_def.slice_name} ({problem})")
            else:
                usable.append(slice_def)
        tests = [(slice_def, [self._discriminator(slice_def, d.type, d.path) for d in definition.discriminators],
                  _cardinality(slice_def, f"{definition.path}:{slice_def.slice_name}")) for slice_def in usable]
        closed = definition.slicing_rules == "closed" and len(usable) == len(definition.slices)
        by_value = [split_steps(d.path) for d in definition.discriminators if d.type != "type"] if tests else []
        stray = f"{definition.path} is closed: the value matches none of its slices " \
                f"({', '.join(str(s.slice_name) for s in definition.slices)})"
        values = self.value_checks(profile)

        def sliced(run: Any, items: list, parent: Path, resource: dict) -> None:
            if by_value and run.remembering:  # what the discriminators read by text (a type one reads keys)
                for value, path, _, _ in items:
                    for steps in by_value:
                        try:
                            reads = discriminator_reads(value, steps, path)
                        except SlicingUnsupported:
                            reads = [(path, value)]
                        for place, found in reads:
                            run.read(place, found)
            for note in notes:
                run.not_checked("slice", note)
            assigned = [next((s for s, discriminators, _ in tests if all(d(value, code) for d in discriminators)),
                             None) for value, _, code, _ in items]
            for slice_def, _, cardinality in tests:
                cardinality(run, [item for item, s in zip(items, assigned, strict=True) if s is slice_def], parent)
            if closed:
                for item, slice_def in zip(items, assigned, strict=True):
                    if slice_def is None:
                        run.report(F_PROFILE, _ERROR, item[1], stray)
            for (value, path, code, info), slice_def in zip(items, assigned, strict=True):
                values(slice_def or definition, code, info)(run, value, path, resource)

        return sliced

    def _discriminator(self, slice_def: ElementDef, kind: str, path: str) -> Discriminator:
        if kind == "type":
            return lambda value, code: type_matches(value, code, slice_def, path)
        expected = expected_for(slice_def, path, self.judge)
        steps = split_steps(path)

        def discriminated(value: object, code: str) -> bool:
            try:
                actual = navigate(value, steps)
            except SlicingUnsupported:
                return False
            return any(in_value_set(wanted, found) if how == "binding" else  # type: ignore[arg-type]
                       matches_pattern(wanted, found) if how == "pattern" else wanted == found
                       for how, wanted in expected for found in actual)

        return discriminated

    # --- one value -----------------------------------------------------------------------------------------------

    def value(self, definition: ElementDef, code: str, info: ElementInfo | None, profile: Profile) -> ValueCheck:
        """One value of type `code` against its element (or slice) definition."""
        codes = definition.type_codes
        if codes and code not in codes and not (code == "Resource" or "*" in codes):
            text = f"type {code} is not allowed for {definition.path} (allowed: {', '.join(sorted(codes))})"

            def wrong_type(run: Any, value: object, path: Path, resource: dict) -> None:
                run.report(F_PROFILE, _ERROR, path, text)

            return wrong_type
        compared = _comparisons(definition, code)
        binding = self.binding(definition, code, info) if definition.binding and \
            definition.binding[0] == "required" else None
        reference = self.reference(definition) if code == "Reference" else None
        invariants = self.invariants(definition, definition.path.replace("[x]", "") if code in (
            "BackboneElement", "Element", "Resource") else code)
        inside = None if code == "Resource" else self._inside(definition, code, info, profile)
        if not (compared or binding or reference or invariants):
            return _nothing if inside is None else _objects_only(inside)
        reads_value = compared is not None or binding is not None  # judged by its text (walks.py)

        def value_check(run: Any, value: object, path: Path, resource: dict) -> None:
            if reads_value:
                run.read(path, value)
            if compared is not None:
                compared(run, value, path)
            if binding is not None:
                binding(run, value, path)
            if reference is not None and isinstance(value, dict):
                reference(run, value, path)
            if invariants is not None:
                invariants(run, value, path, resource)
            if inside is not None and isinstance(value, dict):
                inside(run, value, path, resource)

        return value_check

    def _inside(self, definition: ElementDef, code: str, info: ElementInfo | None, profile: Profile) -> Check | None:
        """What is checked inside an object value: the definition's children, else the profiles of its type."""
        base_type = code if code not in ("BackboneElement", "Element") else (info.fhir_type if info else "Element")
        if code in PRIMITIVE_TYPES:
            base_type = "Element"  # a primitive's `_name` object
        if definition.children or definition.content_reference:
            return self.children(definition, base_type, profile)
        steps: list[Check] = []
        for type_ref in definition.types:
            if type_ref.code != code:
                continue
            for url in type_ref.profiles:
                type_profile = self.profile(url)
                steps.append(_not_checked("profile", strip_version(url)) if type_profile is None
                             else self.node(type_profile, base_type))
        if not steps:
            return None
        if len(steps) == 1:
            return steps[0]

        def each(run: Any, obj: dict, path: Path, resource: dict) -> None:
            for step in steps:
                step(run, obj, path, resource)

        return each

    def binding(self, definition: ElementDef, code: str,
                info: ElementInfo | None) -> Callable[[Any, object, Path], None]:
        """A required binding: the value's code (a code, a Coding's, one of a CodeableConcept's) in the value set;
        a value set that cannot be expanded is not checked, unless the base model enumerates the codes."""
        value_set = definition.binding[1]  # type: ignore[index]
        name = strip_version(value_set)
        members = expansion(value_set, self.judge)
        if members is None:
            enum = info.enum if info else None

            def enumerated(run: Any, value: object, path: Path) -> None:
                if enum and isinstance(value, str):
                    if value not in enum:
                        run.report(F_BINDING, _ERROR, path, f"code {quoted(value)} is not in the required value set "
                                   f"{name}")
                else:
                    run.not_checked("value set", name)

            return enumerated

        def bound(run: Any, value: object, path: Path) -> None:
            if isinstance(value, str):
                ok, shown = members.contains_code(value), f"code {quoted(value)}"
            elif isinstance(value, dict) and code == "Coding":
                if "code" not in value:
                    return
                ok = members.contains(value.get("system"), value["code"])
                shown = "code " + shortened(f"{value.get('system')}#{value['code']}")
            elif isinstance(value, dict) and code == "CodeableConcept":
                codings = [c for c in value.get("coding", []) if isinstance(c, dict) and "code" in c] \
                    if isinstance(value.get("coding"), list) else []
                ok = any(members.contains(c.get("system"), c["code"]) for c in codings)
                shown = "codes " + shortened(", ".join(f"{c.get('system')}#{c['code']}" for c in codings)) \
                    if codings else "no code"
            else:
                return
            if not ok:
                run.report(F_BINDING, _ERROR, path, f"{shown} is not in the required value set {name}")

        return bound

    def reference(self, definition: ElementDef) -> Callable[[Any, dict, Path], None]:
        """A reference inside the Bundle: its target's type against the target profiles, which are then expected
        of the target (when references are followed)."""
        targets = [p for t in definition.types if t.code == "Reference" for p in t.target_profiles]
        typed = []
        for url in targets:
            target_profile = self.profile(url)
            typed.append((url, target_profile, target_profile.type if target_profile
                          else strip_version(url).rsplit("/", 1)[-1]))
        wanted = " or ".join(strip_version(t).rsplit("/", 1)[-1] for t in targets)

        def reference(run: Any, value: dict, path: Path) -> None:
            if not isinstance(value.get("reference"), str):
                return
            found, target_path = run.resolve_reference(value, path)
            if found is None or not targets:
                return  # a reference outside the Bundle (a Provenance's earlier message): nothing here to check
            kind = found.get("resourceType")
            fitting = [(url, target) for url, target, type_name in typed if type_name in (kind, "Resource")]
            if not fitting:
                run.report(F_PROFILE, _ERROR, path, f"the reference points at a {kind}, not at {wanted}")
                return
            if target_path is None or not run.follows_references:
                return
            for url, target in fitting:
                if target is not None:
                    run.expect(target_path, url, path)
                elif not strip_version(url).startswith("http://hl7.org/fhir/StructureDefinition/"):
                    run.not_checked("profile", strip_version(url))

        return reference

    def invariants(self, definition: ElementDef, type_path: str) -> ValueCheck | None:
        """The constraints evaluated here: natively where a shortcut answers, else by fhirpathpy."""
        if not definition.invariants:
            return None
        plan = [(constraint.expression, shortcut, shortcut in SHAPE_ONLY, shortcut in VALUE_ONLY,  # type: ignore[operator]
                 constraint.key, Severity.ERROR if constraint.severity == "error" else Severity.WARNING,
                 f"{constraint.key}: {constraint.human}") for constraint, shortcut in definition.invariants]

        def invariants(run: Any, value: object, path: Path, resource: dict) -> None:
            for expression, shortcut, shape_only, value_only, key, severity, text in plan:
                if shortcut is None:
                    answer = ASK_FHIRPATH
                elif shape_only or value_only:
                    answer = shortcut(value, resource, run)
                else:  # it may read the whole Bundle, resolve references, ask conformsTo(): asked as a unit
                    answer = run.ask(shortcut, value, resource)
                if answer is ASK_FHIRPATH:
                    run.read_fhirpath(expression, value, path)
                    verdict = fp.evaluate(expression, value, type_path, resource, run)
                else:
                    if not shape_only:  # its answer is what the walk depends on (walks.py), asked again on replay
                        run.read_answer(shortcut, value, path, answer)
                    verdict = None if answer is UNEVALUABLE else bool(answer)
                if verdict is None:
                    run.not_checked("invariant", key)
                elif not verdict:
                    run.report(F_INVARIANT, severity, path, text)

        return invariants


# --- pieces without a compiler's state -------------------------------------------------------------------------------


def _nothing(run: Any, value: object, path: Path, resource: dict) -> None:
    """The check of a value that nothing constrains (its element and type set no check)."""


def _objects_only(inside: Check) -> ValueCheck:
    """The check of a value only an object of which is checked (inside, against its children or type profiles)."""
    def value_check(run: Any, value: object, path: Path, resource: dict) -> None:
        if isinstance(value, dict):
            inside(run, value, path, resource)
    return value_check


def _not_checked(kind: str, what: str) -> Check:
    def note(run: Any, obj: dict, path: Path, resource: dict) -> None:
        run.not_checked(kind, what)
    return note


def _comparisons(definition: ElementDef, code: str) -> Callable[[Any, object, Path], None] | None:
    """The fixed and pattern values (compared where the value is not a primitive's `_name` object)."""
    fixed, pattern = definition.fixed, definition.pattern
    if fixed is None and pattern is None:
        return None
    primitive = code in PRIMITIVE_TYPES
    fixed_text = None if fixed is None else f"{quoted(fixed[1])} of {definition.path}"
    pattern_text = None if pattern is None else f"{quoted(pattern[1])} of {definition.path}"

    def compared(run: Any, value: object, path: Path) -> None:
        if primitive and isinstance(value, dict | list):
            return
        if fixed is not None and value != fixed[1]:
            run.report(F_PROFILE, _ERROR, path, f"value {quoted(value)} is not the fixed value {fixed_text}",
                       FIXED_VALUE)
        if pattern is not None and not matches_pattern(pattern[1], value):
            run.report(F_PROFILE, _ERROR, path, f"value {quoted(value)} does not match the pattern {pattern_text}",
                       PATTERN)

    return compared


def _cardinality(definition: ElementDef, shown: str) -> Callable[[Any, list, Path], None]:
    minimum, maximum = definition.min, definition.max
    name = None if definition.is_choice else definition.json_name

    def cardinality(run: Any, items: list, parent: Path) -> None:
        count = len(items)
        if count < minimum:
            where = (parent if name is None else parent + (name,)) if count == 0 else items[0][1]
            run.report(F_PROFILE, _ERROR, where, f"{shown}: minimum required = {minimum}, but only found {count}",
                       MIN_CARDINALITY)
        if maximum is not None and count > maximum:
            run.report(F_PROFILE, _ERROR, items[maximum][1] if maximum < count else parent,
                       f"{shown}: max allowed = {maximum}, but found {count}", MAX_CARDINALITY)

    return cardinality


Item = tuple[object, Path, str, ElementInfo | None]  # a value, where it is, its type code, its base-model element


def _values_at(obj: dict, key: str, parent: Path, code: str, info: ElementInfo | None) -> list[Item]:
    """The values of one JSON key with their `_key` twins (a primitive with only extensions is its twin)."""
    value, twin = obj.get(key), obj.get("_" + key)
    if isinstance(value, list) or isinstance(twin, list):
        values = value if isinstance(value, list) else []
        twins = twin if isinstance(twin, list) else []
        found: list[Item] = []
        for index in range(max(len(values), len(twins))):
            item = values[index] if index < len(values) else None
            if item is None and index < len(twins):
                item = twins[index]
            if item is not None:
                found.append((item, parent + (key, index), code, info))
        return found
    item = value if value is not None else twin
    return [] if item is None else [(item, parent + (key,), code, info)]


def _code_of(definition: ElementDef, info: ElementInfo | None) -> str:
    """The type code of a non-choice element's values: its one type, else the base model's."""
    if definition.single_type is not None:
        return definition.single_type
    if info is None:
        return "string"
    return info.fhir_type if info.kind != "resource" else "Resource"


def _collector(definition: ElementDef, known: dict[str, ElementInfo]) -> Callable[[dict, Path], list[Item]]:
    name, twin = definition.json_name, definition.twin_key
    info = known.get(name)
    code = _code_of(definition, info)

    def collect(obj: dict, parent: Path) -> list[Item]:
        if name not in obj and twin not in obj:
            return []
        return _values_at(obj, name, parent, code, info)

    return collect


def _choice_collector(definition: ElementDef, known: dict[str, ElementInfo]) -> Callable[[dict, Path], list[Item]]:
    """A choice element's values: every `name<Type>` key (and `_name<Type>` twin) of the object, in key order."""
    name = definition.json_name
    length = len(name)

    def collect(obj: dict, parent: Path) -> list[Item]:
        keys = sorted({k.lstrip("_") for k in obj if k.lstrip("_").startswith(name)
                       and k.lstrip("_")[length:][:1].isupper()})
        found: list[Item] = []
        for key in keys:
            found += _values_at(obj, key, parent, choice_type_code(key[length:]), known.get(key))
        return found

    return collect
