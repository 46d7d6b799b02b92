"""Hypothesis strategies for every message family, derived from the model's type hints."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime

from hypothesis import strategies as st

from medcom.calendar import TZ, LocalTimeKind, classify_local
from medcom.formats.dialect.codec import camel
from medcom.formats.dialect.model import IdentifierKind, Party
from medcom.identifiers import MUNICIPALITY_CODES, make_gln

SHORT = {"OrganisationName", "DepartmentName", "UnitName", "PersonSurnameName", "PersonGivenName", "Subject",
         "Name", "Relation", "Area"}
IDENTIFIERS = {"Identifier", "ChangesLetterIdentifier", "ReplyToLetterIdentifier", "CarePlanIdentifier",
               "OriginalEnvelopeIdentifier", "LetterIdentifier"}

_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co"))
_text = st.text(_chars, min_size=1, max_size=200)
_short = st.text(_chars, min_size=1, max_size=70)
_identifier = st.from_regex(r"\A[A-Za-z0-9\-_.]{1,14}\Z")
_ean = st.text("0123456789", min_size=12, max_size=12).map(make_gln)
_cpr = st.one_of(
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(1999, 12, 31).date()).flatmap(
        lambda d: st.from_regex(r"\A[0-3][0-9]{3}\Z").map(lambda tail: d.strftime("%d%m%y") + tail)),
    st.sampled_from(["2509479989", "0101907AB1"]),
)
instants = (st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2040, 12, 31))
            .map(lambda d: d.replace(microsecond=0))
            .filter(lambda d: classify_local(d) is LocalTimeKind.NORMAL)
            .map(lambda d: d.replace(tzinfo=TZ)))

_BY_ELEMENT: dict[str, st.SearchStrategy] = {
    "EANIdentifier": _ean, "AnswerToEANIdentifier": _ean, "CivilRegistrationNumber": _cpr,
    "EpisodeOfCareIdentifier": st.from_regex(r"\A[0-9a-f]{32}\Z"),
    "TelephoneSubscriberIdentifier": st.from_regex(r"\A\+?[0-9]{8,12}\Z"),
    "ICFCode": st.from_regex(r"\A[bdes][0-9]{3,5}\Z"), "Score": st.integers(0, 4),
    "SKSCode": st.from_regex(r"\AD[A-Z][0-9A-Z]{1,8}\Z"),
}


def _party() -> st.SearchStrategy[Party]:
    municipal = st.builds(Party, ean=_ean, identifier=st.sampled_from(sorted(map(str, MUNICIPALITY_CODES))),
                          identifier_kind=st.just(IdentifierKind.MUNICIPALITY), organisation=_short,
                          department=st.none() | _short)
    other = st.builds(Party, ean=_ean, identifier=st.from_regex(r"\A[0-9]{4,12}\Z"),
                      identifier_kind=st.sampled_from([k for k in IdentifierKind
                                                       if k is not IdentifierKind.MUNICIPALITY]),
                      organisation=_short, department=st.none() | _short, unit=st.none() | _short,
                      phone=st.none() | _BY_ELEMENT["TelephoneSubscriberIdentifier"])
    return municipal | other


def _for(name: str, hint: object) -> st.SearchStrategy:
    if name in _BY_ELEMENT:
        return _BY_ELEMENT[name]
    if hint is Party:
        return _party()
    if hint is datetime:
        return instants
    if hint is bool:
        return st.booleans()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if dataclasses.is_dataclass(hint):
        return of(hint)
    if hint is str:
        return _identifier if name in IDENTIFIERS else _short if name in SHORT else _text
    raise TypeError(f"no strategy for {name}: {hint}")


def of(cls: type) -> st.SearchStrategy:
    """Any valid instance of a model dataclass."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        hint, name = hints[f.name], f.metadata.get("xml") or camel(f.name)
        optional = isinstance(hint, types.UnionType)
        if optional:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            strategy = st.lists(_for(f.metadata.get("item") or "Item", item), max_size=3).map(tuple)
        else:
            strategy = _for(name, hint)
        kwargs[f.name] = st.none() | strategy if optional else strategy
    return st.builds(cls, **kwargs)
