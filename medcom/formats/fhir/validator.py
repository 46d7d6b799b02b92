"""Validate a MedCom FHIR message Bundle against the base model and MedCom's profiles.

The message profile is chosen from Bundle.meta.profile, else from the MessageHeader (its meta.profile, else its
event code), and the IG version that judges it from what the message declares, else the newest it conforms to
(`validate_resource`); every profile, value set and code system is then looked up in that version's own
dependency closure (`igpackages.Context`). Every resource in the Bundle is then checked against each MedCom
profile that names it: its own meta.profile, and the target profile of each reference to it from an element
already checked (MessageHeader.focus -> the Encounter profile, Encounter.subject -> the Patient profile...). A
profile is walked along its snapshot: cardinality, fixed and pattern values, allowed types, slices (value, pattern,
required-binding and type discriminators), required bindings against the version's value sets, and the
constraints' FHIRPath (error -> error, warning -> warning).
What cannot be checked for want of a package (a profile, a value set) or of FHIRPath support is counted and
reported as F-UNCHECKED info findings, never guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from medcom.findings import Finding, Location, Severity
from medcom.formats.fhir import fhirpath as fp
from medcom.formats.fhir import walks
from medcom.formats.fhir.base_invariants import ASK_FHIRPATH, UNEVALUABLE
from medcom.formats.fhir.basemodel import ElementInfo, elements
from medcom.formats.fhir.bundle_rules import bundle_rules
from medcom.formats.fhir.igpackages import Context, context, newest, shipped, strip_version, version_key
from medcom.formats.fhir.locations import LineMap, Path, fhirpath
from medcom.formats.fhir.profiles import ElementDef, Profile, compile_profile, resolve_content_reference
from medcom.formats.fhir.rules import (
    F_BINDING,
    F_INVARIANT,
    F_PROFILE,
    F_STRUCTURE,
    F_UNCHECKED,
    FIXED_VALUE,
    MAX_CARDINALITY,
    MIN_CARDINALITY,
    PATTERN,
)
from medcom.formats.fhir.structure import StructureCheck
from medcom.formats.fhir.terminology import Expansion, expansion
from medcom.identifiers import mask_cprs
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
_SPLIT_STEPS = re.compile(r"\.(?![^(]*\))")


@dataclass
class ValidationResult:
    """The findings for one Bundle, what could not be checked (info findings), the message profile used and the
    IG version that judged it."""

    findings: list[Finding] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)
    profile: str | None = None
    ig: str | None = None  # the IG version that judged it: 'medcom.fhir.dk.hospitalnotification#3.0.2'

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


class _FirstError(Exception):  # noqa: N818 - not an error of the validator: the verdict of a trial run
    """A trial run (does the message conform to this IG version?) stops at its first error."""


class _NotConforming(Exception):  # noqa: N818 - the verdict of a conformsTo() check, at its first error
    """A conformsTo() check stops at its first error: the answer is known."""


def _type_code(suffix: str) -> str:
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in _PRIMITIVE_TYPES else suffix


def _matches_pattern(pattern: object, value: object) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _matches_pattern(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches_pattern(p, v) for v in value) for p in pattern)
    return pattern == value



class _Validation:
    """One Bundle's validation: the resources, the findings, and the profiles each resource must meet."""

    def __init__(self, bundle: dict, file: str, lines: LineMap, judge: Context, *, trial: bool = False) -> None:
        self.context = judge
        self.trial = trial  # stop at the first error: only whether the message conforms is wanted
        self.bundle = bundle
        self.file = file
        self.lines = lines
        self.root_type = str(bundle.get("resourceType", "Bundle"))
        self.findings: dict[tuple[str, Location, str], Finding] = {}
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
        self._follow = True
        self.judging: Profile | None = None  # the profile whose walk is reporting (a finding's judged_by)
        self._recording: tuple[Path, list[tuple]] | None = None  # a local walk's effects, remembered (walks.py)
        self._local = True  # False once the walk being recorded reads beyond its resource (or the resource's id)

    # --- reporting ------------------------------------------------------------------------------------------------

    def report(self, rule: str, severity: Severity, path: Path, text: str, code: str | None = None) -> None:
        """Record a finding; the same finding from two profiles is kept once, as its most severe form."""
        if self._recording is not None:
            self._record(path, ("report", rule, severity, text, code, self.judging))
        if self.quiet:
            if severity == Severity.ERROR:
                self.quiet_errors += 1
                raise _NotConforming
            return
        if self.trial and severity == Severity.ERROR:
            raise _FirstError
        location = Location.fhir(self.root_type, path)
        key = (rule, location, text)
        known = self.findings.get(key)
        if known is None or (known.severity != Severity.ERROR and severity == Severity.ERROR):
            judge = self.judging
            self.findings[key] = Finding(rule, severity, mask_cprs(text), self.file, self.lines.line(path),
                                         location=location, code=code, judged_by=_judged_by(judge) if judge else None)

    def not_checked(self, kind: str, what: str) -> None:
        if self._recording is not None:
            self._record((), ("unchecked", kind, what))
        if not self.quiet:
            self.unchecked[(kind, what)] += 1

    # --- the FHIRPath session ----------------------------------------------------------------------------------

    def resolve(self, reference: str) -> dict | None:
        self._local = False
        found = self.by_url.get(reference)
        if found is None and reference.count("/") >= 1 and not reference.startswith(("urn:", "#")):
            kind, _, ident = reference.rstrip("/").rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            found = next(((p, r) for p, r in self.entries if r.get("resourceType") == kind and r.get("id") == ident),
                         None)
        return found[1] if found else None

    def path_of(self, resource: dict) -> Path | None:
        self._local = False
        return next((p for p, r in self.entries if r is resource), None)

    @property
    def label(self) -> str:
        return self.context.label

    def expansion(self, value_set: str) -> Expansion | None:
        return expansion(value_set, self.context)

    def profile(self, url: str) -> Profile | None:
        return compile_profile(url, self.context)

    def conforms_to(self, resource: dict, profile_url: str) -> bool | None:
        self._local = False
        profile = self.profile(profile_url)
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
            except _NotConforming:
                pass  # the first error decides
            finally:
                self.quiet -= 1
            self.verdicts[key] = self.quiet_errors == before
        return self.verdicts[key]

    # --- profiles and resources --------------------------------------------------------------------------------

    def expect(self, path: Path, profile_url: str, because: Path | None) -> None:
        self._local = False
        self.expected.setdefault(path, {}).setdefault(strip_version(profile_url), because)

    def check_resource(self, resource: dict, profile: Profile, path: Path, *, follow_references: bool = True) -> None:
        """`resource` against `profile`; a walk that read nothing but the resource (an organisation) is remembered
        by what it read and its effects are replayed for the next copy (walks.py)."""
        key = walks.key(resource, profile.url, self.context.label, follow_references)
        if key is not None:
            effects = walks.known(key)
            if effects is not None:
                outer = self.judging
                for suffix, effect in effects:
                    if effect[0] == "report":
                        self.judging = effect[5]  # the profile that judged the remembered walk's finding
                        self.report(effect[1], effect[2], path + suffix, effect[3], effect[4])
                        self.judging = outer
                    else:
                        self.not_checked(effect[1], effect[2])
                return
        recording = key is not None and not self.quiet and not self.trial and self._recording is None
        if recording:
            self._recording, self._local = (path, []), True
        try:
            self._check_resource(resource, profile, path, follow_references)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            # a shape the walk did not foresee: the structure check reports the shape; the profile is not finished
            self._local = False  # its note names where the resource is: not one to replay elsewhere
            self.not_checked("profile", f"{profile.url} at {fhirpath(self.root_type, path)} "
                                        f"(stopped on malformed content: {type(exc).__name__})")
        finally:
            if recording:
                effects_seen = self._recording[1]  # type: ignore[index]
                self._recording = None
                walks.remember(key, effects_seen if self._local else None)  # type: ignore[arg-type]

    def _record(self, path: Path, effect: tuple) -> None:
        base, effects = self._recording  # type: ignore[misc]
        if path[:len(base)] != base:
            self._local = False  # not where the resource is: not a local walk
        effects.append((path[len(base):], effect))

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
                type_code = _type_code(key[len(name):])
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
            for slice_def, problem in _slice_problems(definition, self.context):
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
                        f"{shown}: minimum required = {definition.min}, but only found {count}", MIN_CARDINALITY)
        if definition.max is not None and count > definition.max:
            self.report(F_PROFILE, Severity.ERROR, items[definition.max].path if definition.max < len(items)
                        else parent, f"{shown}: max allowed = {definition.max}, but found {count}", MAX_CARDINALITY)

    # --- one value ---------------------------------------------------------------------------------------------

    def value(self, item: _Item, definition: ElementDef, resource: dict, profile: Profile | None) -> None:
        value, path = item.value, item.path
        if self._recording is not None and (definition.fixed or definition.pattern or definition.binding) and \
                path[-1:] == ("id",) and len(path) == len(self._recording[0]) + 1:
            self._local = False  # the resource's id is judged by its value: the walk is not id-blind
        codes = definition.type_codes
        if codes and item.type_code not in codes and not (item.type_code == "Resource" or "*" in codes):
            allowed = ", ".join(sorted(codes))
            self.report(F_PROFILE, Severity.ERROR, path,
                        f"type {item.type_code} is not allowed for {definition.path} (allowed: {allowed})")
            return
        comparable = not isinstance(value, dict | list) or item.type_code not in _PRIMITIVE_TYPES
        if comparable and definition.fixed is not None and value != definition.fixed[1]:
            self.report(F_PROFILE, Severity.ERROR, path, f"value {quoted(value)} is not the fixed value "
                        f"{quoted(definition.fixed[1])} of {definition.path}", FIXED_VALUE)
        if comparable and definition.pattern is not None and not _matches_pattern(definition.pattern[1], value):
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
        if item.type_code in _PRIMITIVE_TYPES:
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
            profile = self.profile(url)
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
            answer = shortcut(value, resource, self) if shortcut is not None else ASK_FHIRPATH
            if answer is ASK_FHIRPATH:
                if self._recording is not None and not walks.id_blind(constraint.expression):  # type: ignore[arg-type]
                    self._local = False
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
            if all(_discriminated(item, slice_def, d.type, d.path, self.context) for d in definition.discriminators):
                return slice_def
        return None

