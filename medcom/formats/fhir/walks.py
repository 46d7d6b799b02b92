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
  discriminator (the whole value sorted). Each is recorded with its place in the resource and its value; a native
  invariant (but a shape-only one) with its answer instead, asked again on the next resource: a CPR number's or a
  GLN's pattern (the value's text differs in every message, the answer seldom), and the natives that read beyond
  their element (a Bundle's invariants over its entries and fullUrls, conformsTo() of its header and provenances,
  a Communication's that resolve references), asked as a unit (validator._Validation.ask) with the Bundle under
  way, so that what they read is neither recorded nor makes the walk non-local;
- what each reference it checks resolves to in the Bundle: the target's place and resourceType (recorded the same
  way, where the Reference is and the answer).
Its effects (findings at paths inside the resource, counts of what could not be checked, target profiles expected
of the entries) are a function of those. The next resource of the same key gets them at its own path when every
recorded value is equal at the same place (the shapes being equal, Python's equality compares the strings) and
every reference resolves alike; else it is walked and that walk is remembered beside the others (a few per key).

A walk that read anything else beyond its resource (`resolve()` or `conformsTo()` from an invariant fhirpathpy
evaluates, a finding outside the resource, a malformed shape that stopped it) is not remembered, nor a resource
holding a value no JSON reader makes (unhashable). A decimal (medcom reads FHIR numbers as `Decimal`) is keyed and
compared by its written form: `1.0` and `1.00` are equal Decimals but not the same FHIR value.
"""

from __future__ import annotations

from decimal import Decimal

LIMIT = 4096  # walks remembered; all are forgotten when the limit is reached
# key -> what the walks read (places in the resource, each "value", "resolves" or a value-only native) -> what they
# found there -> effects
_WALKS: dict[tuple, dict[tuple, dict[tuple, list[tuple]]]] = {}
_remembered = 0
_NOT_LOCAL: dict[str, int] = {}  # profile -> walks that were not local (negative once one was)
_GIVE_UP = 16


def shape(value: object, nodes: list | None = None, known: Shapes | None = None) -> object:
    """A JSON value's shape, hashable: objects as their (key, shape) pairs in order, arrays marked as such, every
    `resourceType` string itself, any other string only whether it is empty, anything else with its type (1, 1.0
    and true differ). Every value on the way is added to `nodes` (given), in the order of `node_places`. An object
    whose shape `known` holds (a Bundle's entries' resources, shaped before the Bundle) is taken from there as its
    `Shape` (its hash kept: a Bundle's shape is hashed without going through its entries again; such a shape is
    never equal to one made without `known`, which only costs a walk remembered twice)."""
    if nodes is None:
        nodes = []
    kind = type(value)
    if kind is dict and known is not None:
        found = known.get(id(value))
        if found is not None and found[0] is value and found[1] is not None:
            nodes += found[2]  # the same values `shape` would add, in the same order
            return found[1]
    nodes.append(value)
    if kind is str:
        return 1 if value else 0
    if kind is dict:
        pairs: list[tuple[str, object]] = []
        for k, v in value.items():  # type: ignore[attr-defined]
            if k == "resourceType" and type(v) is str:
                nodes.append(v)
                pairs.append((k, v))
            else:
                pairs.append((k, shape(v, nodes, known)))
        return tuple(pairs)
    if kind is list:
        return list, tuple([shape(v, nodes, known) for v in value])  # type: ignore[attr-defined]
    return kind, (str(value) if kind is Decimal else value)


def node_places(value: object, path: tuple = ()) -> dict[tuple, int]:
    """The place of each value inside `value` (its path) -> where `shape` added it to its nodes."""
    found: dict[tuple, int] = {}
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        found[where] = len(found)
        if isinstance(item, dict):
            stack += reversed([(where + (k,), v) for k, v in item.items()])
        elif isinstance(item, list):
            stack += reversed([(where + (i,), v) for i, v in enumerate(item)])
    return found


def snapshot(value: object) -> object:
    """A value read, as remembered and compared: hashable, exact (strings themselves, anything else with its type),
    and not changed by a later change to the object read."""
    kind = type(value)
    if kind is dict:
        return tuple([(k, snapshot(v)) for k, v in value.items()])  # type: ignore[attr-defined]
    if kind is list:
        return list, tuple([snapshot(v) for v in value])  # type: ignore[attr-defined]
    return kind, (str(value) if kind is Decimal else value)


class Shape:
    """A resource's shape (`shape`) as keys hold it: its hash worked out once, and one object for each shape seen
    (`_SHAPES`), so that a key is hashed without going through the shape again and found equal by identity; a
    shape made again after `_SHAPES` was forgotten is still equal to an older one by its value."""

    __slots__ = ("hash", "value")

    def __init__(self, value: object) -> None:
        self.value = value
        self.hash = hash(value)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Shape) and self.hash == other.hash and self.value == other.value)

    def __repr__(self) -> str:
        return f"Shape({self.value!r})"


_SHAPES: dict[object, Shape] = {}
Shapes = dict[int, tuple[dict, Shape | None, list]]  # a message's resources' shapes: id -> (resource, shape, nodes)


def shape_of(resource: dict, shapes: Shapes | None = None) -> Shape | None:
    """`shape(resource)`, worked out once per message where `shapes` (the message's, by the resource's identity, with
    the resource so that the identity is not another's later) is given; None for a value no JSON reader makes
    (unhashable, or nested beyond Python's recursion)."""
    return _shaped(resource, shapes)[1]


def nodes_of(resource: dict, shapes: Shapes | None = None) -> list:
    """The values inside `resource` in the order of `node_places` (as `shape` found them)."""
    return _shaped(resource, shapes)[2]


def _shaped(resource: dict, shapes: Shapes | None) -> tuple[dict, Shape | None, list]:
    found = shapes.get(id(resource)) if shapes is not None else None
    if found is not None and found[0] is resource:
        return found
    nodes: list = []
    try:
        value = shape(resource, nodes, shapes)  # a Bundle's entries as already shaped (the structure check's)
        known = _SHAPES.get(value)
        if known is None:
            if len(_SHAPES) >= LIMIT:
                _SHAPES.clear()
            known = _SHAPES[value] = Shape(value)
    except (TypeError, RecursionError):
        known = None
    found = (resource, known, nodes)
    if shapes is not None:
        shapes[id(resource)] = found
    return found


def key(resource: dict, profile: str, label: str, follow: bool,
        shapes: Shapes | None = None) -> tuple | None:
    """What a remembered walk of `resource` (a Bundle too: its invariants' answers are what it reads of its entries)
    depends on besides the values it reads and what its references resolve to; None when it is not to be
    remembered: a resource of a profile whose walks have not been local so far (an invariant fhirpathpy evaluates
    resolving references): the key's cost is spared."""
    if _NOT_LOCAL.get(profile, 0) >= _GIVE_UP:
        return None
    found = shape_of(resource, shapes)
    return None if found is None else (profile, label, follow, found)


# --- the structure check's walk of a resource (structure.py) -------------------------------------------------------
# The base-model walk of an entry's resource is a function of its shape but for the values it judges by their text
# (a string's content and format, a number's format, a base binding's code, a urn: reference's target): a walk that
# found nothing by the shape alone is remembered as those checks, each at its place, and replayed by them.
_STRUCTURES: dict[tuple, list[tuple]] = {}


def structure_key(resource: dict, rules: bool, shapes: Shapes | None = None) -> tuple | None:
    """What the structure check's walk of `resource` depends on besides the values it checks by their text: its
    shape and whether the Bundle's rules are asked on the way; None: not remembered."""
    found = shape_of(resource, shapes)
    return None if found is None else (rules, found)


def structure_known(walk: tuple) -> list[tuple] | None:
    """The value checks (place in the resource, what is checked there) of an earlier walk with this key."""
    return _STRUCTURES.get(walk)


def remember_structure(walk: tuple, checks: list[tuple]) -> None:
    if len(_STRUCTURES) >= LIMIT:
        _STRUCTURES.clear()
    _STRUCTURES[walk] = checks


def known(walk: tuple) -> dict[tuple, dict[tuple, list[tuple]]]:
    """The earlier walks with this key: what they read (place, how), then what they found there -> their effects,
    each effect (path inside the resource, effect) in the order they came. A walk is a function of what it read:
    where the same is found at the places one read, the walk would read nothing else and do the same."""
    return _WALKS.get(walk, {})


def remember(walk: tuple, reads: dict[tuple, object], effects: list[tuple] | None, resource: dict) -> None:
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
    index = node_places(resource)  # each place also as where `shape` found its value (nodes_of)
    if any(place[0] not in index for place, _ in kept):
        return  # a value read where it is not (a primitive given only as its `_name` twin is checked at `name`)
    if _remembered >= LIMIT:
        _WALKS.clear()
        _remembered = 0
    _remembered += 1
    table = _WALKS.setdefault(walk, {}).setdefault(tuple((*place, index[place[0]]) for place, _ in kept), {})
    table[tuple(found for _, found in kept)] = effects


def forget() -> None:
    global _remembered
    _WALKS.clear()
    _STRUCTURES.clear()
    _SHAPES.clear()
    _NOT_LOCAL.clear()
    _remembered = 0
