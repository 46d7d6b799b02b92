"""The formats of FHIR's primitive types: what a value of the right JSON type must still look like.

The regular expressions are FHIR R4's (datatypes.html), with real calendar dates ("Dates SHALL be valid dates"),
and they decide exactly as the base model medcom judged by before (fhir.resources R4B on pydantic), which the
tests hold them to value by value (tests/test_fhir_primitives.py): that model also bounds an id at 255 characters,
takes a uuid only in version 4 (hyphenated, braced, bare 32 digits or `urn:uuid:`), decodes base64 leniently
(anything but the base64 alphabet is skipped; only the padding must fit) and leaves uri, url, canonical, string,
markdown and xhtml to the shape walk (`structure.py`: JSON type, no empty or blank value), whose JSON types and
32-bit range checks run first. Compiled once per process; a check is a dictionary look-up and one regular
expression, instead of a model built per resource.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

# White space as the model's regular expressions (Rust's `\s`, Unicode White_Space) have it: Python's `\s` adds
# U+001C-U+001F.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|[+\-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_HEX = "[0-9a-fA-F]"
_UUID4 = rf"{_HEX}{{8}}-{_HEX}{{4}}-4{_HEX}{{3}}-[89abAB]{_HEX}{{3}}-{_HEX}{{12}}"

_DATE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATE_TIME = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?")
_INSTANT = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}")
_TIME_OF_DAY = re.compile(_TIME)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,255}")
_CODE = re.compile(rf"[^{_WS}]+([{_WS}][^{_WS}]+)*")
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID = re.compile(rf"(urn:uuid:)?{_UUID4}|\{{{_UUID4}\}}|{_HEX}{{12}}4{_HEX}{{3}}[89abAB]{_HEX}{{15}}")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _calendar(value: str) -> bool:
    """Whether the date a value starts with (YYYY-MM-DD, when it has a day) is in the calendar."""
    if len(value) < 10:
        return True  # a year, or a year and month: the expression has settled it
    try:
        date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def _dated(pattern: re.Pattern[str], rule: str) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) and _calendar(value) else rule
    return check


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) else rule
    return check


def _base64(value: object) -> str | None:
    try:
        base64.b64decode(str(value).encode())  # lenient, as the model decodes it: only the padding must fit
    except (binascii.Error, ValueError):
        return "base64 whose padding fits its length"
    return None


def _decimal(value: object) -> str | None:
    return None if _DECIMAL.fullmatch(str(value)) else "a decimal number without leading zeros"


def _at_least(low: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if isinstance(value, int) and value >= low else f"{low} or more"
    return check


# FHIR primitive type -> a check of a value of the right JSON type (not empty, integers in 32-bit range): None
# when the value is one, else what the type's values look like. Types not listed take any such value.
CHECKS: dict[str, Callable[[object], str | None]] = {
    "id": _matching(_ID, "1 to 255 of A-Z, a-z, 0-9, '-' and '.'"),
    "code": _matching(_CODE, "no white space at either end, single white space between words"),
    "oid": _matching(_OID, "urn:oid: and dot-separated numbers, without leading zeros"),
    "uuid": _matching(_UUID, "a version 4 UUID, e.g. urn:uuid:c757873d-ec9a-4326-a141-556f43239520"),
    "date": _dated(_DATE, "YYYY, YYYY-MM or YYYY-MM-DD, a date in the calendar"),
    "dateTime": _dated(_DATE_TIME, "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone, a date in "
                                   "the calendar"),
    "instant": _dated(_INSTANT, "YYYY-MM-DDThh:mm:ss with a time zone, a date in the calendar"),
    "time": _matching(_TIME_OF_DAY, "hh:mm:ss from 00:00:00 to 23:59:60, no time zone"),
    "base64Binary": _base64,
    "decimal": _decimal,
    "unsignedInt": _at_least(0),
    "positiveInt": _at_least(1),
}


def format_problem(fhir_type: str, value: str | int | Decimal) -> str | None:
    """What is wrong with a primitive value of the right JSON type (None: nothing): see `CHECKS`."""
    check = CHECKS.get(fhir_type)
    return None if check is None else check(value)