_SLICE_PROBLEMS: dict[tuple[int, str], tuple[ElementDef, list[tuple[ElementDef, str | None]]]] = {}


def _slice_problems(definition: ElementDef, judge: Context) -> list[tuple[ElementDef, str | None]]:
    """Each slice of a sliced element with why it cannot be told apart (None: it can); worked out once per
    element definition and IG version (compiled profiles live as long as the process)."""
    known = _SLICE_PROBLEMS.get((id(definition), judge.label))
    if known is None or known[0] is not definition:
        known = (definition, [(s, _slice_problem(s, definition, judge)) for s in definition.slices])
        _SLICE_PROBLEMS[(id(definition), judge.label)] = known
    return known[1]


def _slice_problem(slice_def: ElementDef, definition: ElementDef, judge: Context) -> str | None:
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
            if not _expected_values(slice_def, _steps(discriminator.path), judge):
                return f"no fixed or pattern value at {discriminator.path}"
        except _SlicingUnsupported as exc:
            return str(exc)
    return None


def _discriminated(item: _Item, slice_def: ElementDef, kind: str, path: str, judge: Context) -> bool:
    if kind == "type":
        return _type_matches(item, slice_def, path)
    expected = _expected_for(slice_def, path, judge)
    try:
        actual = _navigate(item.value, _steps(path))
    except _SlicingUnsupported:
        return False
    return any(_in_value_set(value, found) if how == "binding" else  # type: ignore[arg-type]
               _matches_pattern(value, found) if how == "pattern" else value == found
               for how, value in expected for found in actual)


