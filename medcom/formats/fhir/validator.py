"""Validate a MedCom FHIR message Bundle against the base model and MedCom's profiles.

The message profile is chosen from Bundle.meta.profile, else from the MessageHeader (its meta.profile, else its
event code), and the IG version that judges it from what the message declares, else the newest it conforms to
(`validate_resource`); every profile, value set and code system is then looked up in that version's own
dependency closure (`igpackages.Context`). Every resource in the Bundle is then checked against each MedCom
profile that names it: its own meta.profile, and the target profile of each reference to it from an element
already checked (MessageHeader.focus -> the Encounter profile, Encounter.subject -> the Patient profile...). A
profile's snapshot, compiled once per process into a checking function (checkers.py), checks cardinality, fixed
and pattern values, allowed types, slices (value, pattern, required-binding and type discriminators), required
bindings against the version's value sets, and the constraints' FHIRPath (error -> error, warning -> warning).
What cannot be checked for want of a package (a profile, a value set) or of FHIRPath support is counted and
reported as F-UNCHECKED info findings, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from medcom.findings import Finding, Location, Severity
from medcom.formats.fhir import walks
from medcom.formats.fhir.bundle_rules import bundle_rules_of
from medcom.formats.fhir.checkers import resource_checker
from medcom.formats.fhir.fhirpath import members_read, reads_clock
from medcom.formats.fhir.igpackages import Context, context, newest, shipped, strip_version, version_key
from medcom.formats.fhir.locations import LineMap, Path, fhirpath
from medcom.formats.fhir.profiles import Profile, compile_profile
from medcom.formats.fhir.rules import (
    F_BINDING,
    F_INVARIANT,
    F_PROFILE,
    F_STRUCTURE,
    F_UNCHECKED,
    MIN_CARDINALITY,
)
from medcom.formats.fhir.structure import StructureCheck
from medcom.formats.fhir.terminology import Expansion, expansion
from medcom.identifiers import mask_cprs
from medcom.quoting import quoted

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


class _FirstError(Exception):  # noqa: N818 - not an error of the validator: the verdict of a trial run
    """A trial run (does the message conform to this IG version?) stops at its first error."""


class _NotConforming(Exception):  # noqa: N818 - the verdict of a conformsTo() check, at its first error
    """A conformsTo() check stops at its first error: the answer is known."""


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
        self._by_type_id: dict[tuple[str, str], tuple[Path, dict]] | None = None  # made when first needed
        self._paths: dict[int, Path] | None = None
        self.expected: dict[Path, dict[str, Path | None]] = {}  # resource path -> profile -> referring element
        self.done: set[tuple[Path, str]] = set()
        self.verdicts: dict[tuple[int, str], bool] = {}
        self.shapes: dict[tuple[str, int], tuple[object, object]] = {}  # the Bundle as the natives read it, once
        self.shapes_of: walks.Shapes | None = None  # each resource's shape, once (walks.py)
        self.quiet = 0  # > 0 while conformsTo() checks a resource: findings are counted, not reported
        self.quiet_errors = 0
        self._follow = True
        self.judging: Profile | None = None  # the profile whose walk is reporting (a finding's judged_by)
        # a walk being remembered: its resource's place, its effects, what it read (walks.py), the resource
        self._recording: tuple[Path, list[tuple], dict[tuple, object], dict] | None = None
        self._local = True  # False once the walk being recorded reads beyond its resource

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
        if self._recording is not None:  # a count, at no location: replayed wherever the resource is
            self._record(self._recording[0], ("unchecked", kind, what))
        if not self.quiet:
            self.unchecked[(kind, what)] += 1

    # --- the FHIRPath session ----------------------------------------------------------------------------------

    def resolve(self, reference: str) -> dict | None:
        self._local = False
        return self._find(reference)

    def _find(self, reference: str) -> dict | None:
        found = self.by_url.get(reference)
        if found is None and reference.count("/") >= 1 and not reference.startswith(("urn:", "#")):
            kind, _, ident = reference.rstrip("/").rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            found = self._typed().get((kind, ident))
        return found[1] if found else None

    def _typed(self) -> dict[tuple[str, str], tuple[Path, dict]]:
        """The entries by (resourceType, id), the first of each (only strings equal a reference's type and id): a
        relative reference's target found without going through the entries each time."""
        if self._by_type_id is None:
            self._by_type_id = {}
            for path, resource in self.entries:
                kind, ident = resource.get("resourceType"), resource.get("id")
                if isinstance(kind, str) and isinstance(ident, str):
                    self._by_type_id.setdefault((kind, ident), (path, resource))
        return self._by_type_id

    def path_of(self, resource: dict) -> Path | None:
        self._local = False
        return self._path_of(resource)

    def _path_of(self, resource: dict) -> Path | None:
        if self._paths is None:  # each entry's resource by its identity (the entries hold them), the first place
            self._paths = {id(r): p for p, r in reversed(self.entries)}
        return self._paths.get(id(resource))

    def _resolution(self, reference: str) -> tuple[Path | None, object] | None:
        """What a walk reads of a reference's target: its place in the Bundle and its resourceType (None: not in
        the Bundle)."""
        return self._target(self._find(reference))

    def _target(self, found: dict | None) -> tuple[Path | None, object] | None:
        """A reference's target as a walk records it (`_resolution`): its resourceType as a snapshot, since a broken
        message may give any JSON there (a list: unhashable as it stands)."""
        return None if found is None else (self._path_of(found), walks.snapshot(found.get("resourceType")))

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
        if self._recording is not None:  # an effect of the walk, at the referring element
            if because is None:
                self._local = False
            else:
                self._record(because, ("expect", path, profile_url))
        self.expected.setdefault(path, {}).setdefault(strip_version(profile_url), because)

    def check_resource(self, resource: dict, profile: Profile, path: Path, *, follow_references: bool = True) -> None:
        """`resource` against `profile`; a walk that read nothing beyond the resource but what its references
        resolve to is remembered with what it read, and its effects are replayed for the next resource of the same
        shape where the same is read (walks.py)."""
        key = walks.key(resource, profile.url, self.context.label, follow_references, self.shapes_of)
        if key is not None:
            for places, walked in walks.known(key).items():
                effects = walked.get(self._read_again(resource, places))  # type: ignore[arg-type]
                if effects is not None:
                    self._replay(effects, path)
                    return
        # a conformsTo() check (quiet) is remembered where it ran to its end: it found no error, its effects are all
        # there (a walk stopped at its first error is not; nor a trial's)
        recording = key is not None and not self.trial and self._recording is None
        if recording:
            self._recording, self._local = (path, [], {}, resource), True
        completed = False
        try:
            self._check_resource(resource, profile, path, follow_references)
            completed = True
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            # a shape the walk did not foresee: the structure check reports the shape; the profile is not finished
            self._local = False  # its note names where the resource is: not one to replay elsewhere
            self.not_checked("profile", f"{profile.url} at {fhirpath(self.root_type, path)} "
                                        f"(stopped on malformed content: {type(exc).__name__})")
            completed = True
        finally:
            if recording:
                _, effects_seen, reads, _ = self._recording  # type: ignore[misc]
                self._recording = None
                if completed:
                    walks.remember(key, reads, effects_seen if self._local else None,  # type: ignore[arg-type]
                                   resource)

    def _read_again(self, resource: dict, places: tuple) -> tuple | None:
        """What a remembered walk would find at the places it read in `resource` (of the remembered shape, so each
        place is there, and its value is where `shape` found it): the value's snapshot, what the Reference there
        resolves to, or a native's answer there."""
        nodes = walks.nodes_of(resource, self.shapes_of)
        ask = self.ask if self._recording is not None else None  # mostly none: the natives asked straight
        try:
            return tuple([walks.snapshot(nodes[index]) if how == "value" else
                          self._resolution(nodes[index]["reference"]) if how == "resolves" else
                          how(nodes[index], resource, self) if ask is None else ask(how, nodes[index], resource)
                          for _, how, index in places])
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError):
            return None  # a native that fails on this value: the walk itself finds out and says so

    def ask(self, native: Callable[[object, dict, object], object], value: object, resource: dict) -> object:
        """A native's answer on `value`, asked as a unit: what it reads (the Bundle's entries, the targets of
        references it resolves, the verdicts of conformsTo() walks) is not recorded into a walk being remembered,
        nor makes it non-local; the walk records the answer instead (read_answer) and asks again on replay, with
        this validation (the same Bundle)."""
        if self._recording is None:  # nothing being recorded (a replay's check, most walks' natives): nothing to keep
            return native(value, resource, self)
        saved = self._recording, self._local
        self._recording = None
        try:
            return native(value, resource, self)
        finally:
            self._recording, self._local = saved

    def _replay(self, effects: list[tuple], path: Path) -> None:
        """A remembered walk's effects, at the resource's place."""
        outer = self.judging
        for suffix, effect in effects:
            if effect[0] == "report":
                self.judging = effect[5]  # the profile that judged the remembered walk's finding
                self.report(effect[1], effect[2], path + suffix, effect[3], effect[4])
                self.judging = outer
            elif effect[0] == "expect":
                self.expect(effect[1], effect[2], path + suffix)
            else:
                self.not_checked(effect[1], effect[2])

    def _record(self, path: Path, effect: tuple) -> None:
        base, effects, _, _ = self._recording  # type: ignore[misc]
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
            self.walk(resource, profile, path)
        finally:
            self._follow = saved

    def walk(self, resource: dict, profile: Profile, path: Path) -> None:
        """`resource` against `profile` by the profile's checking function (compiled once per process)."""
        resource_checker(profile, self.context)(self, resource, path, resource)

    # --- what the compiled checkers ask of the walk under way (checkers.py) ------------------------------------

    @property
    def follows_references(self) -> bool:
        return self._follow

    def resolve_reference(self, value: dict, path: Path) -> tuple[dict | None, Path | None]:
        """The target of the Reference `value` at `path` (its `reference` a string) and the target's place; a walk
        being remembered records what it found (walks.py)."""
        found = self._find(value["reference"])
        target_path = None if found is None else self._path_of(found)
        if self._recording is not None:
            self._note(path, "resolves", self._target(found))
        return found, target_path

    @property
    def remembering(self) -> bool:
        """Whether a walk being remembered is recording what it reads (walks.py)."""
        return self._recording is not None

    def read(self, path: Path, value: object) -> None:
        """The walk judges `value` at `path` by its text: a walk being remembered records it (walks.py)."""
        if self._recording is not None:
            self._note(path, "value", value)

    def read_resource(self) -> None:
        """The walk reads the whole resource (FHIRPath's `%resource`)."""
        if self._recording is not None:
            self._note(self._recording[0], "value", self._recording[3])

    def read_answer(self, native: Callable[[object, dict, object], object], value: object, path: Path,
                    answer: object) -> None:
        """The walk judges `value` at `path` by `native`'s answer (a function of the value, its resource and
        this validation's Bundle, nothing else): a walk being remembered records the answer, asked again when it
        is replayed (walks.py)."""
        if self._recording is not None:
            self._note(path, native, answer)

    def read_fhirpath(self, expression: str, value: object, path: Path) -> None:
        """What evaluating `expression` on `value` reads: the members it names (fhirpath.members_read), else the
        whole value; the whole resource where it reads a variable; a walk that asks the clock is not remembered
        (no shipped profile's invariant does: this keeps it so if one comes)."""
        if self._recording is None:
            return
        if reads_clock(expression):
            self._local = False
            return
        if "%" in expression:
            self.read_resource()
        members = members_read(expression) if isinstance(value, dict) else None
        if members is None:
            self._note(path, "value", value)
            return
        for name, member in value.items():  # type: ignore[union-attr]
            if isinstance(name, str) and members.fullmatch(name):
                self._note(path + (name,), "value", member)

    def _note(self, path: Path, how: str | Callable[[object, dict, object], object], found: object) -> None:
        base, _, reads, _ = self._recording  # type: ignore[misc]
        if path[:len(base)] != base:
            self._local = False  # not inside the resource
            return
        where = (path[len(base):], how)
        if where not in reads:
            reads[where] = walks.snapshot(found) if how == "value" else found



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
    rules = bundle_rules_of(bundle)
    shapes: walks.Shapes = {}  # each resource's shape, worked out once (walks.shape_of)
    structure = StructureCheck(file, bundle.get("resourceType", "Bundle") if isinstance(bundle, dict) and isinstance(
        bundle.get("resourceType"), str) else "Bundle", lines, rules, shapes)
    structure.resource(bundle, ())
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        result.findings = [*structure.findings.values(),
                           Finding(F_STRUCTURE, Severity.ERROR, f"a MedCom message is a Bundle, not {quoted(kind)}",
                                   file, 1, None)]
        return result
    structure.add_base()
    if rules is not None:
        rules.add_to(structure)
    result.profile = message_profile(bundle)
    note = None
    if result.profile is None:
        labels = [newest("medcom.fhir.dk.carecommunication") or ""]
    else:
        ig, versions, note = candidate_versions(bundle, result.profile)
        labels = [f"{ig}#{v}" for v in versions]
    judges = [j for j in map(context, labels) if j is not None and _complete(j)] or [
        j for j in map(context, labels[:1]) if j is not None]
    run = _run(bundle, file, lines, judges[0], result.profile, shapes)
    if any(f.severity == Severity.ERROR for f in run.findings.values()):
        for judge in judges[1:]:  # an older version it conforms to? (a trial stops at its first error)
            try:
                trial = _run(bundle, file, lines, judge, result.profile, shapes, trial=True)
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


def _run(bundle: dict, file: str, lines: LineMap, judge: Context, message: str | None,
         shapes: walks.Shapes | None = None, *, trial: bool = False) -> _Validation:
    """One walk of the Bundle's profiles as the IG version `judge` has them (a trial raises _FirstError at the
    first error; one that ends found none, and its findings are complete)."""
    run = _Validation(bundle, file, lines, judge, trial=trial)
    run.shapes_of = shapes
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
    said the same (told by the finding's rule, code and location, never by its wording); the structure check's
    ext-1 where a profile walk reached the extension too (the profile's finding is kept, with its judging profile)."""
    profiled = list(profiled)
    invariants = {(f.location, f.text) for f in profiled if f.rule == F_INVARIANT}
    findings = [f for f in structural if f.rule != F_INVARIANT or (f.location, f.text) not in invariants]
    seen = {f.location for f in findings}
    bindings = {f.location for f in findings if f.rule == F_BINDING}
    findings += [f for f in profiled if not (f.rule == F_PROFILE and f.code == MIN_CARDINALITY and f.location in seen)
                 and not (f.rule == F_BINDING and f.location in bindings)]
    return findings
