"""Slices of a profile told apart, and the value comparisons profiles make (fixed and pattern values).

A sliced element's values are sorted into its slices by the slicing's discriminators: `value` and `pattern`
compare what the discriminator path reaches in the value with the fixed or pattern value (or the required
binding) the slice's definition sets there, `type` compares the value's type. Which slices can be told apart here,
and what each expects, depends only on the profile and the IG version: worked out once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from medcom.formats.fhir.igpackages import Context, strip_version
from medcom.formats.fhir.profiles import ElementDef, compile_profile
from medcom.formats.fhir.terminology import Expansion, expansion

PRIMITIVE_TYPES = frozenset({
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary", "instant", "date",
    "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt", "positiveInt", "uuid", "xhtml"})
_SPLIT_STEPS = re.compile(r"\.(?![^(]*\))")


class SlicingUnsupported(Exception):
    pass


def choice_type_code(suffix: str) -> str:
    """The type code of a choice element's JSON suffix: `valueDateTime` -> dateTime, `valueCoding` -> Coding."""
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in PRIMITIVE_TYPES else suffix


def matches_pattern(pattern: object, value: object) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches_pattern(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(matches_pattern(p, v) for v in value) for p in pattern)
    return pattern == value


_SLICE_PROBLEMS: dict[tuple[int, str], tuple[ElementDef, list[tuple[ElementDef, str | None]]]] = {}


def slice_problems(definition: ElementDef, judge: Context) -> list[tuple[ElementDef, str | None]]:
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
            if len([s for s in split_steps(discriminator.path) if s != "$this"]) > 1:
                return f"type discriminator {discriminator.path}"
            continue
        if discriminator.type not in ("value", "pattern"):
            return f"{discriminator.type} discriminator"
        try:
            if not expected_values(slice_def, split_steps(discriminator.path), judge):
                return f"no fixed or pattern value at {discriminator.path}"
        except SlicingUnsupported as exc:
            return str(exc)
    return None


def discriminated(value: object, code: str, slice_def: ElementDef, kind: str, path: str, judge: Context) -> bool:
    """Whether a value (of type `code`) is the slice's by one discriminator of its slicing."""
    if kind == "type":
        return type_matches(value, code, slice_def, path)
    expected = expected_for(slice_def, path, judge)
    try:
        actual = navigate(value, split_steps(path))
    except SlicingUnsupported:
        return False
    return any(in_value_set(wanted, found) if how == "binding" else  # type: ignore[arg-type]
               matches_pattern(wanted, found) if how == "pattern" else wanted == found
               for how, wanted in expected for found in actual)


def in_value_set(members: Expansion, found: object) -> bool:
    if isinstance(found, str):
        return members.contains_code(found)
    if isinstance(found, dict):
        codings = found.get("coding") if "coding" in found else [found]
        return isinstance(codings, list) and any(
            isinstance(c, dict) and members.contains(c.get("system"), c.get("code")) for c in codings)
    return False


def type_matches(value: object, code: str, slice_def: ElementDef, path: str) -> bool:
    steps = [s for s in split_steps(path) if s != "$this"]
    if not steps:
        return code in {t.code for t in slice_def.types}
    if len(steps) != 1 or not isinstance(value, dict):
        return False  # a malformed value matches no type slice (multi-step paths are refused by _slice_problem)
    child = slice_def.child(steps[0] + "[x]") or slice_def.child(steps[0])
    keys = [k for k in value if k.startswith(steps[0]) and k[len(steps[0]):][:1].isupper()]
    if child is None or not keys:
        return False
    return choice_type_code(keys[0][len(steps[0]):]) in {t.code for t in child.types}


@cache
def split_steps(path: str) -> tuple[str, ...]:
    return tuple(s for s in _SPLIT_STEPS.split(path) if s)


_EXTENSION_STEP = re.compile(r"extension\('([^']*)'\)")


