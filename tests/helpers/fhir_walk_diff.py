"""A differential oracle for remembered FHIR walks (medcom.formats.fhir.walks): a Bundle validated with the walks
remembered as shipped against the same Bundle validated with remembering switched off (walks.key and
walks.structure_key answering None: no walk is looked up or recorded, every resource is walked afresh by the real
validator and the structure check), and hostile mutations
of clean Bundles that change what a remembered walk might wrongly take as unchanged."""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from medcom.formats.fhir import walks
from medcom.formats.fhir.jsonread import read_json
from medcom.formats.fhir.validator import validate_resource


@contextmanager
def unremembered() -> Iterator[None]:
    """Remembering switched off: the validator's only ways into the memory are walks.key (profile walks) and
    walks.structure_key (the structure check's walks of entries): a None key is neither looked up nor recorded."""
    saved = walks.key, walks.structure_key
    walks.key = walks.structure_key = lambda *_args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        walks.key, walks.structure_key = saved  # type: ignore[assignment]


def verdict(bundle: dict) -> tuple:
    """Everything the validator reports for one message: each finding in order (rule, severity, text, line,
    location, code, profile judged by), the unchecked counts, the message profile and the IG version."""
    value, lines = read_json(json.dumps(bundle, indent=2).encode(), max_bytes=10_000_000)  # as the CLI reads it
    result = validate_resource(value, "x.json", lines)
    return ([f.as_dict() for f in result.findings], [f.as_dict() for f in result.unchecked], result.profile,
            result.ig)


def fresh(bundle: dict) -> tuple:
    with unremembered():
        return verdict(bundle)


# --- hostile mutations: each changes `bundle` in place and says what it did (None: nothing to change) ------------

Mutation = Callable[[dict, random.Random], "str | None"]


