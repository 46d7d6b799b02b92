"""Validate a MedCom FHIR message Bundle against the base model and MedCom's profiles.

The message profile is chosen from Bundle.meta.profile, else from the MessageHeader (its meta.profile, else its
event code). Every resource in the Bundle is then checked against each MedCom profile that names it: its own
meta.profile, and the target profile of each reference to it from an element already checked (MessageHeader.focus
-> the Encounter profile, Encounter.subject -> the Patient profile...). A profile is walked along its snapshot:
cardinality, fixed and pattern values, allowed types, slices (value, pattern and type discriminators), required
bindings against the shipped value sets, and the constraints' FHIRPath (error -> error, warning -> warning).
What cannot be checked for want of a package (a profile, a value set) or of FHIRPath support is counted and
reported as F-UNCHECKED info findings, never guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from medcom.findings import Finding, Severity
from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, UNEVALUABLE
from medcom.formats.fhir.basemodel import ElementInfo, elements
from medcom.formats.fhir.igpackages import conformance, strip_version
from medcom.formats.fhir.locations import LineMap, Path, fhirpath, masked
from medcom.formats.fhir.profiles import ElementDef, Profile, compile_profile, resolve_content_reference
from medcom.formats.fhir.rules import F_BINDING, F_INVARIANT, F_PROFILE, F_STRUCTURE, F_UNCHECKED
from medcom.formats.fhir.structure import StructureCheck
from medcom.formats.fhir.terminology import expansion
from medcom.quoting import quoted, shortened

MESSAGE_PROFILES = {
    "hospital-notification-message":
        "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message",
    "care-communication-message":
        "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message",
    "acknowledgement-message":
        "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement",
    "empty-message": "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-message",
}
_HEADER_TO_MESSAGE = {
    "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader":
        MESSAGE_PROFILES["hospital-notification-message"],
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader":
        MESSAGE_PROFILES["care-communication-message"],
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader":
        MESSAGE_PROFILES["acknowledgement-message"],
}
_PRIMITIVE_TYPES = frozenset({
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary", "instant", "date",
    "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt", "positiveInt", "uuid", "xhtml"})
_SYSTEM_STRING = "http://hl7.org/fhirpath/System.String"
_SPLIT_STEPS = re.compile(r"\.(?![^(]*\))")


@dataclass
class ValidationResult:
    """The findings for one Bundle, what could not be checked (info findings), and the message profile used."""

    findings: list[Finding] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)
    profile: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]


@dataclass(slots=True)
class _Item:
    """One value of an element in the instance: its value (a primitive, or the `_name` object when a primitive
    has only extensions), where it is, its type code and its base-model element."""

    value: object
    path: Path
    type_code: str
    info: ElementInfo | None


class _SlicingUnsupported(Exception):
    pass


def _type_code(suffix: str) -> str:
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in _PRIMITIVE_TYPES else suffix


def _matches_pattern(pattern: object, value: object) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _matches_pattern(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches_pattern(p, v) for v in value) for p in pattern)
    return pattern == value


_short = quoted


class _Validation:
    """One Bundle's validation: the resources, the findings, and the profiles each resource must meet."""

    def __init__(self, bundle: dict, file: str, lines: LineMap) -> None:
        self.bundle = bundle
        self.file = file
        self.lines = lines
        self.root_type = str(bundle.get("resourceType", "Bundle"))
        self.findings: dict[tuple[str, str, str], Finding] = {}
        self.unchecked: Counter[tuple[str, str]] = Counter()
        self.entries: list[tuple[Path, dict]] = []
        for index, entry in enumerate(bundle.get("entry", ()) if isinstance(bundle.get("entry"), list) else ()):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                self.entries.append((("entry", index, "resource"), entry["resource"]))
        self.by_url: dict[str, tuple[Path, dict]] = {}
        for index, entry in enumerate(bundle.get("entry", ()) if isinstance(bundle.get("entry"), list) else ()):
            if isinstance(entry, dict) and isinstance(entry.get("fullUrl"), str) and isinstance(
                    entry.get("resource"), dict):
                self.by_url[entry["fullUrl"]] = (("entry", index, "resource"), entry["resource"])
        self.expected: dict[Path, dict[str, Path | None]] = {}  # resource path -> profile -> referring element
        self.done: set[tuple[Path, str]] = set()
        self.verdicts: dict[tuple[int, str], bool] = {}
        self.quiet = 0  # > 0 while conformsTo() checks a resource: findings are counted, not reported
        self.quiet_errors = 0
        self.built_on: dict[str, str] = {}  # the message IG's dependencies: package name -> version
        self.version_note: str | None = None  # set while walking a profile of another version than built_on's
        self._follow = True

    # --- reporting ------------------------------------------------------------------------------------------------

    def report(self, rule: str, severity: Severity, path: Path, text: str) -> None:
        """Record a finding; the same finding from two profiles is kept once, as its most severe form."""
        key_text = text
        if self.version_note and severity == Severity.ERROR:
            severity, text = Severity.WARNING, f"{text} [{self.version_note}]"
        if self.quiet:
            if severity == Severity.ERROR:
                self.quiet_errors += 1
            return
        location = fhirpath(self.root_type, path)
        key = (rule, location, key_text)
        known = self.findings.get(key)
        if known is None or (known.severity != Severity.ERROR and severity == Severity.ERROR):
            self.findings[key] = Finding(rule, severity, masked(text), self.file, self.lines.line(path), location)

    def not_checked(self, kind: str, what: str) -> None:
        if not self.quiet:
            self.unchecked[(kind, what)] += 1

    # --- the FHIRPath session ----------------------------------------------------------------------------------

    def resolve(self, reference: str) -> dict | None:
        found = self.by_url.get(reference)
        if found is None and reference.count("/") >= 1 and not reference.startswith(("urn:", "#")):
            kind, _, ident = reference.rstrip("/").rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            found = next(((p, r) for p, r in self.entries if r.get("resourceType") == kind and r.get("id") == ident),
                         None)
        return found[1] if found else None

    def path_of(self, resource: dict) -> Path | None:
        return next((p for p, r in self.entries if r is resource), None)

    def conforms_to(self, resource: dict, profile_url: str) -> bool | None:
        profile = compile_profile(profile_url)
        if profile is None:
            return None
        key = (id(resource), profile.url)
        if key not in self.verdicts:
            self.verdicts[key] = True  # a cycle through conformsTo() is taken as conforming
            path = self.path_of(resource) or ()
            self.quiet += 1
            before = self.quiet_errors
            try:
                self.check_resource(resource, profile, path, follow_references=False)
            finally:
                self.quiet -= 1
            self.verdicts[key] = self.quiet_errors == before
        return self.verdicts[key]

    # --- profiles and resources --------------------------------------------------------------------------------

    def expect(self, path: Path, profile_url: str, because: Path | None) -> None:
        self.expected.setdefault(path, {}).setdefault(strip_version(profile_url), because)

    def use_message_profile(self, profile: Profile) -> None:
        package = conformance().package(profile.package)
        self.built_on = dict(package.dependencies) if package else {}

    def _note_for(self, profile: Profile) -> str | None:
        """Why findings of `profile` are warnings: its package is not the version the message's IG was built on."""
        name, _, version = profile.package.partition("#")
        wanted = self.built_on.get(name)
        if wanted is None or wanted == version:
            return None
        return f"{profile.name} from {name} {version}; this message's IG was built on {wanted}"

    def check_resource(self, resource: dict, profile: Profile, path: Path, *, follow_references: bool = True) -> None:
        try:
            self._check_resource(resource, profile, path, follow_references)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            # a shape the walk did not foresee: the structure check reports the shape; the profile is not finished
            self.not_checked("profile", f"{profile.url} at {fhirpath(self.root_type, path)} "
                                        f"(stopped on malformed content: {type(exc).__name__})")

    def _check_resource(self, resource: dict, profile: Profile, path: Path, follow_references: bool) -> None:
        kind = resource.get("resourceType")
        if kind != profile.type:
            self.report(F_PROFILE, Severity.ERROR, path,
                        f"a {kind} cannot conform to {profile.name} (a {profile.type} profile)")
            return
        saved = self._follow
        self._follow = follow_references
        try:
            self.node(resource, profile.root, path, kind, resource, profile)
        finally:
            self._follow = saved

    def node(self, obj: dict, definition: ElementDef, path: Path, base_type: str, resource: dict,
             profile: Profile) -> None:
        """`obj` against a profile's root `definition`: its constraints, then its children."""
        saved = self.version_note
        self.version_note = self._note_for(profile)
        try:
            self.invariants(definition, obj, path, definition.path, resource)
            self.children(obj, definition, path, base_type, resource, profile)
        finally:
            self.version_note = saved

    def children(self, obj: dict, definition: ElementDef, path: Path, base_type: str, resource: dict,
                 profile: Profile | None = None) -> None:
        children = definition.children
        if not children and definition.content_reference and profile is not None:
            target = resolve_content_reference(profile, definition.content_reference)
            children = target.children if target else []
        known = elements(base_type)
        for child in children:
            absent = child.absent_key
            if absent is not None and absent not in obj and "_" + absent not in obj:
                continue  # optional, not sliced and not there: nothing to check
            self.element(self.collect(obj, child, path, known), child, path, resource, profile)

    def collect(self, obj: dict, definition: ElementDef, path: Path, known: dict[str, ElementInfo]) -> list[_Item]:
        name = definition.json_name
        if definition.is_choice:
            keys = sorted({k.lstrip("_") for k in obj if k.lstrip("_").startswith(name)
                           and k.lstrip("_")[len(name):][:1].isupper()})
        else:
            keys = [name] if name in obj or "_" + name in obj else []
        found: list[_Item] = []
        for key in keys:
            info = known.get(key)
            if definition.is_choice:
                type_code = _type_code(key[len(name):])
            elif len(definition.types) == 1 and definition.types[0].code != _SYSTEM_STRING:
                type_code = definition.types[0].code
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
            for slice_def, problem in _slice_problems(definition):
                if problem:
                    self.not_checked("slice", f"{definition.path}:{slice_def.slice_name} ({problem})")
                else:
                    usable.append(slice_def)
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
                        f"{shown}: minimum required = {definition.min}, but only found {count}")
        if definition.max is not None and count > definition.max:
            self.report(F_PROFILE, Severity.ERROR, items[definition.max].path if definition.max < len(items)
                        else parent, f"{shown}: max allowed = {definition.max}, but found {count}")

    # --- one value ---------------------------------------------------------------------------------------------

    def value(self, item: _Item, definition: ElementDef, resource: dict, profile: Profile | None) -> None:
        value, path = item.value, item.path
        codes = definition.type_codes
        if codes and item.type_code not in codes and not (item.type_code == "Resource" or "*" in codes):
            allowed = ", ".join(sorted(codes))
            self.report(F_PROFILE, Severity.ERROR, path,
                        f"type {item.type_code} is not allowed for {definition.path} (allowed: {allowed})")
            return
        comparable = not isinstance(value, dict | list) or item.type_code not in _PRIMITIVE_TYPES
        if comparable and definition.fixed is not None and value != definition.fixed[1]:
            self.report(F_PROFILE, Severity.ERROR, path, f"value {_short(value)} is not the fixed value "
                        f"{_short(definition.fixed[1])} of {definition.path}")
        if comparable and definition.pattern is not None and not _matches_pattern(definition.pattern[1], value):
            self.report(F_PROFILE, Severity.ERROR, path, f"value {_short(value)} does not match the pattern "
                        f"{_short(definition.pattern[1])} of {definition.path}")
        if definition.binding and definition.binding[0] == "required":
            self.binding(item, definition)
        if item.type_code == "Reference" and isinstance(value, dict):
            self.reference(value, path, definition)
        self.invariants(definition, value, path, self.type_path(item, definition), resource)
        if not isinstance(value, dict) or item.type_code == "Resource":
            return  # a primitive, or a resource validated as an entry of its own
        base_type = item.type_code if item.type_code not in ("BackboneElement", "Element") else (
            item.info.fhir_type if item.info else "Element")
        if item.type_code in _PRIMITIVE_TYPES:
            base_type = "Element"  # a primitive's `_name` object
        if definition.children or definition.content_reference:
            self.children(value, definition, path, base_type, resource, profile)
            return
        for type_ref in definition.types:
            if type_ref.code != item.type_code:
                continue
            for url in type_ref.profiles:
                type_profile = compile_profile(url)
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
        members = expansion(value_set)
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
        target_url = value.get("reference")
        if not isinstance(target_url, str):
            return
        targets = [p for t in definition.types if t.code == "Reference" for p in t.target_profiles]
        found = self.resolve(target_url)
        if found is None:
            return  # a reference outside the Bundle (a Provenance's earlier message): nothing here to check
        if not targets:
            return
        kind = found.get("resourceType")
        fitting = []
        for url in targets:
            profile = compile_profile(url)
            type_name = profile.type if profile else strip_version(url).rsplit("/", 1)[-1]
            if type_name in (kind, "Resource"):
                fitting.append((url, profile))
        if not fitting:
            wanted = " or ".join(strip_version(t).rsplit("/", 1)[-1] for t in targets)
            self.report(F_PROFILE, Severity.ERROR, path, f"the reference points at a {kind}, not at {wanted}")
            return
        target_path = self.path_of(found)
        if target_path is None or not self._follow:
            return
        for url, profile in fitting:
            if profile is not None:
                self.expect(target_path, url, path)
            elif not strip_version(url).startswith("http://hl7.org/fhir/StructureDefinition/"):
                self.not_checked("profile", strip_version(url))

    def invariants(self, definition: ElementDef, value: object, path: Path, type_path: str, resource: dict) -> None:
        for constraint, shortcut in definition.invariants:
            answer = shortcut(value, resource) if shortcut is not None else ASK_FHIRPATH
            if answer is ASK_FHIRPATH:
                verdict = fp.evaluate(constraint.expression, value, type_path, resource, self)  # type: ignore[arg-type]
            else:
                verdict = None if answer is UNEVALUABLE else bool(answer)
            if verdict is None:
                self.not_checked("invariant", constraint.key)
            elif not verdict:
                severity = Severity.ERROR if constraint.severity == "error" else Severity.WARNING
                self.report(F_INVARIANT, severity, path, f"{constraint.key}: {constraint.human}")

    # --- slicing -----------------------------------------------------------------------------------------------

    def slice_of(self, item: _Item, definition: ElementDef, usable: list[ElementDef]) -> ElementDef | None:
        for slice_def in usable:
            if all(_discriminated(item, slice_def, d.type, d.path) for d in definition.discriminators):
                return slice_def
        return None

