"""Hypothesis strategies for the values real MedCom letters carry."""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

from medcom.calendar import TZ, LocalTimeKind, classify_local
from medcom.formats.oioxml import write
from medcom.identifiers import MUNICIPALITY_CODES, make_gln, municipality_name

_chars = st.characters(codec="latin-1", exclude_categories=("Cs", "Cc", "Cn", "Co", "Zs"))
names = st.text(_chars, min_size=1, max_size=35).map(str.strip).filter(bool)
identifiers = st.from_regex(r"\A[A-Za-z0-9._-]{1,14}\Z")
episode_ids = st.from_regex(r"\A[0-9a-f]{32}\Z")
eans = st.text("0123456789", min_size=12, max_size=12).map(make_gln)
cprs = st.one_of(  # regular 10-digit numbers: the older generations' CivilRegistrationNumber takes no eCPR
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(1999, 12, 31).date()).flatmap(
        lambda d: st.from_regex(r"\A[0-3][0-9]{3}\Z").map(lambda tail: d.strftime("%d%m%y") + tail)),
    st.just("2509479989"),
)
instants = (st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2040, 12, 31))
            .map(lambda d: d.replace(microsecond=0))
            .filter(lambda d: classify_local(d) is LocalTimeKind.NORMAL)
            .map(lambda d: d.replace(tzinfo=TZ)))
minutes = instants.map(lambda d: d.replace(second=0))  # generations whose times are hh:mm

hospitals = st.builds(write.Organisation, eans, st.from_regex(r"\A[0-9]{7}\Z"), st.just("sygehusafdelingsnummer"),
                      names, st.none() | names, st.none() | names, st.none() | st.from_regex(r"\A[0-9]{8}\Z"))
municipalities = st.sampled_from(sorted(MUNICIPALITY_CODES)).flatmap(
    lambda code: st.builds(write.Organisation, eans, st.just(str(code)), st.just("kommunenummer"),
                           st.just(municipality_name(code) or ""), st.none() | names))


@st.composite
def headers(draw: st.DrawFn, *, seconds: bool, from_municipality: bool = False) -> write.Header:
    hospital, municipality = draw(hospitals), draw(municipalities)
    sender, receiver = (municipality, hospital) if from_municipality else (hospital, municipality)
    return write.Header(draw(identifiers), draw(identifiers), draw(instants if seconds else minutes), sender,
                        receiver, draw(cprs), draw(episode_ids), receipt_requested=draw(st.booleans()))