def _leaves(value: object, path: tuple = ()) -> Iterator[tuple[tuple, object]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _objects(value: object, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from _objects(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _objects(v, (*path, i))


def _set(bundle: dict, path: tuple, value: object) -> None:
    target = bundle
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _entries(bundle: dict) -> list[dict]:
    entries = bundle.get("entry")
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)] if isinstance(
        entries, list) else []


def _strings(bundle: dict) -> list[tuple[tuple, str]]:
    return [(p, v) for p, v in _leaves(bundle) if isinstance(v, str) and p and p[0] == "entry"
            and "resourceType" not in p]


def string_text(bundle: dict, rng: random.Random) -> str | None:
    """One string's text changed, its emptiness kept: to another string of the Bundle (a code, a system, a
    profile of another resource), or a near miss of itself."""
    strings = [(p, v) for p, v in _strings(bundle) if v]
    if not strings:
        return None
    path, old = rng.choice(strings)
    pool = sorted({v for _, v in strings if v != old})
    choice = rng.randrange(4)
    if choice == 0 and pool:
        new = rng.choice(pool)
    elif choice == 1:
        new = old + "x"
    elif choice == 2:
        new = old[:-1] + ("0" if old[-1] != "0" else "1")
    else:
        new = old.upper() if old != old.upper() else old.lower() or "x"
    if new == old or not new:
        new = old + "-"
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


def same_key_swap(bundle: dict, rng: random.Random) -> str | None:
    """A string given the text another member of the same name has elsewhere (a code, system, url, reference)."""
    by_key: dict[object, list[tuple[tuple, str]]] = {}
    for p, v in _strings(bundle):
        if v:
            by_key.setdefault(p[-1], []).append((p, v))
    kinds = [k for k, found in by_key.items() if len({v for _, v in found}) > 1]
    if not kinds:
        return None
    found = by_key[rng.choice(sorted(kinds, key=str))]
    path, old = rng.choice(found)
    new = rng.choice(sorted({v for _, v in found if v != old}))
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


def empty_toggle(bundle: dict, rng: random.Random) -> str | None:
    """A string made empty, or an empty one given text."""
    strings = _strings(bundle)
    if not strings:
        return None
    path, old = rng.choice(strings)
    new = "" if old else "x"
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


def scalar(bundle: dict, rng: random.Random) -> str | None:
    """A number or boolean changed (a boolean flipped, a number moved or made a float)."""
    found = [(p, v) for p, v in _leaves(bundle) if isinstance(v, bool | int | float) and p and p[0] == "entry"]
    if not found:
        return None
    path, old = rng.choice(found)
    new: object = (not old) if isinstance(old, bool) else rng.choice([old + 1, old - 1, float(old) + 0.5, 0])
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


def reference(bundle: dict, rng: random.Random) -> str | None:
    """A reference pointed elsewhere: another entry (by fullUrl, or relative Type/id, or absolute), an entry not
    there, a contained resource, a uuid of no entry."""
    refs = [(p, v) for p, v in _leaves(bundle) if p and p[-1] == "reference" and isinstance(v, str)]
    entries = _entries(bundle)
    if not refs or not entries:
        return None
    path, old = rng.choice(refs)
    target = rng.choice(entries)
    kind, ident = target["resource"].get("resourceType"), target["resource"].get("id")
    options = [target.get("fullUrl"), f"{kind}/{ident}", f"https://example.org/fhir/{kind}/{ident}",
               "urn:uuid:00000000-0000-4000-8000-000000000000", "#contained-1", f"Patient/{ident}",
               f"{kind}/no-such-id", old.rsplit("/", 1)[-1] if "/" in old else old + "/x"]
    new = rng.choice([o for o in options if isinstance(o, str)])
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


def full_url(bundle: dict, rng: random.Random) -> str | None:
    """An entry's fullUrl changed (references to it no longer resolve by it) or given another entry's."""
    entries = [e for e in _entries(bundle) if isinstance(e.get("fullUrl"), str)]
    if not entries:
        return None
    entry = rng.choice(entries)
    old = entry["fullUrl"]
    new = rng.choice([old + "0", rng.choice(entries)["fullUrl"], "urn:uuid:11111111-1111-4111-8111-111111111111"])
    entry["fullUrl"] = new
    return f"fullUrl {old!r} -> {new!r}"


def entry_order(bundle: dict, rng: random.Random) -> str | None:
    """Two entries swapped (the MessageHeader too, at times)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) < 2:
        return None
    i, j = rng.sample(range(len(entries)), 2)
    entries[i], entries[j] = entries[j], entries[i]
    return f"entries {i} <-> {j}"


def entry_count(bundle: dict, rng: random.Random) -> str | None:
    """An entry deleted, or duplicated (another copy, same fullUrl, at the end or beside it)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) < 2:
        return None
    i = rng.randrange(1, len(entries))
    if rng.random() < 0.5:
        del entries[i]
        return f"entry {i} deleted"
    entries.insert(rng.choice([i, len(entries)]), copy.deepcopy(entries[i]))
    return f"entry {i} duplicated"


def target_content(bundle: dict, rng: random.Random) -> str | None:
    """A referred-to resource changed where an invariant reading it through resolve() would notice: a member
    deleted (status, identifier, name, class, period, category, payload, telecom...)."""
    entries = _entries(bundle)
    if not entries:
        return None
    resource = rng.choice(entries)["resource"]
    members = [k for k in resource if k not in ("resourceType",)]
    if not members:
        return None
    member = rng.choice(members)
    del resource[member]
    return f"{resource.get('resourceType')}.{member} deleted"