def _in_value_set(members: Expansion, found: object) -> bool:
    if isinstance(found, str):
        return members.contains_code(found)
    if isinstance(found, dict):
        codings = found.get("coding") if "coding" in found else [found]
        return isinstance(codings, list) and any(
            isinstance(c, dict) and members.contains(c.get("system"), c.get("code")) for c in codings)
    return False


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


@cache
def _steps(path: str) -> tuple[str, ...]:
    return tuple(s for s in _SPLIT_STEPS.split(path) if s)


_EXTENSION_STEP = re.compile(r"extension\('([^']*)'\)")


def _navigate(value: object, steps: tuple[str, ...]) -> list[object]:
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


_EXPECTED: dict[tuple[int, str, str], tuple[ElementDef, list[tuple[str, object]]]] = {}


def _expected_for(slice_def: ElementDef, path: str, judge: Context) -> list[tuple[str, object]]:
    """`_expected_values` worked out once per slice, discriminator path and IG version (compiled profiles live as
    long as the process), not once per value sorted into slices."""
    known = _EXPECTED.get((id(slice_def), path, judge.label))
    if known is None or known[0] is not slice_def:
        known = (slice_def, _expected_values(slice_def, _steps(path), judge))
        _EXPECTED[(id(slice_def), path, judge.label)] = known
    return known[1]