_SLICE_PROBLEMS: dict[int, tuple[ElementDef, list[tuple[ElementDef, str | None]]]] = {}


def _slice_problems(definition: ElementDef) -> list[tuple[ElementDef, str | None]]:
    """Each slice of a sliced element with why it cannot be told apart (None: it can); worked out once per
    element definition (compiled profiles live as long as the process)."""
    known = _SLICE_PROBLEMS.get(id(definition))
    if known is None or known[0] is not definition:
        known = (definition, [(s, _slice_problem(s, definition)) for s in definition.slices])
        _SLICE_PROBLEMS[id(definition)] = known
    return known[1]


def _slice_problem(slice_def: ElementDef, definition: ElementDef) -> str | None:
    """Why a slice cannot be told apart here (a discriminator this validator does not support, or a value set in a
    profile that is not shipped); None when it can."""
    for discriminator in definition.discriminators:
        if discriminator.type == "type":
            if len([s for s in _steps(discriminator.path) if s != "$this"]) > 1:
                return f"type discriminator {discriminator.path}"
            continue
        if discriminator.type not in ("value", "pattern"):
            return f"{discriminator.type} discriminator"
        try:
            if not _expected_values(slice_def, _steps(discriminator.path)):
                return f"no fixed or pattern value at {discriminator.path}"
        except _SlicingUnsupported as exc:
            return str(exc)
    return None