def profile_canonical(bundle: dict, rng: random.Random) -> str | None:
    """A meta.profile changed: versioned, another resource's profile, dropped, or an unknown one; or the message
    definition's version."""
    holders = [r for r in [bundle, *(e["resource"] for e in _entries(bundle))]
               if isinstance(r.get("meta"), dict) and isinstance(r["meta"].get("profile"), list)
               and r["meta"]["profile"]]
    header = next((e["resource"] for e in _entries(bundle) if e["resource"].get("resourceType") == "MessageHeader"),
                  None)
    if header is not None and isinstance(header.get("definition"), str) and rng.random() < 0.25:
        old = header["definition"]
        base = old.split("|", 1)[0]
        header["definition"] = rng.choice([base, f"{base}|4.0", f"{base}|5.0", f"{base}|3.0", f"{base}|2.0",
                                           f"{base}|9.9"])
        return f"definition {old!r} -> {header['definition']!r}"
    if not holders:
        return None
    holder = rng.choice(holders)
    profiles = holder["meta"]["profile"]
    i = rng.randrange(len(profiles))
    old = profiles[i]
    every = sorted({p for r in holders for p in r["meta"]["profile"] if isinstance(p, str)})
    base = old.split("|", 1)[0] if isinstance(old, str) else "x"
    new = rng.choice([f"{base}|3.0.0", f"{base}|3.0.2", f"{base}|4.0.0", f"{base}|5.0.2", f"{base}|2.0.3",
                      rng.choice(every), base + "x", base])
    profiles[i] = new
    return f"meta.profile of {holder.get('resourceType')} {old!r} -> {new!r}"


def slice_value(bundle: dict, rng: random.Random) -> str | None:
    """A coding's system or code (what slices are told apart by) changed to another of the Bundle's."""
    codings = [(p, o) for p, o in _objects(bundle) if p and p[0] == "entry" and ("system" in o or "code" in o)]
    if not codings:
        return None
    path, coding = rng.choice(codings)
    member = rng.choice([m for m in ("system", "code") if m in coding])
    others = sorted({o[member] for _, o in codings if isinstance(o.get(member), str) and o.get(member) != coding[
        member]})
    old = coding[member]
    coding[member] = rng.choice(others) if others else f"{old}x"
    return f"{path}.{member}: {old!r} -> {coding[member]!r}"


def extension(bundle: dict, rng: random.Random) -> str | None:
    """An extension of another url added to a resource or an element, or an existing one's url changed."""
    objects = [(p, o) for p, o in _objects(bundle) if p and p[0] == "entry" and len(p) > 2]
    if not objects:
        return None
    path, target = rng.choice(objects)
    existing = target.get("extension")
    if isinstance(existing, list) and existing and isinstance(existing[0], dict) and rng.random() < 0.5:
        old = existing[0].get("url")
        existing[0]["url"] = rng.choice(["http://example.org/other", f"{old}x"])
        return f"{path}.extension[0].url {old!r} -> {existing[0]['url']!r}"
    if not isinstance(target.setdefault("extension", []), list):
        return None
    target["extension"].append({"url": rng.choice(["http://example.org/other", "http://hl7.org/fhir/StructureDefinition/"
                                                   "narrativeLink"]), "valueString": "y"})
    return f"{path}: extension added"


def narrative(bundle: dict, rng: random.Random) -> str | None:
    """A narrative's div text changed (still XHTML, or not)."""
    divs = [(p, v) for p, v in _leaves(bundle) if p and p[-1] == "div" and isinstance(v, str)]
    if not divs:
        return None
    path, old = rng.choice(divs)
    new = rng.choice([old.replace("</div>", " changed</div>"), '<div xmlns="http://www.w3.org/1999/xhtml"></div>',
                      "<div>no namespace</div>", old.replace("<div", "<span", 1), "plain"])
    _set(bundle, path, new)
    return f"{path}: div changed"


def contained(bundle: dict, rng: random.Random) -> str | None:
    """Another entry's resource contained in a resource (id `contained-1`), and a reference of the resource
    pointed at it (`#contained-1`) or left elsewhere (an unreferenced contained resource)."""
    entries = _entries(bundle)
    if len(entries) < 2:
        return None
    holder, inner = rng.sample(entries, 2)
    copied = copy.deepcopy(inner["resource"])
    copied["id"] = "contained-1"
    if rng.random() < 0.5:
        copied.pop("meta", None)
    if not isinstance(holder["resource"].setdefault("contained", []), list):
        return None
    holder["resource"]["contained"].append(copied)
    refs = [p for p, v in _leaves(holder["resource"]) if p and p[-1] == "reference" and isinstance(v, str)]
    if refs and rng.random() < 0.7:
        _set(holder["resource"], rng.choice(refs), "#contained-1")
    return f"{inner['resource'].get('resourceType')} contained in {holder['resource'].get('resourceType')}"


