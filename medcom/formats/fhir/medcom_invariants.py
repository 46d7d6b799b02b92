"""MedCom's own invariants answered in Python where the answer is plain from the message, as base_invariants does
for FHIR's: fhirpathpy is asked only about the rest.

Most of MedCom's invariants are Bundle-level (`entry.resource.ofType(Provenance).exists()`,
`entry.where(resource.is(Patient)).count() = 1`, a MessageHeader's `conformsTo(...)`): their verdict depends on the
whole message, so fhirpathpy's verdicts could not be remembered, and interpreting them took about a quarter of a
message's check. Each shortcut here is for the exact expression it was written for (a profile that changes an
expression gets fhirpathpy), reads only plain shapes (the entries are objects without a `resourceType`, each
resource an object with one, what the expression navigates is there as FHIR JSON has it, without `_name` twins)
and returns `ASK_FHIRPATH` for anything else; `conformsTo()` asks the validator, as fhirpath.py's function does.
The shortcuts are tested against fhirpathpy on the shipped examples and on mutations of them
(tests/test_fhir_medcom_invariants.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from medcom.formats.fhir.base_invariants import (
    _EXTENSION_VALUE_TYPES,
    ASK_FHIRPATH,
    HTML_CHECKS,
    NATIVE,
    UNEVALUABLE,
    Native,
    _bundle,
    _element,
    _plain_entry_resource,
    _plain_string,
    _resource,
    remembered,
)


def _resources(value: object, session: object = None) -> list[dict | None] | None:
    """The resources of a plain Bundle's entries (None where an entry has none); None for any other shape."""
    return remembered(session, "resources", value,  # type: ignore[no-any-return]
                      lambda bundle: _read_resources(bundle, session))


def _read_resources(value: object, session: object) -> list[dict | None] | None:
    entries = _bundle(value, session)
    if entries is None or not all(_plain_entry_resource(e) and "_resource" not in e for e in entries):
        return None
    return [e.get("resource") for e in entries]


def _of_type(resources: list[dict | None], kind: str) -> list[dict]:
    return [r for r in resources if r is not None and r["resourceType"] == kind]


def _conforms(session: Any, resource: dict, url: str) -> object:
    """The validator's verdict, UNEVALUABLE where the profile is not shipped (fhirpath.py's conformsTo())."""
    verdict = session.conforms_to(resource, url)
    return UNEVALUABLE if verdict is None else verdict


def _member(resource: dict, name: str) -> tuple[bool, object]:
    """(plain, the member): plain when it is absent or there without a `_name` twin."""
    if "_" + name in resource:
        return False, None
    return True, resource.get(name)


def _elements(value: object) -> list[dict] | None:
    """A repeating element as a list of non-empty element objects ([] when absent); None for any other shape."""
    if value is None:
        return []
    if isinstance(value, list) and all(_element(v) and v for v in value):
        return value
    return None