def _discriminated(item: _Item, slice_def: ElementDef, kind: str, path: str) -> bool:
    if kind == "type":
        return _type_matches(item, slice_def, path)
    expected = _expected_values(slice_def, _steps(path))
    try:
        actual = _navigate(item.value, _steps(path))
    except _SlicingUnsupported:
        return False
    return any(_matches_pattern(value, found) if how == "pattern" else value == found
               for how, value in expected for found in actual)


def _type_matches(item: _Item, slice_def: ElementDef, path: str) -> bool:
    steps = [s for s in _steps(path) if s != "$this"]
    if not steps:
        return item.type_code in {t.code for t in slice_def.types}
    if len(steps) != 1 or not isinstance(item.value, dict):
        return False  # a malformed value matches no type slice (multi-step paths are refused by _slice_problem)
    child = slice_def.child(steps[0] + "[x]") or slice_def.child(steps[0])
    keys = [k for k in item.value if k.startswith(steps[0]) and k[len(steps[0]):][:1].isupper()]
    if child is None or not keys:
        return False
    return _type_code(keys[0][len(steps[0]):]) in {t.code for t in child.types}


def _steps(path: str) -> list[str]:
    return [s for s in _SPLIT_STEPS.split(path) if s]


_EXTENSION_STEP = re.compile(r"extension\('([^']*)'\)")