def navigate(value: object, steps: tuple[str, ...]) -> list[object]:
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
                raise SlicingUnsupported(f"discriminator step {step}")
            else:
                keys = [step] if step in node else [k for k in node if k.startswith(step) and
                                                    k[len(step):][:1].isupper()]
                for key in keys:
                    item = node[key]
                    found += item if isinstance(item, list) else [item]
        current = found
    return current


def discriminator_reads(value: object, steps: tuple[str, ...], path: tuple) -> list[tuple[tuple, object]]:
    """What `navigate(value, steps)` reads by text, with where (below `path`): the `url` of each extension an
    `extension(url)` step compares, and the values found (compared whole with what a slice expects). Keys and
    JSON types are its shape. Raises SlicingUnsupported where navigate does."""
    reads: list[tuple[tuple, object]] = []
    current: list[tuple[object, tuple]] = [(value, path)]
    for step in steps:
        if step == "$this":
            continue
        found: list[tuple[object, tuple]] = []
        by_url = _EXTENSION_STEP.fullmatch(step)
        for node, where in current:
            if not isinstance(node, dict):
                continue
            if by_url:
                extensions = node.get("extension", [])
                for index, extension in enumerate(extensions if isinstance(extensions, list) else ()):
                    if isinstance(extension, dict) and "url" in extension:
                        reads.append((where + ("extension", index, "url"), extension["url"]))
                        if extension["url"] == by_url[1]:
                            found.append((extension, where + ("extension", index)))
            elif step.endswith(")"):
                raise SlicingUnsupported(f"discriminator step {step}")
            else:
                keys = [step] if step in node else [k for k in node if k.startswith(step) and
                                                    k[len(step):][:1].isupper()]
                for key in keys:
                    item = node[key]
                    found += [(x, where + (key, i)) for i, x in enumerate(item)] if isinstance(item, list) else [
                        (item, where + (key,))]
        current = found
    return reads + [(where, item) for item, where in current]


_EXPECTED: dict[tuple[int, str, str], tuple[ElementDef, list[tuple[str, object]]]] = {}


def expected_for(slice_def: ElementDef, path: str, judge: Context) -> list[tuple[str, object]]:
    """`expected_values` worked out once per slice, discriminator path and IG version (compiled profiles live as
    long as the process), not once per value sorted into slices."""
    known = _EXPECTED.get((id(slice_def), path, judge.label))
    if known is None or known[0] is not slice_def:
        known = (slice_def, expected_values(slice_def, split_steps(path), judge))
        _EXPECTED[(id(slice_def), path, judge.label)] = known
    return known[1]


def expected_values(slice_def: ElementDef, steps: tuple[str, ...], judge: Context) -> list[tuple[str, object]]:
    """The fixed and pattern values the slice's definition sets at the discriminator path."""
    candidates = [slice_def]
    for position, step in enumerate(steps):
        if step == "$this":
            continue
        by_url = _EXTENSION_STEP.fullmatch(step)
        following: list[ElementDef] = []
        for node in candidates:
            if not node.children:
                node = type_profile_root(node, judge) or node
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
            root = type_profile_root(node, judge)
            node = root if root is not None else node
        if node.fixed is not None:
            values.append(("fixed", node.fixed[1]))
        if node.pattern is not None:
            values.append(("pattern", node.pattern[1]))
        if node.fixed is None and node.pattern is None and node.binding and node.binding[0] == "required":
            # FHIR: a value discriminator may be told by the element's required binding
            members = expansion(node.binding[1], judge)
            if members is None:
                raise SlicingUnsupported(f"value set {strip_version(node.binding[1])} cannot be expanded")
            values.append(("binding", members))
    return values


@dataclass(frozen=True)
class _Fixed:
    value: str


def type_profile_root(node: ElementDef, judge: Context) -> ElementDef | None:
    for type_ref in node.types:
        for url in type_ref.profiles:
            profile = compile_profile(url, judge)
            if profile is not None:
                return profile.root
    return None