def _expected_values(slice_def: ElementDef, steps: tuple[str, ...], judge: Context) -> list[tuple[str, object]]:
    """The fixed and pattern values the slice's definition sets at the discriminator path."""
    candidates = [slice_def]
    for position, step in enumerate(steps):
        if step == "$this":
            continue
        by_url = _EXTENSION_STEP.fullmatch(step)
        following: list[ElementDef] = []
        for node in candidates:
            if not node.children:
                node = _type_profile_root(node, judge) or node
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
            root = _type_profile_root(node, judge)
            node = root if root is not None else node
        if node.fixed is not None:
            values.append(("fixed", node.fixed[1]))
        if node.pattern is not None:
            values.append(("pattern", node.pattern[1]))
        if node.fixed is None and node.pattern is None and node.binding and node.binding[0] == "required":
            # FHIR: a value discriminator may be told by the element's required binding
            members = expansion(node.binding[1], judge)
            if members is None:
                raise _SlicingUnsupported(f"value set {strip_version(node.binding[1])} cannot be expanded")
            values.append(("binding", members))
    return values


@dataclass(frozen=True)
class _Fixed:
    value: str


def _type_profile_root(node: ElementDef, judge: Context) -> ElementDef | None:
    for type_ref in node.types:
        for url in type_ref.profiles:
            profile = compile_profile(url, judge)
            if profile is not None:
                return profile.root
    return None


# --- the Bundle --------------------------------------------------------------------------------------------------


def message_profile(bundle: dict) -> str | None:
    """The MedCom message profile that applies: Bundle.meta.profile, else the MessageHeader's profile or event."""
    for url in _profiles_of(bundle):
        if url in _IG_OF:
            return url
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


_IG_OF = {MESSAGE_PROFILES["hospital-notification-message"]: "medcom.fhir.dk.hospitalnotification",
          MESSAGE_PROFILES["care-communication-message"]: "medcom.fhir.dk.carecommunication",
          MESSAGE_PROFILES["acknowledgement-message"]: "medcom.fhir.dk.acknowledgement",
          MESSAGE_PROFILES["empty-message"]: "medcom.fhir.dk.messaging"}


def _profiles_of(resource: dict, *, versioned: bool = False) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    if not isinstance(profiles, list):
        return []
    return [p if versioned else strip_version(p) for p in profiles if isinstance(p, str)]


def _first_resource(bundle: dict) -> dict | None:
    entries = bundle.get("entry")
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        resource = entries[0].get("resource")
        return resource if isinstance(resource, dict) else None
    return None


def candidate_versions(bundle: dict, profile_url: str) -> tuple[str, list[str], str | None]:
    """(the IG package, the versions that may judge the message newest first, a note when the message declares a
    version medcom does not ship). A version in a meta.profile (`url|3.0.1`) names the IG version exactly; the
    version of MessageHeader.definition names the message definition, which MedCom keeps through the IG's patch
    releases (CareCommunication 4.0.1-4.0.3 declare `|4.0.0`, 5.0.x `|5.0`): it names the major.minor line."""
    ig = _IG_OF[profile_url]
    versions = list(reversed(shipped().get(ig, ())))
    header = _first_resource(bundle) or {}
    exact = [p.split("|", 1)[1] for p in _profiles_of(bundle, versioned=True) + _profiles_of(header, versioned=True)
             if "|" in p and strip_version(p) in (profile_url, *_HEADER_TO_MESSAGE)]
    definition = header.get("definition")
    line = definition.split("|", 1)[1] if isinstance(definition, str) and "|" in definition else None
    for declared in exact:
        if declared in versions:
            return ig, [declared], None
    if line is not None:
        wanted = version_key(line)[:2]
        same_line = [v for v in versions if version_key(v)[:2] == wanted]
        if same_line:
            return ig, same_line, None
    declared = exact[0] if exact else line
    if declared is not None:
        return ig, versions, (f"the message declares version {declared} of {ig}, which medcom does not ship "
                              f"(shipped: {', '.join(reversed(versions))}): judged by the newest version it "
                              "conforms to")
    return ig, versions, None