def _navigate(value: object, steps: list[str]) -> list[object]:
    current = [value]
    for step in steps:
        if step == "$this":
            continue
        found: list[object] = []
        by_url = _EXTENSION_STEP.fullmatch(step)
        for node in current:
            if not isinstance(node, dict):
                continue
            if by_url:
                found += [e for e in node.get("extension", []) if isinstance(e, dict) and e.get("url") == by_url[1]]
            elif step.endswith(")"):
                raise _SlicingUnsupported(f"discriminator step {step}")
            else:
                keys = [step] if step in node else [k for k in node if k.startswith(step) and
                                                    k[len(step):][:1].isupper()]
                for key in keys:
                    item = node[key]
                    found += item if isinstance(item, list) else [item]
        current = found
    return current


def _expected_values(slice_def: ElementDef, steps: list[str]) -> list[tuple[str, object]]:
    """The fixed and pattern values the slice's definition sets at the discriminator path."""
    candidates = [slice_def]
    for position, step in enumerate(steps):
        if step == "$this":
            continue
        by_url = _EXTENSION_STEP.fullmatch(step)
        following: list[ElementDef] = []
        for node in candidates:
            if not node.children:
                node = _type_profile_root(node) or node
            if by_url:
                base = node.child("extension")
                following += [s for s in (base.slices if base else []) if any(
                    strip_version(p) == by_url[1] for t in s.types for p in t.profiles)]
                continue
            child = node.child(step) or node.child(step + "[x]")
            if child is None:
                if step == "url" and position == len(steps) - 1:  # an extension slice not expanded: its profile
                    following += [_Fixed(strip_version(p)) for t in node.types for p in t.profiles]  # type: ignore[misc]
                continue
            following += [child, *child.slices]
        candidates = following
    values: list[tuple[str, object]] = []
    for node in candidates:
        if isinstance(node, _Fixed):
            values.append(("fixed", node.value))
            continue
        if node.fixed is None and node.pattern is None and not node.children:
            root = _type_profile_root(node)
            node = root if root is not None else node
        if node.fixed is not None:
            values.append(("fixed", node.fixed[1]))
        if node.pattern is not None:
            values.append(("pattern", node.pattern[1]))
    return values


