"""Identifier rules: CPR (M-CPR), EAN/GLN location numbers (M-GLN), municipality codes (M-MUNICIPALITY).

Each check returns None when the value is valid, else a sentence saying what is wrong.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from medcom.quoting import quoted

# The 98 Danish municipalities (kommunekoder) since the 2007 reform, with their names. Christiansø (411) is not one.
MUNICIPALITY_NAMES: dict[int, str] = {
    101: "Københavns Kommune",
    147: "Frederiksberg Kommune",
    151: "Ballerup Kommune",
    153: "Brøndby Kommune",
    155: "Dragør Kommune",
    157: "Gentofte Kommune",
    159: "Gladsaxe Kommune",
    161: "Glostrup Kommune",
    163: "Herlev Kommune",
    165: "Albertslund Kommune",
    167: "Hvidovre Kommune",
    169: "Høje-Taastrup Kommune",
    173: "Lyngby-Taarbæk Kommune",
    175: "Rødovre Kommune",
    183: "Ishøj Kommune",
    185: "Tårnby Kommune",
    187: "Vallensbæk Kommune",
    190: "Furesø Kommune",
    201: "Allerød Kommune",
    210: "Fredensborg Kommune",
    217: "Helsingør Kommune",
    219: "Hillerød Kommune",
    223: "Hørsholm Kommune",
    230: "Rudersdal Kommune",
    240: "Egedal Kommune",
    250: "Frederikssund Kommune",
    253: "Greve Kommune",
    259: "Køge Kommune",
    260: "Halsnæs Kommune",
    265: "Roskilde Kommune",
    269: "Solrød Kommune",
    270: "Gribskov Kommune",
    306: "Odsherred Kommune",
    316: "Holbæk Kommune",
    320: "Faxe Kommune",
    326: "Kalundborg Kommune",
    329: "Ringsted Kommune",
    330: "Slagelse Kommune",
    336: "Stevns Kommune",
    340: "Sorø Kommune",
    350: "Lejre Kommune",
    360: "Lolland Kommune",
    370: "Næstved Kommune",
    376: "Guldborgsund Kommune",
    390: "Vordingborg Kommune",
    400: "Bornholms Regionskommune",
    410: "Middelfart Kommune",
    420: "Assens Kommune",
    430: "Faaborg-Midtfyn Kommune",
    440: "Kerteminde Kommune",
    450: "Nyborg Kommune",
    461: "Odense Kommune",
    479: "Svendborg Kommune",
    480: "Nordfyns Kommune",
    482: "Langeland Kommune",
    492: "Ærø Kommune",
    510: "Haderslev Kommune",
    530: "Billund Kommune",
    540: "Sønderborg Kommune",
    550: "Tønder Kommune",
    561: "Esbjerg Kommune",
    563: "Fanø Kommune",
    573: "Varde Kommune",
    575: "Vejen Kommune",
    580: "Aabenraa Kommune",
    607: "Fredericia Kommune",
    615: "Horsens Kommune",
    621: "Kolding Kommune",
    630: "Vejle Kommune",
    657: "Herning Kommune",
    661: "Holstebro Kommune",
    665: "Lemvig Kommune",
    671: "Struer Kommune",
    706: "Syddjurs Kommune",
    707: "Norddjurs Kommune",
    710: "Favrskov Kommune",
    727: "Odder Kommune",
    730: "Randers Kommune",
    740: "Silkeborg Kommune",
    741: "Samsø Kommune",
    746: "Skanderborg Kommune",
    751: "Aarhus Kommune",
    756: "Ikast-Brande Kommune",
    760: "Ringkøbing-Skjern Kommune",
    766: "Hedensted Kommune",
    773: "Morsø Kommune",
    779: "Skive Kommune",
    787: "Thisted Kommune",
    791: "Viborg Kommune",
    810: "Brønderslev Kommune",
    813: "Frederikshavn Kommune",
    820: "Vesthimmerlands Kommune",
    825: "Læsø Kommune",
    840: "Rebild Kommune",
    846: "Mariagerfjord Kommune",
    849: "Jammerbugt Kommune",
    851: "Aalborg Kommune",
    860: "Hjørring Kommune",
}
MUNICIPALITY_CODES: frozenset[int] = frozenset(MUNICIPALITY_NAMES)


def ascii_digits(text: str, max_length: int = 18) -> bool:
    """Whether `text` is 1 to `max_length` ASCII digits: what `int()` can read and a message means by a number.
    `str.isdigit()` is not that: it is true of '²' (which `int()` refuses) and of other scripts' digits ('٨٥١',
    which `int()` reads as 851); and `int()` of more than 4,300 digits raises."""
    return 0 < len(text) <= max_length and text.isascii() and text.isdigit()


def municipality_name(code: object) -> str | None:
    """'Aalborg Kommune' for 851 (or '0851'); None for anything that is not a municipality code."""
    text = str(code).strip()
    return MUNICIPALITY_NAMES.get(int(text)) if ascii_digits(text, 4) else None

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


def patient_key(cpr: object) -> str | None:
    """The patient a CPR number names, as every comparison of patients keys it: without hyphens or surrounding
    space (the engine's patient index and replay's partitions use this one function: two spellings of one number
    must not split a patient's episodes between partitions)."""
    if not cpr:
        return None
    return str(cpr).replace("-", "").strip() or None


# CPR numbers anywhere in a text: the one detector of every output (reports, findings, receipts, file names,
# progress, stderr, calibrate's TOML). A candidate is DDMMYY, then at most one separator (hyphen, dash, minus,
# space, no-break space, dot, slash), then four digits (a replacement number: 1 or 7, two capital letters, a
# digit). Digits are any script's decimal digits (Arabic-Indic, full-width ...: int() reads them all).
#  - A candidate with no digit either side (letters glued to it do not matter: "CPR2509479989x" is a CPR) is
#    masked when DDMM is shaped like a day and month: a mistyped CPR with an impossible date is still one.
#  - A candidate inside a longer run of digits ("12509479989", "25094799891234": an envelope id, two numbers
#    run together) is masked when its DDMMYY is a real birth date under the century rule: such a window may be a
#    CPR written into a longer field, and masking errs on the side of the patient. Its four digits become ****
#    in place, the rest of the run is kept.
#  - The digits after a decimal point (0.2509479989) are a number's, not a CPR's; "DDMMYY.XXXX" standing alone
#    is still masked.
# The look-ahead finds overlapping candidates; each is judged on its own. Linear in the text.
_SEPARATORS = "-‐‑‒–—―−     ./"
_CPR_CANDIDATE = re.compile(rf"(?=(\d{{6}})([{re.escape(_SEPARATORS)}]?)(\d{{4}}|[17][A-Z]{{2}}\d))")


@lru_cache(maxsize=4096)
def _is_ddmmyy(six: str) -> bool:
    """Day 01-31 and month 01-12: shaped like a birth date (a CPR number with an impossible date, 31 February,
    is still somebody's mistyped CPR number and is masked too)."""
    dd, mm = int(six[:2]), int(six[2:4])
    return 1 <= dd <= 31 and 1 <= mm <= 12


@lru_cache(maxsize=4096)
def _is_birth_date(six: str, seventh: str) -> bool:
    """DDMMYY a real date, in the century digit 7 gives (a replacement number: in the 1900s or 2000s)."""
    dd, mm, yy = int(six[:2]), int(six[2:4]), int(six[4:])
    if seventh.isdecimal():
        return _real_date(cpr_century(yy, int(seventh)) + yy, mm, dd)
    return _real_date(1900 + yy, mm, dd) or _real_date(2000 + yy, mm, dd)


def _cpr_spans(text: str) -> list[tuple[int, int, int, bool]]:
    """(start, end of DDMMYY and separator, end, whole) of every CPR number in `text`; `whole`: no digit either
    side (masked as DDMMYY-****), else inside a longer run of digits (its last four masked in place)."""
    spans = []
    zeros = _zeros(text)  # once for both scans (the text made bytes: ~30 % of masking a replay's JSON report)
    fractions = _fractions(text, zeros) if "." in text else []
    for m in _candidates(text, zeros):
        start, six_end, end = m.start(), m.end(2), m.end(3)
        digit_before = start > 0 and text[start - 1].isdecimal()
        digit_after = end < len(text) and text[end].isdecimal()
        whole = not digit_before and not digit_after
        if fractions and ((m[2] == "." and not whole) or _in_fraction(fractions, start)):
            continue  # the digits of a decimal number (a JSON float: 0.2509479989, 120524.05218525213)
        if (_is_ddmmyy(m[1]) if whole else _is_birth_date(m[1], m[3][0])):
            spans.append((start, six_end, end, whole))
    return spans


_FRACTION = re.compile(r"(?<=\d\.)\d+")
_DIGITS_AS_ZEROS = bytes(48 if 48 <= b <= 57 else b for b in range(256))  # every ASCII digit "0", the rest as is
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _zeros(text: str) -> bytes | None:
    """`text` as bytes, a byte a character, every digit a "0": for `_candidates` and `_fractions`. Characters
    beyond ASCII become "?" (the same places); None when one of them is a decimal digit (Arabic-Indic, full-width
    ...: \\d matches them, and then the regexes are asked instead)."""
    if text.isascii():
        return text.encode("ascii").translate(_DIGITS_AS_ZEROS)
    if any(c.isdecimal() for c in _NON_ASCII.findall(text)):
        return None
    return text.encode("ascii", "replace").translate(_DIGITS_AS_ZEROS)


def _candidates(text: str, zeros: bytes | None) -> Iterator[re.Match[str]]:
    """`_CPR_CANDIDATE.finditer(text)`. A candidate starts with six digits, so only the starts of runs of six digits
    are tried, found by bytes.find in `zeros`, `_zeros(text)`: the regex's look-ahead tried at every character was
    about 7x slower on a replay report (masked whole, and every string of it)."""
    if zeros is None:
        yield from _CPR_CANDIDATE.finditer(text)
        return
    match = _CPR_CANDIDATE.match
    at = zeros.find(b"000000")
    while at >= 0:
        end = at + 6
        while end < len(zeros) and zeros[end] == 48:  # the run's end: a candidate may start anywhere in it
            end += 1
        for start in range(at, end - 5):
            if m := match(text, start):
                yield m
        at = zeros.find(b"000000", end)


def _fractions(text: str, zeros: bytes | None) -> list[tuple[int, int]]:
    """The spans of `_FRACTION.finditer(text)`, found as `_candidates` finds its runs (`zeros`, `_zeros(text)`):
    digits after a digit and a point ("0.0" with the digits made zeros), each run to its end."""
    if zeros is None:
        return [(f.start(), f.end()) for f in _FRACTION.finditer(text)]
    spans = []
    at = zeros.find(b"0.0")
    while at >= 0:
        start = end = at + 2
        while end < len(zeros) and zeros[end] == 48:
            end += 1
        spans.append((start, end))
        at = zeros.find(b"0.0", end - 1)  # the next fraction's digit before its point may be this one's last
    return spans


def _in_fraction(fractions: list[tuple[int, int]], at: int) -> bool:
    i = bisect.bisect_right(fractions, (at, 1 << 62)) - 1
    return i >= 0 and fractions[i][0] <= at < fractions[i][1]


def mask_cprs(text: str) -> str:
    """`text` with every CPR number in it masked (see `_CPR_CANDIDATE`): DDMMYY-**** for one standing alone,
    its last four digits as **** inside a longer run of digits."""
    if not text:
        return text
    spans = _cpr_spans(text)
    if not spans:
        return text
    out, at = [], 0
    for start, six_end, end, whole in spans:
        if whole:
            out += [text[at:start], text[start:start + 6], "-****"]
        else:
            first = max(at, six_end)
            out += [text[at:first], "*" * (end - first)]
        at = max(at, end)
    out.append(text[at:])
    return "".join(out)


_PREFIX = re.compile(rf"[\dA-Z{re.escape(_SEPARATORS)}]{{1,32}}\Z")


def cpr_prefix_at_end(text: str) -> str:
    """The end of `text` that could be the start of a CPR number still being written (digits, the separators and
    the capitals of a replacement number, with a digit among them): a stream holds it back until its line is
    complete, so that `mask_cprs` sees the whole number. Built from the detector's own separators."""
    tail = _PREFIX.search(text)
    return tail[0] if tail and any(c.isdecimal() for c in tail[0]) else ""


def find_cprs(text: str) -> list[str]:
    """The CPR numbers `mask_cprs` would mask in `text` (for tests and checks of outputs)."""
    return [text[start:end] for start, _, end, _ in _cpr_spans(text)]


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
        return f"location number {quoted(value)} is not 13 digits"
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
        return f"{quoted(value)} is not one of the 98 Danish municipality codes"
    return None
