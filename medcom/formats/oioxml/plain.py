"""libxml2's schema messages in words municipal IT can act on (issue 25, M1).

libxml2 writes for programmers, and sometimes misleads: of two patterns it names only the last, so a CPR
number with a hyphen read "not accepted by the pattern '0000000000'" (as if a CPR were ten zeros), and an
enumeration whose values it does not list reads "not an element of the set ." The sentence says what the
element must be and what it got; the schema that judged is named after it by the caller, and the line and
path beside it. A message this module does not know is returned unchanged.
"""

from __future__ import annotations

import re

# What an element must look like, said as a sender's developer needs it (the elements whose pattern facets
# MedCom's schemas and medcom's 34C schemas use for identifiers and codes).
_MUST = {
    "CivilRegistrationNumber": "CPR must be ten digits DDMMYYSSSS, without a hyphen",
    "EANIdentifier": "a location number (GLN/EAN) must be 13 digits",
    "VersionCode": "the letter's VersionCode must be the version this family has in this namespace",
}
_TYPES = {"xs:date": "a date YYYY-MM-DD that exists", "xs:time": "a time HH:MM:SS", "xs:integer": "a whole number",
          "xs:decimal": "a number", "xs:boolean": "true or false"}

_ELEMENT = r"Element '(?P<el>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: "
_PATTERN = re.compile(_ELEMENT + r"\[facet 'pattern'\] The value '(?P<value>.*)' is not accepted by the pattern "
                      r"'(?P<pattern>.*)'\.?$", re.S)
_SET = re.compile(_ELEMENT + r"\[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of the set "
                  r"\{?(?P<set>.*?)\}?\.?$", re.S)
_TYPE = re.compile(_ELEMENT + r"'(?P<value>.*)' is not a valid value of the (?:atomic|local atomic) type "
                   r"'(?P<type>[^']+)'\.?$", re.S)
_MISSING = re.compile(_ELEMENT + r"Missing child element\(s\)\. Expected is(?: one of)? \( (?P<want>.*) \)\.?$", re.S)
_UNEXPECTED = re.compile(_ELEMENT + r"This element is not expected\.(?: Expected is(?: one of)? \( (?P<want>.*) \)"
                         r"\.?)?$", re.S)


def _name(match: re.Match[str]) -> str:
    element = match.group("el").rpartition("}")[2]
    return f"{element}/@{match.group('attr')}" if match.group("attr") else element


def plain(message: str) -> str:
    """The libxml2 schema `message` as a sentence saying what is wrong and what to do."""
    text = message.strip()
    if found := _PATTERN.match(text):
        element = found.group("el").rpartition("}")[2]
        must = _MUST.get(element) or f"{_name(found)} must have the form the schema gives (pattern " \
                                     f"'{found.group('pattern')}')"
        return f"{must}; got '{found.group('value')}' in {_name(found)}"
    if found := _SET.match(text):
        values = found.group("set").strip()
        allowed = f"one of {values}" if values else "one of the values the schema lists"
        return f"{_name(found)} must be {allowed}; got '{found.group('value')}'"
    if found := _TYPE.match(text):
        kind = _TYPES.get(found.group("type"), f"a valid {found.group('type')}")
        return f"{_name(found)} must be {kind}; got '{found.group('value')}'"
    if found := _MISSING.match(text):
        return f"{_name(found)} lacks {found.group('want')}, which the schema requires here: add it"
    if found := _UNEXPECTED.match(text):
        want = f"; the schema expects {found.group('want')} at this place" if found.group("want") else ""
        return f"{_name(found)} is not allowed here (misspelt, misplaced or not part of this letter){want}"
    return message