@dataclass(frozen=True)
class _Fixed:
    value: str


def _type_profile_root(node: ElementDef) -> ElementDef | None:
    for type_ref in node.types:
        for url in type_ref.profiles:
            profile = compile_profile(url)
            if profile is not None:
                return profile.root
    return None


# --- the Bundle --------------------------------------------------------------------------------------------------


def message_profile(bundle: dict) -> str | None:
    """The MedCom message profile that applies: Bundle.meta.profile, else the MessageHeader's profile or event."""
    for url in _profiles_of(bundle):
        profile = compile_profile(url)
        if profile is not None and profile.type == "Bundle":
            return profile.url
    header = _first_resource(bundle)
    if header is None or header.get("resourceType") != "MessageHeader":
        return None
    for url in _profiles_of(header):
        if url in _HEADER_TO_MESSAGE:
            return _HEADER_TO_MESSAGE[url]
    event = header.get("eventCoding")
    if isinstance(event, dict):
        return MESSAGE_PROFILES.get(str(event.get("code")))
    return None


def _profiles_of(resource: dict) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return [strip_version(p) for p in profiles if isinstance(p, str)] if isinstance(profiles, list) else []


def _first_resource(bundle: dict) -> dict | None:
    entries = bundle.get("entry")
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        resource = entries[0].get("resource")
        return resource if isinstance(resource, dict) else None
    return None


