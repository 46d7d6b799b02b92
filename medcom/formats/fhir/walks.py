"""Profile walks remembered: a walk is replayed for a resource of the same shape whose values the walk read are
the same and whose references resolve alike.

A log repeats the same organisations, message headers, provenances and encounters in message after message, each
copy with new ids, references (`Encounter/<a new uuid>`), timestamps and identifiers that a profile walk never
judges by their text: it judges that they are there, and of which JSON type; their text is judged by the structure
check (formats, the base model), which is not remembered. What a walk reads of a resource is:
- its shape: keys, JSON types, numbers and booleans, which strings are empty, every `resourceType`: the key (the
  resource's JSON text with the text of other strings left out), with the profile, the IG version and whether
  references are followed;
- the values it judges by their text (`reads`): a fixed value, pattern or required binding, an invariant (the
  members its FHIRPath names, or the whole element; the whole resource where it reads `%resource`; a native
  shortcut the whole element, unless base_invariants.SHAPE_ONLY says it reads only the shape), a slice
  discriminator (the whole value sorted). Each is recorded with its place in the resource and its value;
- what each reference it checks resolves to in the Bundle: the target's place and resourceType (recorded the same
  way, where the Reference is and the answer).
Its effects (findings at paths inside the resource, counts of what could not be checked, target profiles expected
of the entries) are a function of those. The next resource of the same key gets them at its own path when every
recorded value is equal at the same place (the shapes being equal, Python's equality compares the strings) and
every reference resolves alike; else it is walked and that walk is remembered beside the others (a few per key).

A walk that read anything else beyond its resource (`resolve()` or `conformsTo()` from an invariant, a finding
outside the resource, a malformed shape that stopped it) is not remembered, nor a resource holding a value no JSON
reader makes (unhashable). A decimal (medcom reads FHIR numbers as `Decimal`) is keyed and compared by its written
form: `1.0` and `1.00` are equal Decimals but not the same FHIR value.
"""

from __future__ import annotations

from decimal import Decimal

LIMIT = 4096  # walks remembered; all are forgotten when the limit is reached
# key -> what the walks read (places in the resource, each "value" or "resolves") -> what they found there -> effects
_WALKS: dict[tuple, dict[tuple, dict[tuple, list[tuple]]]] = {}
_remembered = 0
_NOT_LOCAL: dict[str, int] = {}  # profile -> walks that were not local (negative once one was)
_GIVE_UP = 16


def shape(value: object) -> object:
    """A JSON value's shape, hashable: objects as their (key, shape) pairs in order, arrays marked as such, every
    `resourceType` string itself, any other string only whether it is empty, anything else with its type (1, 1.0
    and true differ)."""
    kind = type(value)
    if kind is str:
        return 1 if value else 0
    if kind is dict:
        return tuple([(k, v if k == "resourceType" and type(v) is str else shape(v))
                      for k, v in value.items()])  # type: ignore[attr-defined]
    if kind is list:
        return list, tuple([shape(v) for v in value])  # type: ignore[attr-defined]
    return kind, (str(value) if kind is Decimal else value)


def snapshot(value: object) -> object:
    """A value read, as remembered and compared: hashable, exact (strings themselves, anything else with its type),
    and not changed by a later change to the object read."""
    kind = type(value)
    if kind is dict:
        return tuple([(k, snapshot(v)) for k, v in value.items()])  # type: ignore[attr-defined]
    if kind is list:
        return list, tuple([snapshot(v) for v in value])  # type: ignore[attr-defined]
    return kind, (str(value) if kind is Decimal else value)


def key(resource: dict, profile: str, label: str, follow: bool) -> tuple | None:
    """What a remembered walk of `resource` depends on besides the values it reads and what its references resolve
    to; None when it is not to be remembered: a Bundle (one message, whose walk never repeats) or a resource of a
    profile whose walks have not been local so far (an invariant resolving references): the key's cost is spared."""
    if resource.get("resourceType") == "Bundle" or _NOT_LOCAL.get(profile, 0) >= _GIVE_UP:
        return None
    try:
        found = profile, label, follow, shape(resource)
        hash(found)
    except (TypeError, RecursionError):  # a value no JSON reader makes
        return None
    return found


def known(walk: tuple) -> dict[tuple, dict[tuple, list[tuple]]]:
    """The earlier walks with this key: what they read (place, how), then what they found there -> their effects,
    each effect (path inside the resource, effect) in the order they came. A walk is a function of what it read:
    where the same is found at the places one read, the walk would read nothing else and do the same."""
    return _WALKS.get(walk, {})


def remember(walk: tuple, reads: dict[tuple, object], effects: list[tuple] | None) -> None:
    """The reads ((place, how) -> snapshot) and effects of a local walk (effects None: the walk was not local,
    counted against its profile). A value read inside another value read adds nothing and is left out (what a
    Reference resolves to is not in its value: kept)."""
    global _remembered
    if effects is None:
        _NOT_LOCAL[walk[0]] = _NOT_LOCAL.get(walk[0], 0) + 1
        return
    _NOT_LOCAL[walk[0]] = -_GIVE_UP  # local once: always worth a key
    whole = {where for where, how in reads if how == "value"}
    kept = [(place, found) for place, found in reads.items()  # what a reference resolves to is no value: kept
            if place[1] != "value" or not any(place[0][:n] in whole for n in range(len(place[0])))]
    if _remembered >= LIMIT:
        _WALKS.clear()
        _remembered = 0
    _remembered += 1
    table = _WALKS.setdefault(walk, {}).setdefault(tuple(place for place, _ in kept), {})
    table[tuple(found for _, found in kept)] = effects


def forget() -> None:
    global _remembered
    _WALKS.clear()
    _NOT_LOCAL.clear()
    _remembered = 0
