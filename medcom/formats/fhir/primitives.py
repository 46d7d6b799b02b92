"""The formats of FHIR's primitive types: what a value of the right JSON type must still look like.

The regular expressions are FHIR R4's (the `regex` extension of each primitive type's `value` element; also
https://hl7.org/fhir/R4/datatypes.html), their `\\s` ASCII white space as FHIR's validator (Java) reads it;
tests/test_fhir_r4_lexical.py holds medcom to them both ways, in JSON and in XML. Where R4's prose says more or
other than its regex, medcom follows the prose:
- date, dateTime, instant: a real calendar date ("Dates SHALL be valid dates"; the regex takes 2023-02-30);
- code: no white space at either end, inside only single spaces ("no whitespace other than single spaces in the
  contents"; the regex takes a tab or a line break inside), white space as Unicode has it;
- uri, url, canonical: no white space as Unicode has it (a URI has none; the regex `\\S*` refuses ASCII's);
- base64Binary: RFC 4648's alphabet and padding (the regex leaves out `/` and takes `=` anywhere);
- string and markdown: at most 1024*1024 characters ("SHALL NOT exceed 1MB"), no vertical tab or form feed (the
  string regex refuses them; markdown is a string); string and the types made from it: no other control character
  below U+0020 but tab, line feed and carriage return, a warning ("SHOULD not contain", `advice`).
An empty or blank value is the shape walk's (`structure.py`: JSON type, no empty or blank value), whose JSON types
and 32-bit range checks run first. Compiled once per process; a check is a dictionary look-up and one regular
expression.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

# White space as Unicode has it (White_Space): Python's `\s` adds U+001C-U+001F.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|[+\-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

_DATE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATE_TIME = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?")
_INSTANT = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}")
_TIME_OF_DAY = re.compile(_TIME)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# prose: single spaces between words, no white space (Unicode's) at either end; the regex: `[^\s]+(\s[^\s]+)*`
_CODE = re.compile(rf"[^{_WS}]+( [^{_WS}]+)*")
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_URI = re.compile(r"\S*")  # Unicode's white space too (prose: a valid URI, which has none)
# R4's `(\s*([0-9a-zA-Z\+\=]){4}\s*)+`, with RFC 4648's `/` (padding: `_base64`), its quantifiers possessive: white
# space and the alphabet are apart, so it takes exactly what R4's takes, in linear time (R4's nested `\s*` backtrack
# exponentially on a broken value of many lines: a 40-line attachment cut by one character hung the run).
_BASE64 = re.compile(r"(?:\s*+[0-9a-zA-Z+/=]{4}\s*+)++", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # below U+0020 but tab, line feed and carriage return
_MAX_STRING = 1024 * 1024
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
    text = str(value)
    if _BASE64.fullmatch(text):
        try:
            base64.b64decode(re.sub(r"\s", "", text, flags=re.ASCII), validate=True)  # padding only at the end
        except (binascii.Error, ValueError):
            pass
        else:
            return None
    return "base64 (RFC 4648) in groups of 4 characters, padded with '=' only at the end"


def _string(value: object) -> str | None:
    """string's expression `[ \\r\\n\\t\\S]+` (`\\S` as FHIR's validator reads it: anything but ASCII white
    space): no vertical tab or form feed; at most 1MB."""
    text = str(value)
    if len(text) > _MAX_STRING or "\x0b" in text or "\x0c" in text:
        return f"at most {_MAX_STRING} characters, no vertical tab or form feed"
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
    "id": _matching(_ID, "1 to 64 of A-Z, a-z, 0-9, '-' and '.'"),
    "code": _matching(_CODE, "no white space at either end, single spaces between words"),
    "oid": _matching(_OID, "urn:oid: and dot-separated numbers, without leading zeros"),
    "uuid": _matching(_UUID, "urn:uuid: and a UUID in lower case, e.g. urn:uuid:c757873d-ec9a-4326-a141-556f43239520"),
    "uri": _matching(_URI, "no white space"),
    "url": _matching(_URI, "no white space"),
    "canonical": _matching(_URI, "no white space"),
    "string": _string,
    "markdown": _string,  # its expression takes anything; it is a string (1MB, prose), vertical tab and form feed too
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


ADVISED = frozenset({"string", "markdown", "code", "id"})  # string and the types made from it


def advice(fhir_type: str, value: object) -> str | None:
    """What a value of a string-based type SHOULD NOT hold (a warning; None: nothing): a control character."""
    if fhir_type in ADVISED and isinstance(value, str):
        found = _CONTROL.search(value)
        if found:
            return f"strings SHOULD NOT contain control characters (U+{ord(found.group()):04X})"
    return None
