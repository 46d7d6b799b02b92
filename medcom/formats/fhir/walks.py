"""Profile walks remembered: a resource whose walk read nothing but itself is judged once per content.

A log repeats the same organisations (a hospital's departments, a municipality's units) in message after message,
each copy under a new resource id. Walking such a resource against its profile reads only the resource, its
profile and the IG version's packages; its effects (findings at paths inside the resource, counts of what could not
be checked) are then a function of those, and are replayed for the next copy at its own path.

A walk is remembered only when it stayed local (the validator marks it otherwise: `resolve()`, `conformsTo()`, a
reference into the Bundle, any finding outside the resource) and did not judge the resource's own id by its value
(a fixed value, pattern or binding on it, or FHIRPath that may read it): then a valid id (the base model's id
syntax) is left out of the key, as the base-model memo does, since messages renew it. Keys are the resource's JSON
text (types told apart: 1, 1.0 and true differ), the profile, the IG version and whether references are followed;
a value no JSON reader makes (a Decimal) is not remembered.
"""

from __future__ import annotations

import json
import re
from functools import cache

from medcom.formats.fhir.fhirpath import READS_WHOLE

LIMIT = 2048  # walks remembered; all are forgotten when the limit is reached
_WALKS: dict[tuple, list[tuple]] = {}
_NOT_LOCAL: dict[str, int] = {}  # profile -> walks that were not local (negative once one was)
_GIVE_UP = 16
_VALID_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR's id syntax
_ID_WORD = re.compile(r"\bid\b")


def _refuse(value: object) -> object:
    raise TypeError(type(value).__name__)


def key(resource: dict, profile: str, label: str, follow: bool) -> tuple | None:
    """What a local, id-blind walk of `resource` depends on; None when it is not to be remembered: a Bundle (one
    message, whose walk never repeats) or a resource of a profile whose walks have not been local so far (a
    Patient refers to its organisation, an Encounter to its Patient): the key's cost is spared."""
    if resource.get("resourceType") == "Bundle" or _NOT_LOCAL.get(profile, 0) >= _GIVE_UP:
        return None
    ident = resource.get("id")
    valid_id = isinstance(ident, str) and _VALID_ID.fullmatch(ident) is not None
    rest = {k: v for k, v in resource.items() if k != "id"} if valid_id else resource
    try:
        text = json.dumps(rest, ensure_ascii=False, default=_refuse)
    except (TypeError, ValueError, RecursionError):
        return None
    return profile, label, follow, valid_id, text


def known(walk: tuple) -> list[tuple] | None:
    """The effects of an earlier walk with this key: (path inside the resource, effect) in the order they came."""
    return _WALKS.get(walk)


def remember(walk: tuple, effects: list[tuple] | None) -> None:
    """The effects of a local walk (None: the walk was not local, counted against its profile)."""
    if effects is None:
        _NOT_LOCAL[walk[0]] = _NOT_LOCAL.get(walk[0], 0) + 1
        return
    _NOT_LOCAL[walk[0]] = -_GIVE_UP  # local once: always worth a key
    if len(_WALKS) >= LIMIT:
        _WALKS.clear()
    _WALKS[walk] = effects


def forget() -> None:
    _WALKS.clear()
    _NOT_LOCAL.clear()


@cache
def id_blind(expression: str) -> bool:
    """Whether FHIRPath cannot read a resource's id: it names no `id`, reads no variable (`%resource`) and nothing
    wholesale (`descendants()`, `$this`...)."""
    return "%" not in expression and not _ID_WORD.search(expression) and not any(
        part in expression for part in READS_WHOLE)