def _any_of_type(kind: str) -> Native:
    """`entry.resource.ofType(kind).exists()` and `... .count() >0`."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        return ASK_FHIRPATH if resources is None else bool(_of_type(resources, kind))
    return check


def _one_patient(value: object, _resource_: dict, _session: Any = None) -> object:
    """`entry.where(resource.is(Patient)).count() = 1`."""
    resources = _resources(value, _session)
    return ASK_FHIRPATH if resources is None else len(_of_type(resources, "Patient")) == 1


def _no_entry_is_a_resource(value: object, _resource_: dict, _session: Any = None) -> object:
    """`entry.ofType(MessageHeader).all(...)`: an entry is a BundleEntry, never a MessageHeader or a Provenance,
    so `all()` is over nothing and true (what fhirpathpy answers, and what these versions of the IGs shipped)."""
    return ASK_FHIRPATH if _resources(value, _session) is None else True


def _header_conforms(url: str) -> Native:
    """`entry.resource.ofType(MessageHeader).conformsTo(url)`, for a message with at most one MessageHeader."""
    def check(value: object, _resource_: dict, session: Any = None) -> object:
        resources = _resources(value, session)
        headers = _of_type(resources, "MessageHeader") if resources is not None else []
        if resources is None or len(headers) > 1:
            return ASK_FHIRPATH
        return _conforms(session, headers[0], url) if headers else False
    return check


def _first_conforms(url: str) -> Native:
    """`entry[0].resource.conformsTo(url)`."""
    def check(value: object, _resource_: dict, session: Any = None) -> object:
        resources = _resources(value, session)
        if resources is None:
            return ASK_FHIRPATH
        return _conforms(session, resources[0], url) if resources and resources[0] is not None else False
    return check


def _provenances_conform(url: str) -> Native:
    """`entry.resource.ofType(Provenance).conformsTo(url).allTrue()` and `... .all(conformsTo(url))`: each
    Provenance in turn, unevaluable at the first the validator cannot judge."""
    def check(value: object, _resource_: dict, session: Any = None) -> object:
        resources = _resources(value, session)
        if resources is None:
            return ASK_FHIRPATH
        verdicts = []
        for provenance in _of_type(resources, "Provenance"):
            verdict = _conforms(session, provenance, url)
            if verdict is UNEVALUABLE:
                return UNEVALUABLE
            verdicts.append(verdict)
        return all(verdicts)
    return check


def _single_equals(values: list[object] | None, expected: str) -> object:
    """FHIRPath's `collection = 'text'` for a collection of plain strings: empty is false here (the invariant's
    empty result), one string compares; more than one is left to fhirpathpy."""
    if values is None or len(values) > 1:
        return ASK_FHIRPATH
    return bool(values) and values[0] == expected


def _strings(objects: list[dict], name: str) -> list[object] | None:
    """The plain string `name` of each object that has it; None when one is not plain."""
    found: list[object] = []
    for item in objects:
        if not _plain_string(item, name):
            return None
        if name in item:
            found.append(item[name])
    return found


def _patient_identifier_system(expected: str) -> Native:
    """`entry.resource.ofType(Patient).identifier.system = 'expected'`."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        if resources is None:
            return ASK_FHIRPATH
        identifiers: list[dict] = []
        for patient in _of_type(resources, "Patient"):
            plain, found = _member(patient, "identifier")
            items = _elements(found) if plain else None
            if items is None:
                return ASK_FHIRPATH
            identifiers += items
        return _single_equals(_strings(identifiers, "system"), expected)
    return check


def _destination_use(expected: str) -> Native:
    """`Bundle.entry.resource.ofType(MessageHeader).destination.extension.value.code = 'expected'`, where each
    extension's value is one Coding-like object."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        if resources is None:
            return ASK_FHIRPATH
        codings: list[dict] = []
        for header in _of_type(resources, "MessageHeader"):
            plain, found = _member(header, "destination")
            destinations = _elements(found) if plain else None
            if destinations is None:
                return ASK_FHIRPATH
            for destination in destinations:
                plain, found = _member(destination, "extension")
                extensions = _elements(found) if plain else None
                if extensions is None:
                    return ASK_FHIRPATH
                for extension in extensions:
                    values = [k for k in extension if k.startswith(("value", "_value"))]
                    if len(values) > 1 or (values and (values[0][5:] not in _EXTENSION_VALUE_TYPES
                                                       or not _element(extension[values[0]]))):
                        return ASK_FHIRPATH
                    codings += [extension[values[0]]] if values else []
        return _single_equals(_strings(codings, "code"), expected)
    return check


def _acknowledged(value: object, _resource_: dict, _session: Any = None) -> object:
    """medcom-acknowledgement-1: iif(MessageHeader.response.code = 'ok', true, response.code != 'ok' and an
    OperationOutcome exists); with no response code both sides are empty and the invariant false."""
    resources = _resources(value, _session)
    headers = _of_type(resources, "MessageHeader") if resources is not None else []
    if resources is None or len(headers) != 1:
        return ASK_FHIRPATH
    plain, response = _member(headers[0], "response")
    if not plain or (response is not None and not _element(response)):
        return ASK_FHIRPATH
    codes = _strings([response], "code") if response is not None else []
    if codes is None:
        return ASK_FHIRPATH
    if not codes:
        return False
    return codes[0] == "ok" or bool(_of_type(resources, "OperationOutcome"))


def _practitioner_named(value: object, _resource_: dict, _session: Any = None) -> object:
    """`entry.resource.ofType(Practitioner).name.exists()`."""
    resources = _resources(value, _session)
    if resources is None:
        return ASK_FHIRPATH
    for practitioner in _of_type(resources, "Practitioner"):
        plain, found = _member(practitioner, "name")
        names = _elements(found) if plain else None
        if names is None:
            return ASK_FHIRPATH
        if names:
            return True
    return False


def _role_names_practitioner(value: object, _resource_: dict, _session: Any = None) -> object:
    """`Bundle.entry.resource.ofType(PractitionerRole).practitioner.reference.exists()`."""
    resources = _resources(value, _session)
    if resources is None:
        return ASK_FHIRPATH
    references = []
    for role in _of_type(resources, "PractitionerRole"):
        plain, found = _member(role, "practitioner")
        if not plain or (found is not None and not _element(found)):
            return ASK_FHIRPATH
        references += [found] if found is not None else []
    strings = _strings(references, "reference")
    return ASK_FHIRPATH if strings is None else bool(strings)


def _one_profile(resource: dict) -> list[object] | None:
    """The resource's meta.profile as plain strings; None for any other shape."""
    plain, meta = _member(resource, "meta")
    if not plain or (meta is not None and not _element(meta)):
        return None
    if meta is None:
        return []
    plain, profiles = _member(meta, "profile")
    if not plain or not (profiles is None or isinstance(profiles, list) and all(
            isinstance(p, str) and p for p in profiles)):
        return None
    return list(profiles or [])


