"""FHIRPath for the profiles' invariants, with fhirpathpy (its R4 model) and the functions FHIR adds to FHIRPath.

fhirpathpy implements FHIRPath itself; FHIR's additions that MedCom's invariants use are supplied here:
`resolve()` (references inside the Bundle being validated), `hasValue()`, `conformsTo(url)` (the validator's own
profile check) and `memberOf(url)` (shipped value sets); `htmlChecks()` (txt-1, txt-2) never comes here: it is
answered natively (`base_invariants.narrative_rules`). An expression fhirpathpy cannot parse or evaluate, or that
needs what is not shipped (an unknown profile or value set), is *unevaluable*: `evaluate` returns None and the
caller counts it as not checked. Expressions are compiled once per process.

An expression that reads only the element it is evaluated on (no `%` variables, no `resolve()` or `conformsTo()`
into the Bundle, no clock) has one verdict per (expression, type, what it reads of the element): those verdicts
are remembered, a bounded number of them, since messages repeat the same organisations, codings and identifiers
under new resource ids.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from medcom.formats.fhir.terminology import Expansion

logging.getLogger("antlr4").setLevel(logging.CRITICAL)


class Unevaluable(Exception):
    """The expression needs something this validator does not have."""


class Session(Protocol):
    """What the FHIR functions need from the validation under way."""

    def resolve(self, reference: str) -> dict | None: ...

    def conforms_to(self, resource: dict, profile: str) -> bool | None: ...

    def expansion(self, value_set: str) -> Expansion | None: ...

    @property
    def label(self) -> str: ...


_SESSION: contextvars.ContextVar[Session] = contextvars.ContextVar("fhirpath_session")


def _resolve(inputs: list) -> list:
    session = _SESSION.get()
    found = []
    for item in inputs:
        reference = item.get("reference") if isinstance(item, dict) else item
        if isinstance(reference, str):
            target = session.resolve(reference)
            if target is not None:
                found.append(target)
    return found


def _has_value(inputs: list) -> list:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)]


def _conforms_to(inputs: list, url: str) -> list:
    session = _SESSION.get()
    results = []
    for item in inputs:
        if not isinstance(item, dict) or "resourceType" not in item:
            continue
        verdict = session.conforms_to(item, url)
        if verdict is None:
            raise Unevaluable(f"profile {url} is not shipped")
        results.append(verdict)
    return results


def _member_of(inputs: list, url: str) -> list:
    members = _SESSION.get().expansion(url)
    if members is None:
        raise Unevaluable(f"value set {url} is not shipped or not expandable")
    results = []
    for item in inputs:
        if isinstance(item, str):
            results.append(members.contains_code(item))
        elif isinstance(item, dict) and "coding" in item:
            results.append(any(members.contains(c.get("system"), c.get("code", "")) for c in item["coding"]
                               if isinstance(c, dict)))
        elif isinstance(item, dict) and "code" in item:
            results.append(members.contains(item.get("system"), item["code"]))
    return results


def _unevaluable(name: str) -> Callable[..., list]:
    def refuse(inputs: list, *args: object) -> list:
        raise Unevaluable(f"{name}() is not supported")
    return refuse


_FUNCTIONS: dict[str, dict[str, Any]] = {
    "resolve": {"fn": _resolve},
    "hasValue": {"fn": _has_value},
    "conformsTo": {"fn": _conforms_to, "arity": {1: ["String"]}},
    "memberOf": {"fn": _member_of, "arity": {1: ["String"]}},
    "htmlChecks": {"fn": _unevaluable("htmlChecks")},
}


def _silent(*_: object) -> None:
    """trace() writes nothing: an invariant's trace is not the validator's output."""


@cache
def _compiled(expression: str) -> Callable | None:
    """fhirpathpy's compiled expression (fhirpathpy imported on first use: the shortcuts answer a MedCom message's
    invariants, base_invariants.py and medcom_invariants.py, so a replay may never need it)."""
    import fhirpathpy
    from fhirpathpy.models import models

    try:
        return fhirpathpy.compile(expression, model=models["r4"], options={"userInvocationTable": _FUNCTIONS,
                                                                                 "traceFn": _silent})
    except Exception:  # any parser failure makes the expression unevaluable, never a crash
        return None


READS_CLOCK = ("now(", "today(", "timeOfDay(")  # a verdict of the moment it is asked: never remembered
_NOT_LOCAL = ("%", "resolve(", "conformsTo(", *READS_CLOCK)
READS_WHOLE = ("$this", "children(", "descendants(", "repeat(", "toString(")  # may read more than named members
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MEMO_LIMIT = 4096  # remembered verdicts; all are forgotten when the limit is reached
_MEMO: dict[tuple, bool | None] = {}


@cache
def reads_clock(expression: str) -> bool:
    """Whether the expression asks the clock (its verdict is of the moment it is asked)."""
    return any(part in expression for part in READS_CLOCK)


@cache
def _local(expression: str) -> bool:
    """Whether the expression's verdict depends on the element alone (and its type)."""
    return not any(part in expression for part in _NOT_LOCAL)