def retype(bundle: dict, rng: random.Random) -> str | None:
    """An entry's resourceType changed to another entry's (references to it now reach another type)."""
    entries = _entries(bundle)
    kinds = sorted({e["resource"].get("resourceType") for e in entries if isinstance(e["resource"].get(
        "resourceType"), str)})
    if len(kinds) < 2:
        return None
    entry = rng.choice(entries)
    old = entry["resource"].get("resourceType")
    entry["resource"]["resourceType"] = rng.choice([k for k in kinds if k != old])
    return f"{old} -> {entry['resource']['resourceType']}"


POOL: dict[object, list[str]] = {}  # member name -> the texts it has in the Bundles learnt (learn())


def learn(bundles: list[dict] | tuple[dict, ...]) -> None:
    """The texts each member name has across `bundles`, for cross_bundle_swap."""
    found: dict[object, set[str]] = {}
    for bundle in bundles:
        for path, value in _strings(bundle):
            if value and len(value) < 200:
                found.setdefault(path[-1], set()).add(value)
    POOL.update({name: sorted(texts) for name, texts in found.items() if len(texts) > 1})


def cross_bundle_swap(bundle: dict, rng: random.Random) -> str | None:
    """A string given a text the member of the same name has in another Bundle (an extension url of another
    message kind, a code of another value set, a profile of another IG)."""
    strings = [(p, v) for p, v in _strings(bundle) if v and p[-1] in POOL]
    if not strings:
        return None
    path, old = rng.choice(strings)
    new = rng.choice(POOL[path[-1]])
    if new == old:
        return None
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


_MALFORMED = ["   ", " x", "x ", "a  b", "\t", "2024-02-30", "2024-13-01", "2024-01-01T25:00:00+01:00",
              "2024-01-01T10:00:00", "not-a-uuid", "urn:uuid:not-a-uuid",
              "urn:uuid:1f1e7f55-0000-4000-8000-00000000000", "urn:oid:1..2", "id with spaces", "x" * 256, "+45",
              "0.50", "-0", "1e5", "not base64!", "=="]


def string_format(bundle: dict, rng: random.Random) -> str | None:
    """A string given a text that breaks its primitive's format, or only white space (the structure check's
    value checks: a date, an id, a uuid, a code, an instant...), or a code outside its base binding."""
    strings = [(p, v) for p, v in _strings(bundle) if v]
    if not strings:
        return None
    path, old = rng.choice(strings)
    new = rng.choice(_MALFORMED + [old + " ", " " + old, old.replace("-", "", 1), old[:4] if len(old) > 4 else "x"])
    if new == old:
        return None
    _set(bundle, path, new)
    return f"{path}: {old!r} -> {new!r}"


MUTATIONS: tuple[Mutation, ...] = (
    string_text, same_key_swap, empty_toggle, scalar, reference, full_url, entry_order, entry_count,
    target_content, profile_canonical, slice_value, extension, narrative, contained, retype, cross_bundle_swap,
    string_format)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def renamed(bundle: dict, rng: random.Random) -> dict:
    """A copy of `bundle` as the next message of a log would be: every uuid inside a string (fullUrls, ids,
    references, identifiers) replaced by a new one, the same uuid by the same new one throughout (what resolved still
    resolves, what did not still does not), so the walks remembered from `bundle` are replayed on it."""
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        if match[0] not in names:
            names[match[0]] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return names[match[0]]

    def copied(value: object) -> object:
        if isinstance(value, dict):
            return {k: copied(v) for k, v in value.items()}
        if isinstance(value, list):
            return [copied(v) for v in value]
        return _UUID.sub(rename, value) if isinstance(value, str) else value

    return copied(bundle)  # type: ignore[return-value]


def mutant(clean: dict, rng: random.Random, count: int) -> tuple[dict, list[str]]:
    """A copy of `clean` with `count` mutations, and what they did."""
    bundle = copy.deepcopy(clean)
    done = []
    for _ in range(count):
        change = rng.choice(MUTATIONS)
        said = change(bundle, rng)
        if said:
            done.append(f"{change.__name__}: {said}")
    return bundle, done