def validate_resource(bundle: object, file: str, lines: LineMap | None = None) -> ValidationResult:
    """Validate a parsed Bundle (FHIR JSON's shape, from JSON or XML); findings, never exceptions."""
    lines = lines or LineMap()
    result = ValidationResult()
    structure = StructureCheck(file, bundle.get("resourceType", "Bundle") if isinstance(bundle, dict) and isinstance(
        bundle.get("resourceType"), str) else "Bundle", lines)
    structure.resource(bundle, ())
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        result.findings = [*structure.findings.values(),
                           Finding(F_STRUCTURE, Severity.ERROR, f"a MedCom message is a Bundle, not {quoted(kind)}",
                                   file, 1, None)]
        return result
    _model_checks(bundle, structure)
    run = _Validation(bundle, file, lines)
    result.profile = message_profile(bundle)
    if result.profile is None:
        run.report(F_PROFILE, Severity.ERROR, (), "no MedCom message profile applies: neither Bundle.meta.profile nor "
                   "the first entry's MessageHeader names a HospitalNotification, CareCommunication or Acknowledgement")
    else:
        profile = compile_profile(result.profile)
        assert profile is not None
        run.use_message_profile(profile)
        run.check_resource(bundle, profile, ())
    for path, resource in run.entries:
        for url in _profiles_of(resource):
            if compile_profile(url) is not None:
                run.expect(path, url, None)
            else:
                run.not_checked("profile", url)
    while True:
        pending = [(path, url) for path, wanted in run.expected.items() for url in wanted
                   if (path, url) not in run.done]
        if not pending:
            break
        for path, url in pending:
            run.done.add((path, url))
            resource = next(r for p, r in run.entries if p == path)
            run.check_resource(resource, compile_profile(url), path)  # type: ignore[arg-type]
    result.findings = _merge(structure.findings.values(), run.findings.values())
    result.unchecked = structure.unchecked + [
        Finding(F_UNCHECKED, Severity.INFO, f"{kind} {what} is not available here: not checked ({count}x)", file)
        for (kind, what), count in sorted(run.unchecked.items())]
    return result


def _model_checks(bundle: dict, structure: StructureCheck) -> None:
    shell = dict(bundle)
    entries = bundle.get("entry")
    if isinstance(entries, list):
        shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                          for e in entries]
    structure.with_model(shell, ())
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            structure.with_model(entry["resource"], ("entry", index, "resource"))


def _merge(structural: object, profiled: object) -> list[Finding]:
    """Structure findings first; a profile's cardinality finding where the base model already said the same."""
    findings = list(structural)  # type: ignore[call-overload]
    seen = {f.xpath for f in findings}
    findings += [f for f in profiled if not (f.rule == F_PROFILE and f.xpath in seen and "minimum" in f.text)]  # type: ignore[attr-defined]
    return findings
