"""Identifier rules: CPR (M-CPR), EAN/GLN location numbers (M-GLN), municipality codes (M-MUNICIPALITY).

Each check returns None when the value is valid, else a sentence saying what is wrong.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

# The 98 Danish municipalities (kommunekoder) since the 2007 reform. Christiansø (411) is not a municipality.
MUNICIPALITY_CODES: frozenset[int] = frozenset({
    101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187, 190,
    201, 210, 217, 219, 223, 230, 240, 250, 253, 259, 260, 265, 269, 270,
    306, 316, 320, 326, 329, 330, 336, 340, 350, 360, 370, 376, 390,
    400, 410, 420, 430, 440, 450, 461, 479, 480, 482, 492,
    510, 530, 540, 550, 561, 563, 573, 575, 580,
    607, 615, 621, 630, 657, 661, 665, 671,
    706, 707, 710, 727, 730, 740, 741, 746, 751, 756, 760, 766, 773, 779, 787, 791,
    810, 813, 820, 825, 840, 846, 849, 851, 860,
})

_CPR = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})([0-9])([0-9]{3})$")
_REPLACEMENT_CPR = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})([17])([A-Z]{2})([0-9])$")


def cpr_century(yy: int, seventh: int) -> int:
    """The century of a CPR birth year from digit 7 (CPR-kontoret's rule)."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800  # 5-8


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def cpr_birth_date(cpr: str) -> date | None:
    """The birth date a regular 10-digit CPR number encodes, or None if it encodes none."""
    m = _CPR.match(cpr)
    if not m:
        return None
    dd, mm, yy, seventh = (int(g) for g in m.groups()[:4])
    year = cpr_century(yy, seventh) + yy
    return date(year, mm, dd) if _real_date(year, mm, dd) else None


@lru_cache(maxsize=65536)  # a patient's number recurs on every message of the episode
def check_cpr(value: str, *, allow_replacement: bool = True) -> str | None:
    """M-CPR: 10 digits with a real DDMMYY date (century from digit 7); no modulus-11 check.

    A replacement number (eCPR: DDMMYY, 1 or 7, two capital letters, a digit) passes where allowed,
    when its DDMMYY is a real date in the 1900s or 2000s.
    """
    value = value.strip()
    if _CPR.match(value):
        if cpr_birth_date(value) is None:
            return f"CPR number {mask_cpr(value)} does not start with a real date (DDMMYY)"
        return None
    m = _REPLACEMENT_CPR.match(value)
    if m and allow_replacement:
        dd, mm, yy = (int(g) for g in m.groups()[:3])
        if _real_date(1900 + yy, mm, dd) or _real_date(2000 + yy, mm, dd):
            return None
        return f"replacement CPR number {mask_cpr(value)} does not start with a real date (DDMMYY)"
    if m:
        return "a replacement CPR number is not allowed here"
    return f"CPR number {mask_cpr(value)!s} is not 10 digits"


def mask_cpr(value: str) -> str:
    """DDMMYY-**** : the birth date stays readable, the rest is hidden (ARCHITECTURE.md)."""
    value = value.strip()
    if len(value) < 6:
        return "*" * len(value)
    return f"{value[:6]}-{'*' * max(len(value) - 6, 4)}"


# A CPR number anywhere in a text: DDMMYY then four digits (a replacement number: 1 or 7, two capital letters
# and a digit), with or without a hyphen, not inside a longer run of letters and digits (a 14-digit envelope
# id, a 32-hex episode id). Whether DDMMYY is a real date is checked on each match.
_CPR_IN_TEXT = re.compile(r"(?<![^\W_])([0-9]{6})-?(?:[0-9]{4}|[17][A-Z]{2}[0-9])(?![^\W_])")


@lru_cache(maxsize=4096)
def _is_ddmmyy(six: str) -> bool:
    dd, mm, yy = int(six[:2]), int(six[2:4]), int(six[4:])
    return _real_date(1900 + yy, mm, dd) or _real_date(2000 + yy, mm, dd)


def _mask_match(match: re.Match[str]) -> str:
    return f"{match[1]}-****" if _is_ddmmyy(match[1]) else match[0]


def mask_cprs(text: str) -> str:
    """`text` with every CPR-shaped value masked as DDMMYY-**** (see mask_cpr): 10 digits or DDMMYY-XXXX
    whose DDMMYY is a real date, and replacement numbers (DDMMYY, 1 or 7, two letters, a digit)."""
    return _CPR_IN_TEXT.sub(_mask_match, text) if text else text


def find_cprs(text: str) -> list[str]:
    """The CPR-shaped values `mask_cprs` would mask in `text` (for tests and checks of outputs)."""
    return [m[0] for m in _CPR_IN_TEXT.finditer(text) if _is_ddmmyy(m[1])]


def gln_check_digit(first12: str) -> int:
    """GS1 modulus-10 check digit for the first 12 digits of a GLN/EAN-13."""
    digits = [ord(c) - 48 for c in first12]
    total = sum(digits[0::2]) + 3 * sum(digits[1::2])
    return (10 - total % 10) % 10


@lru_cache(maxsize=8192)  # location numbers repeat: a region has few senders and receivers
def check_gln(value: str) -> str | None:
    """M-GLN: 13 digits with a correct GS1 modulus-10 check digit."""
    value = value.strip()
    if not re.fullmatch(r"[0-9]{13}", value):
        return f"location number {value!r} is not 13 digits"
    expected = gln_check_digit(value[:12])
    if int(value[12]) != expected:
        return f"location number {value} has check digit {value[12]}, expected {expected} (GS1 modulus 10)"
    return None


def make_gln(first12: str) -> str:
    """A GLN from 12 digits plus the computed check digit (for builders and tests)."""
    return first12 + str(gln_check_digit(first12))


@lru_cache(maxsize=1024)
def check_municipality(value: str) -> str | None:
    """M-MUNICIPALITY: one of the 98 municipality codes, written 3 or 4 digits (101 or 0101)."""
    value = value.strip()
    if not re.fullmatch(r"[0-9]{3,4}", value) or int(value) not in MUNICIPALITY_CODES:
        return f"{value!r} is not one of the 98 Danish municipality codes"
    return None