def _header_profile_starts(prefix: str) -> Native:
    """`entry[0].resource.ofType(MessageHeader).meta.profile.startsWith(prefix)`, for at most one profile."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        if resources is None:
            return ASK_FHIRPATH
        first = resources[0] if resources else None
        if first is None or first["resourceType"] != "MessageHeader":
            return False
        profiles = _one_profile(first)
        if profiles is None or len(profiles) > 1:
            return ASK_FHIRPATH
        return bool(profiles) and str(profiles[0]).startswith(prefix)
    return check


def _provenance_profiles_start(prefix: str) -> Native:
    """`entry.resource.ofType(Provenance).all(meta.profile.startsWith(prefix))`, for at most one profile each (a
    Provenance without one fails `all()`)."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        if resources is None:
            return ASK_FHIRPATH
        verdicts = []
        for provenance in _of_type(resources, "Provenance"):
            profiles = _one_profile(provenance)
            if profiles is None or len(profiles) > 1:
                return ASK_FHIRPATH
            verdicts.append(bool(profiles) and str(profiles[0]).startswith(prefix))
        return all(verdicts)
    return check


def _check_digit(digits: int, weights: tuple[int, ...], verdict: Callable[[list[int]], bool]) -> Native:
    """gln-modulus-10 and CVR-modulus-11 on a value of exactly `digits` ASCII digits."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        if not (isinstance(value, str) and len(value) == digits and value.isascii() and value.isdigit()):
            return ASK_FHIRPATH
        numbers = [int(c) for c in value]
        return verdict([n * w for n, w in zip(numbers, weights, strict=False)] + numbers[len(weights):])
    return check


_GLN = _check_digit(13, (1, 3) * 6, lambda n: (10 - sum(n[:12]) % 10) % 10 == n[12])
_CVR = _check_digit(8, (2, 7, 6, 5, 4, 3, 2, 1), lambda n: sum(n) % 11 == 0)

# natives whose answer is a function of the element's value alone (never of its resource, the Bundle or the
# validation): a remembered walk records their answer at the value's place instead of the value's text, and asks
# them again when it is replayed (walks.py: a patient's CPR number differs in every message, its verdict seldom);
# `_matches` adds each pattern's check as it makes it (tests/test_fhir_walks.py asks them with other resources)
VALUE_ONLY: set[Native] = {_GLN, _CVR, *HTML_CHECKS}


def _no_communication_has(member: str) -> Native:
    """CareCommunication's `A = B or C = D or Bundle.entry.resource.ofType(Communication).<member>.exists().not()`
    (medcom-careCommunication-11 and -12: the sender or recipient an extension or `recipient` names belongs to the
    message's sender or receiver): true where no Communication has the member, as `X or true` is true whatever X
    is (FHIRPath's three-valued `or`); where one has it, fhirpathpy compares what the references resolve to."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        resources = _resources(value, _session)
        if resources is None or any(member in r or "_" + member in r for r in _of_type(resources, "Communication")):
            return ASK_FHIRPATH
        return True
    return check


_PRACTITIONER_EXTENSION = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension"


def _plain_member(value: dict, name: str) -> tuple[bool, list[dict]]:
    """(plain, the elements) of a repeating member: absent, or a list of non-empty element objects, no twin."""
    plain, found = _member(value, name)
    items = _elements(found) if plain else None
    return (False, []) if items is None else (True, items)


def _plain_element(value: dict, name: str) -> tuple[bool, dict | None]:
    """(plain, the element) of a single complex member: absent, or a non-empty element object without a twin (a
    JSON null is not plain)."""
    plain, found = _member(value, name)
    if not plain or (found is None and name in value) or (found is not None and not (_element(found) and found)):
        return False, None
    return True, found  # type: ignore[return-value]  # an element object, as just asked


def _payload_extensions(communication: object) -> list[list[dict]] | None:
    """Each payload's extensions, where every payload and extension is a plain element and every extension has a
    plain string url (fhirpathpy's `extension(url)` reads `e["url"]` of each); None for any other shape."""
    if not isinstance(communication, dict):
        return None
    plain, payloads = _plain_member(communication, "payload")
    if not plain:
        return None
    found = []
    for payload in payloads:
        plain, extensions = _plain_member(payload, "extension")
        if not plain or not all(_plain_string(e, "url") and "url" in e for e in extensions):
            return None
        found.append(extensions)
    return found


def _extension_value(extension: dict) -> tuple[bool, object]:
    """(plain, the value) of an extension: at most one `value<Type>` of a known type and no `_value` twin."""
    values = [k for k in extension if k.startswith(("value", "_value"))]
    if not values:
        return True, None
    if len(values) > 1 or values[0].startswith("_") or values[0][5:] not in _EXTENSION_VALUE_TYPES:
        return False, None
    return True, extension[values[0]]


def _reference_of(value: object) -> tuple[bool, str | None]:
    """(plain, the reference string) of a Reference-like object: `reference` absent or a non-empty string."""
    if not _element(value) or not value or not _plain_string(value, "reference"):  # type: ignore[arg-type]
        return False, None
    return True, value.get("reference")  # type: ignore[union-attr]


def _sender_role_coded(value: object, _resource_: dict, session: Any = None) -> object:
    """medcom-careCommunication-7 (5.0): `payload.extension(url).value.resolve().all(code.coding.code.exists() xor
    code.text.exists())`: the first practitioner extension of each payload (fhirpathpy's `extension(url)`), its
    valueReference resolved in the Bundle; each role found has coded or text codes, not both."""
    payloads = _payload_extensions(value)
    if payloads is None:
        return ASK_FHIRPATH
    verdicts = []
    for extensions in payloads:
        first = next((e for e in extensions if e["url"] == _PRACTITIONER_EXTENSION), None)
        if first is None:
            continue
        plain, target = _extension_value(first)
        if not plain or not (target is None or isinstance(target, dict)):
            return ASK_FHIRPATH
        plain, reference = _reference_of(target) if target is not None else (True, None)
        if not plain:
            return ASK_FHIRPATH
        role = session.resolve(reference) if reference is not None else None
        if role is None:
            continue
        plain, concepts = _plain_member(role, "code")
        codings: list[dict] = []
        for concept in concepts if plain else ():
            plain_coding, found = _plain_member(concept, "coding")
            plain = plain and plain_coding
            codings += found
        codes, texts = _strings(codings, "code"), _strings(concepts, "text")
        if not plain or codes is None or texts is None:
            return ASK_FHIRPATH
        verdicts.append(bool(codes) != bool(texts))
    return all(verdicts)


def _sender_practitioner_named(value: object, _resource_: dict, session: Any = None) -> object:
    """medcom-careCommunication-8: `payload.where(extension(url).exists()).extension.value.reference.resolve()
    .practitioner.resolve().name.exists()`: in each payload with a practitioner extension, the `reference` of every
    extension's value (an object's; a primitive has none) resolved, its `practitioner` resolved, a name there."""
    payloads = _payload_extensions(value)
    if payloads is None:
        return ASK_FHIRPATH
    references: list[str] = []
    for extensions in payloads:
        if not any(e["url"] == _PRACTITIONER_EXTENSION for e in extensions):
            continue
        for extension in extensions:
            plain, target = _extension_value(extension)
            if not plain or isinstance(target, list):
                return ASK_FHIRPATH
            if isinstance(target, dict):
                plain, reference = _reference_of(target)
                if not plain:
                    return ASK_FHIRPATH
                references += [reference] if reference is not None else []
    named = False
    for reference in references:
        role = session.resolve(reference)
        if role is None:
            continue
        plain, practitioner = _member(role, "practitioner")
        if not plain or isinstance(practitioner, list):
            return ASK_FHIRPATH
        if practitioner is None:
            continue
        plain, target = _reference_of(practitioner)
        if not plain:
            return ASK_FHIRPATH
        person = session.resolve(target) if target is not None else None
        if person is None:
            continue
        plain, names = _plain_member(person, "name")
        if not plain:
            return ASK_FHIRPATH
        named = named or bool(names)
    return named


def _encounter_episode_identified(value: object, _resource_: dict, session: Any = None) -> object:
    """medcom-careCommunication-9: `iif(encounter.exists().not(), true, encounter.reference.resolve().episodeOfCare
    .identifier.exists())`: no encounter, or the one it references has an episode of care with an identifier."""
    if not isinstance(value, dict):
        return ASK_FHIRPATH
    plain, encounter = _member(value, "encounter")
    if not plain:
        return ASK_FHIRPATH
    if encounter is None:
        return True
    plain, reference = _reference_of(encounter)
    if not plain:
        return ASK_FHIRPATH
    target = session.resolve(reference) if reference is not None else None
    if target is None:
        return False
    plain, episodes = _plain_member(target, "episodeOfCare")
    if not plain:
        return ASK_FHIRPATH
    identified = False
    for episode in episodes:
        plain, identifier = _member(episode, "identifier")
        if not plain or not (identifier is None or _element(identifier) and identifier):
            return ASK_FHIRPATH
        identified = identified or identifier is not None
    return identified


def _encounter_referenced(value: object, _resource_: dict, _session: Any = None) -> object:
    """medcom-careCommunication-15: `iif(encounter.exists(), Communication.encounter.reference.exists(),
    Communication.encounter.exists().not())`: no encounter, or one whose `reference` is there."""
    if not _resource(value, "Communication"):
        return ASK_FHIRPATH
    plain, encounter = _member(value, "encounter")  # type: ignore[arg-type]
    if not plain:
        return ASK_FHIRPATH
    if encounter is None:
        return "encounter" not in value or ASK_FHIRPATH  # type: ignore[operator]
    plain, reference = _reference_of(encounter)
    if not plain:
        return ASK_FHIRPATH
    return reference is not None


def _codes(concepts: list[dict]) -> list[str] | None:
    """The plain `code` strings of each coding of plain CodeableConcepts (FHIRPath's `x.coding.code`, in order);
    None for any other shape."""
    found = []
    for concept in concepts:
        plain, codings = _plain_member(concept, "coding")
        if not plain or not all(_plain_string(c, "code") and _plain_string(c, "system") for c in codings):
            return None
        found += [c["code"] for c in codings if "code" in c]
    return found


def _category_codes(value: object) -> list[str] | None:
    """A Communication's `category.coding.code`; None for any other shape."""
    if not _resource(value, "Communication"):
        return None
    plain, categories = _plain_member(value, "category")  # type: ignore[arg-type]
    return _codes(categories) if plain else None


def _is_only(codes: list[str], code: str) -> bool:
    """FHIRPath's `codes = 'code'` on a non-empty collection: false unless it holds that one item."""
    return len(codes) == 1 and codes[0] == code


_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"


def _marital_status_not_both(value: object, _resource_: dict, _session: Any = None) -> object:
    """marital-status-unknown-usage: `maritalStatus.coding.where(code = 'P' and system = '<v3 MaritalStatus>')
    .empty() or maritalStatus.coding.where(code = 'A' and system = ...).empty()`: not both codes."""
    if not _resource(value, "Patient"):
        return ASK_FHIRPATH
    plain, status = _plain_element(value, "maritalStatus")  # type: ignore[arg-type]
    if not plain:
        return ASK_FHIRPATH
    plain, codings = _plain_member(status, "coding") if status is not None else (True, [])
    if not plain or not all(_plain_string(c, "code") and _plain_string(c, "system") for c in codings):
        return ASK_FHIRPATH
    pairs = {(c.get("system"), c.get("code")) for c in codings}
    return not ((_MARITAL, "P") in pairs and (_MARITAL, "A") in pairs)


def _leave_has_start(value: object, _resource_: dict, _session: Any = None) -> object:
    """medcom-hospitalNotification-6: `where(status = 'onleave').extension.value.start.exists() or status !=
    'onleave'`: an encounter on leave has an extension whose value has a start; one without a status fails (the
    `or` is empty)."""
    if not _resource(value, "Encounter") or not _plain_string(value, "status"):  # type: ignore[arg-type]
        return ASK_FHIRPATH
    status = value.get("status")  # type: ignore[attr-defined]
    if status != "onleave":
        return status is not None
    plain, extensions = _plain_member(value, "extension")  # type: ignore[arg-type]
    if not plain:
        return ASK_FHIRPATH
    started = False
    for extension in extensions:
        plain, found = _extension_value(extension)
        if not plain or isinstance(found, list) or (isinstance(found, dict) and not (
                _element(found) and _plain_string(found, "start"))):
            return ASK_FHIRPATH
        started = started or (isinstance(found, dict) and "start" in found)
    return started


def _unreferred_without_priority(value: object, _resource_: dict, _session: Any = None) -> object:
    """medcom-careCommunication-5: `where(category.coding.code != 'regarding-referral').priority.empty()`."""
    codes = _category_codes(value)
    if codes is None or not _plain_string(value, "priority"):  # type: ignore[arg-type]
        return ASK_FHIRPATH
    return not codes or _is_only(codes, "regarding-referral") or "priority" not in value  # type: ignore[operator]


def _other_has_topic(value: object, _resource_: dict, _session: Any = None) -> object:
    """medcom-careCommunication-6: `iif(category.coding.code != 'other', true, category.coding.code = 'other' and
    topic.exists())`: a category coded only 'other' needs a topic; no category code fails (the `and` is empty or
    false)."""
    codes = _category_codes(value)
    if codes is None:
        return ASK_FHIRPATH
    if codes and not _is_only(codes, "other"):
        return True
    plain, topic = _plain_element(value, "topic")  # type: ignore[arg-type]
    if not plain:
        return ASK_FHIRPATH
    return bool(codes) and topic is not None


def _identifier_system_among(systems: frozenset[str]) -> Native:
    """`identifier.where(system='a' or system='b' ...).exists()` on a resource: one of its identifiers has one of
    the systems."""
    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        if not _resource(value):
            return ASK_FHIRPATH
        plain, identifiers = _member(value, "identifier")  # type: ignore[arg-type]
        found = _elements(identifiers) if plain else None
        if found is None or (identifiers is None and "identifier" in value):  # type: ignore[operator]
            return ASK_FHIRPATH
        if not all(_plain_string(i, "system") for i in found):
            return ASK_FHIRPATH
        return any(i.get("system") in systems for i in found)
    return check


def _care_sender_or_recipient(member: str, head: str, header_path: str, resolved: bool) -> str:
    """The expression of medcom-careCommunication-11 (`extension.value`, the sender) or -12 (`recipient`, the
    receiver): references compared (4.0) or what they resolve to (5.0; -11 laid out on lines)."""
    then = ".resolve()" if resolved else ""
    side = f"{head}.reference.resolve()"
    header = f"%resource.entry.resource.ofType(MessageHeader).{header_path}.reference{then}"
    join_eq, join_or = (("\n        = ", "\n    or ") if resolved and member == "extension" else (" = ", " or "))
    return (f"{side}.managingOrganization.reference{then}{join_eq}{header}{join_or}"
            f"{side}.organization.reference{then}{join_eq}{header}{join_or}"
            f"Bundle.entry.resource.ofType(Communication).{member}.exists().not()")


_COMMUNICATION = "Bundle.entry.resource.ofType(Communication)"


def _gln_expression(value: str) -> str:
    steps = "\n".join(("(" if i == 0 else "(" if i < 5 else "+(") + f"{value}substring({i},1).toInteger()*"
                      f"{1 if i % 2 == 0 else 3})" + ("+" if i < 4 else "") for i in range(12))
    return f"((\n(10-({steps})mod(10))mod(10))={value}substring(12,1).toInteger())"


def _cvr_expression(value: str) -> str:
    weights = (2, 7, 6, 5, 4, 3, 2, 1)
    steps = "+\n".join(f"    ({value}substring({i},1).toInteger()*{w})" for i, w in enumerate(weights))
    return f"((\n{steps}) mod(11)=0)"


_MESSAGING = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
_CARE = "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/"
_ACK_HEADER = "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader"

MEDCOM: dict[tuple[str, str], Native] = {
    ("medcom-messaging-2", "entry.resource.ofType(Provenance).exists()"): _any_of_type("Provenance"),
    ("medcom-messaging-4", "entry.resource.ofType(Provenance).count() >0"): _any_of_type("Provenance"),
    ("medcom-careCommunication-2", "entry.where(resource.is(Patient)).count() = 1"): _one_patient,
    ("medcom-hospitalNotification-2", "entry.where(resource.is(Patient)).count() = 1"): _one_patient,
    ("medcom-messaging-1", "entry.ofType(MessageHeader).all(resource.conformsTo('http://medcomfhir.dk/fhir/messaging/"
                           "StructureDefinition/medcom-messaging-messageHeader'))"): _no_entry_is_a_resource,
    ("medcom-messaging-3", "entry.ofType(Provenance).all(resource.conformsTo('http://medcomfhir.dk/fhir/messaging/"
                           "StructureDefinition/medcom-messaging-provenance'))"): _no_entry_is_a_resource,
    ("medcom-hospitalNotification-1", "entry.ofType(MessageHeader).all(resource.conformsTo('http://medcomfhir.dk/"
     "fhir/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader'))"):
        _no_entry_is_a_resource,
    ("medcom-hospitalNotification-3", "entry.ofType(Provenance).all(resource.activity.memberOf('http://medcomfhir.dk"
     "/fhir/dk-medcom-terminology/ValueSet/medcom-hospitalNotification-messageActivities'))"): _no_entry_is_a_resource,
    ("medcom-acknowledgement-2", f"entry.resource.ofType(MessageHeader).conformsTo('{_ACK_HEADER}')"):
        _header_conforms(_ACK_HEADER),
    ("medcom-messaging-1", f"entry[0].resource.conformsTo('{_MESSAGING}medcom-messaging-messageHeader')"):
        _first_conforms(f"{_MESSAGING}medcom-messaging-messageHeader"),
    ("medcom-careCommunication-1", f"entry[0].resource.conformsTo('{_CARE}medcom-careCommunication-messageHeader')"):
        _first_conforms(f"{_CARE}medcom-careCommunication-messageHeader"),
    ("medcom-messaging-3", f"entry.resource.ofType(Provenance).conformsTo('{_MESSAGING}medcom-messaging-provenance')"
                           ".allTrue()"): _provenances_conform(f"{_MESSAGING}medcom-messaging-provenance"),
    ("medcom-careCommunication-3", f"entry.resource.ofType(Provenance).all(conformsTo('{_CARE}"
                                   "medcom-careCommunication-provenance'))"):
        _provenances_conform(f"{_CARE}medcom-careCommunication-provenance"),
    ("medcom-acknowledgement-1", "iif(entry.resource.ofType(MessageHeader).response.code = 'ok', true, "
                                 "entry.resource.ofType(MessageHeader).response.code != 'ok' and "
                                 "entry.resource.ofType(OperationOutcome).exists())"): _acknowledged,
    ("medcom-hospitalNotification-4", "entry.resource.ofType(Patient).identifier.system = 'urn:oid:1.2.208.176.1.2'"):
        _patient_identifier_system("urn:oid:1.2.208.176.1.2"),
    ("medcom-hospitalNotification-5", "Bundle.entry.resource.ofType(MessageHeader).destination.extension.value.code "
                                      "= 'primary'"): _destination_use("primary"),
    ("medcom-careCommunication-4", "entry.resource.ofType(Practitioner).name.exists()"): _practitioner_named,
    ("medcom-careCommunication-13", "Bundle.entry.resource.ofType(PractitionerRole).practitioner.reference.exists()"):
        _role_names_practitioner,
    ("medcom-careCommunication-1", f"entry[0].resource.ofType(MessageHeader).meta.profile.startsWith('{_CARE}"
                                   "medcom-careCommunication-messageHeader')"):
        _header_profile_starts(f"{_CARE}medcom-careCommunication-messageHeader"),
    ("medcom-careCommunication-3", f"entry.resource.ofType(Provenance).all(meta.profile.startsWith('{_CARE}"
                                   "medcom-careCommunication-provenance'))"):
        _provenance_profiles_start(f"{_CARE}medcom-careCommunication-provenance"),
    **{("medcom-careCommunication-11", _care_sender_or_recipient(
        "extension", f"{_COMMUNICATION}.extension.value", "sender", resolved)): _no_communication_has("extension")
       for resolved in (False, True)},
    **{("medcom-careCommunication-12", _care_sender_or_recipient(
        "recipient", f"{_COMMUNICATION}.recipient", "destination.receiver", resolved)):
        _no_communication_has("recipient") for resolved in (False, True)},
    ("medcom-careCommunication-7", f"payload.extension('{_PRACTITIONER_EXTENSION}').value.resolve().all("
                                   "code.coding.code.exists() xor code.text.exists())"): _sender_role_coded,
    ("medcom-careCommunication-8", f"payload.where(extension('{_PRACTITIONER_EXTENSION}').exists()).extension"
                                   ".value.reference.resolve().practitioner.resolve().name.exists()"):
        _sender_practitioner_named,
    ("medcom-careCommunication-9", "iif(encounter.exists().not(), true, encounter.reference.resolve().episodeOfCare"
                                   ".identifier.exists())"): _encounter_episode_identified,
    ("medcom-careCommunication-15", "iif(encounter.exists(), Communication.encounter.reference.exists(), "
                                    "Communication.encounter.exists().not())"): _encounter_referenced,
    ("dk-core-organization-mandatory-identifier", "identifier.where(system='urn:oid:1.2.208.176.1.1' or "
     "system='https://kombit.dk/sts/organisation' or system='urn:oid:2.16.840.1.113883.2.24.1.1').exists()"):
        _identifier_system_among(frozenset({"urn:oid:1.2.208.176.1.1", "https://kombit.dk/sts/organisation",
                                            "urn:oid:2.16.840.1.113883.2.24.1.1"})),
    ("marital-status-unknown-usage", f"maritalStatus.coding.where(code = 'P' and system = '{_MARITAL}').empty() or "
                                     f"maritalStatus.coding.where(code = 'A' and system = '{_MARITAL}').empty()"):
        _marital_status_not_both,
    ("medcom-hospitalNotification-6", "where(status = 'onleave').extension.value.start.exists() or status != "
                                      "'onleave'"): _leave_has_start,
    ("medcom-careCommunication-5", "where(category.coding.code != 'regarding-referral').priority.empty()"):
        _unreferred_without_priority,
    ("medcom-careCommunication-6", "iif(category.coding.code != 'other', true, category.coding.code = 'other' and "
                                   "topic.exists())"): _other_has_topic,
    ("gln-modulus-10", _gln_expression("value.")): _GLN,
    ("gln-modulus-10", _gln_expression("")): _GLN,
    ("CVR-modulus-11", _cvr_expression("value.")): _CVR,
    ("CVR-modulus-11", _cvr_expression("")): _CVR,
}


_MATCHES = re.compile(r"(value\.)?matches\('([^'\\]*)'\)")


@cache
def _matches(pattern: str, of_value: bool = False) -> Native | None:
    """`matches('pattern')` (or `value.matches(...)`, as FHIR evaluates it on a primitive) on a primitive string:
    fhirpathpy's re.search with DOTALL; `value.matches(...)` on an element (an Identifier) the same of its `value`
    string. Another value (a primitive's `_name` object alone, an empty string, an element without a plain
    `value`) is left to fhirpathpy."""
    try:
        regex = re.compile(pattern, re.DOTALL)
    except re.error:
        return None

    def check(value: object, _resource_: dict, _session: Any = None) -> object:
        if of_value and _element(value) and "_value" not in value:  # type: ignore[operator]
            value = value.get("value")  # type: ignore[union-attr]
        if not isinstance(value, str) or not value:
            return ASK_FHIRPATH
        return regex.search(value) is not None
    VALUE_ONLY.add(check)
    return check


def native(key: str, expression: str | None) -> Native | None:
    """The Python shortcut for invariant `key` with exactly this expression (FHIR's base invariants and MedCom's,
    and any `matches()` of a literal without escapes), if there is one."""
    if not expression:
        return None
    found = NATIVE.get((key, expression)) or MEDCOM.get((key, expression))
    matches = _MATCHES.fullmatch(expression) if found is None else None
    return _matches(matches[2], bool(matches[1])) if matches else found