def validate_resource(bundle: object, file: str, lines: LineMap | None = None) -> ValidationResult:
    """Validate a parsed Bundle (FHIR JSON's shape, from JSON or XML); findings, never exceptions. The message is
    judged by the IG version it declares, with that version's own dependencies; where it declares none, by the
    newest shipped version it conforms to (where it conforms to none, by the newest that may judge it). An older
    version judges only where it checked everything the newest could: what it cannot check (a value set its
    packages lack) never makes a message conform."""
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
    structure.add_base()
    bundle_rules(bundle, structure)
    result.profile = message_profile(bundle)
    note = None
    if result.profile is None:
        labels = [newest("medcom.fhir.dk.carecommunication") or ""]
    else:
        ig, versions, note = candidate_versions(bundle, result.profile)
        labels = [f"{ig}#{v}" for v in versions]
    judges = [j for j in map(context, labels) if j is not None and _complete(j)] or [
        j for j in map(context, labels[:1]) if j is not None]
    run = _run(bundle, file, lines, judges[0], result.profile)
    if any(f.severity == Severity.ERROR for f in run.findings.values()):
        for judge in judges[1:]:  # an older version it conforms to? (a trial stops at its first error)
            try:
                trial = _run(bundle, file, lines, judge, result.profile, trial=True)
            except _FirstError:
                continue
            if set(trial.unchecked) <= set(run.unchecked):  # it checked all the newest could check: it judges
                run = trial
                break
    result.ig = run.context.label if result.profile is not None else None
    if note:
        run.report(F_PROFILE, Severity.WARNING, (), note)
    result.findings = _merge(structure.findings.values(), run.findings.values())
    result.unchecked = [
        Finding(F_UNCHECKED, Severity.INFO, f"{kind} {what} is not available here: not checked ({count}x)", file)
        for (kind, what), count in sorted(run.unchecked.items())]
    return result


def _complete(judge: Context) -> bool:
    """Whether every MedCom and dk-core package the IG version was built on is shipped (messaging 2.1.0 names
    medcom core 2.3.0, which no message IG uses: alone it could not check its own bindings)."""
    return not any(label.startswith(("medcom.", "hl7.fhir.dk.")) for label in judge.missing)


def _run(bundle: dict, file: str, lines: LineMap, judge: Context, message: str | None, *,
         trial: bool = False) -> _Validation:
    """One walk of the Bundle's profiles as the IG version `judge` has them (a trial raises _FirstError at the
    first error; one that ends found none, and its findings are complete)."""
    run = _Validation(bundle, file, lines, judge, trial=trial)
    if message is None:
        run.report(F_PROFILE, Severity.ERROR, (), "no MedCom message profile applies: neither Bundle.meta.profile nor "
                   "the first entry's MessageHeader names a HospitalNotification, CareCommunication or Acknowledgement")
    else:
        profile = run.profile(message)
        if profile is None:
            run.not_checked("profile", message)
        else:
            run.check_resource(bundle, profile, ())
    for path, resource in run.entries:
        for url in _profiles_of(resource):
            if run.profile(url) is not None:
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
            run.check_resource(resource, run.profile(url), path)  # type: ignore[arg-type]
    return run


def _judged_by(profile: Profile) -> str:
    """'url|version' of a profile: its canonical URL and the version of the package that holds it."""
    return f"{profile.url}|{profile.package.rpartition('#')[2]}"


def _merge(structural: Iterable[Finding], profiled: Iterable[Finding]) -> list[Finding]:
    """Structure findings first; a profile's minimum cardinality or binding finding where the base model already
    said the same (told by the finding's rule, code and location, never by its wording)."""
    findings = list(structural)
    seen = {f.location for f in findings}
    bindings = {f.location for f in findings if f.rule == F_BINDING}
    findings += [f for f in profiled if not (f.rule == F_PROFILE and f.code == MIN_CARDINALITY and f.location in seen)
                 and not (f.rule == F_BINDING and f.location in bindings)]
    return findings