@cache
def members_read(expression: str) -> re.Pattern[str] | None:
    """The members of an object that an expression can read: every name in it (a superset: function names and
    words in strings too), with its `_name` twin and its choice types (`value` -> valueString), and the
    resourceType; None when it may read the whole object."""
    if any(part in expression for part in READS_WHOLE):
        return None
    names = sorted({*_NAME.findall(expression), "resourceType"})
    return re.compile(r"_?(?:" + "|".join(names) + r")(?:[A-Z][A-Za-z0-9]*)?")


def _frozen(value: object) -> object:
    """A hashable copy of a JSON value that tells apart what Python's equality would not (1, 1.0, True)."""
    if isinstance(value, dict):
        return dict, tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return list, tuple(_frozen(v) for v in value)
    if isinstance(value, Decimal | float):
        return type(value), str(value)
    return type(value), value


def _memo_key(expression: str, data: object, type_path: str, label: str = "") -> tuple:
    """What the verdict of a local expression depends on: the element, or of an object the members it reads
    (an organisation's identifiers, not its id, which each message renews), and the IG version judging it
    (`memberOf()` reads its value sets)."""
    members = members_read(expression) if isinstance(data, dict) else None
    if members is not None:
        data = {k: v for k, v in data.items() if isinstance(k, str) and members.fullmatch(k)}  # type: ignore[union-attr]
    key = (expression, type_path, _frozen(data), label)
    hash(key)
    return key


def evaluate(expression: str, data: object, type_path: str, resource: dict, session: Session) -> bool | None:
    """The truth of an invariant on one element (FHIR's rule: a single boolean is its value, an empty result is
    false, anything else true); None when it cannot be evaluated here."""
    if not _local(expression) or type_path == "Bundle":  # a Bundle is one message: its verdicts do not repeat
        return _evaluate(expression, data, type_path, resource, session)
    try:
        key = _memo_key(expression, data, type_path, session.label)
    except (TypeError, RecursionError):  # a value no JSON reader makes: evaluated, not remembered
        return _evaluate(expression, data, type_path, resource, session)
    if key in _MEMO:
        return _MEMO[key]
    verdict = _evaluate(expression, data, type_path, resource, session)
    if len(_MEMO) >= MEMO_LIMIT:
        _MEMO.clear()
    _MEMO[key] = verdict
    return verdict


_VALUE_STEP = re.compile(r"(?<![.%\w$])value\s*\.")


@cache
def _on_primitive(expression: str) -> str:
    """The expression as FHIR evaluates it on a primitive element: the primitive's `value` (its System value, as
    in the StructureDefinition of `string`) is the element itself, so the step is dropped. dk-core 2.0 writes
    `value.matches(...)` on Identifier.value; fhirpathpy knows no `value` inside a primitive and finds nothing."""
    return _VALUE_STEP.sub("", expression)  # `value.matches(x)` -> `matches(x)`, on the focus


def _evaluate(expression: str, data: object, type_path: str, resource: dict, session: Session) -> bool | None:
    if not isinstance(data, dict | list):
        expression = _on_primitive(expression)
    compiled = _compiled(expression)
    if compiled is None:
        return None
    from fhirpathpy.engine.nodes import ResourceNode  # imported by _compiled

    token = _SESSION.set(session)
    try:
        node = data if isinstance(data, dict) and "resourceType" in data else ResourceNode.create_node(data, type_path)
        result = compiled(node, {"resource": resource, "rootResource": resource})
    except Exception:  # fhirpathpy raises plain Exceptions for what it does not implement
        return None
    finally:
        _SESSION.reset(token)
    if len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    return len(result) > 0
