"""M-CPR, M-GLN, M-MUNICIPALITY."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcom.identifiers import (
    MUNICIPALITY_CODES,
    check_cpr,
    check_gln,
    check_municipality,
    cpr_birth_date,
    make_gln,
    mask_cpr,
)


@pytest.mark.parametrize("cpr", ["2509479989",  # MedCom's test CPR: fails modulus 11, still valid
                                 "0101001234", "2902004234",  # 29 Feb 2000 (digit 7 = 4 -> 2000s)
                                 "3112999999", "0101907AB1", "0101901XY9"])  # replacement numbers
def test_valid_cpr(cpr: str) -> None:
    assert check_cpr(cpr) is None


@pytest.mark.parametrize("cpr", ["3102471234",  # 31 February
                                 "2902001234",  # 29 Feb 1900: digit 7 = 1 -> 1900s, not a leap year
                                 "0013001234", "123456789", "12345678901", "abcdefghij", "0101905AB1"])
def test_invalid_cpr(cpr: str) -> None:
    assert check_cpr(cpr) is not None


def test_cpr_century_rule() -> None:
    assert cpr_birth_date("0101371234").year == 1937
    assert cpr_birth_date("0101364234").year == 2036
    assert cpr_birth_date("0101374234").year == 1937
    assert cpr_birth_date("0101575234").year == 2057
    assert cpr_birth_date("0101585234").year == 1858
    assert cpr_birth_date("0101999234").year == 1999


def test_replacement_cpr_can_be_refused() -> None:
    assert check_cpr("0101907AB1", allow_replacement=False) is not None


def test_mask_keeps_birth_date_only() -> None:
    assert mask_cpr("2509479989") == "250947-****"
    assert "9989" not in (check_cpr("3102479989") or "")


def test_gln() -> None:
    assert check_gln("4006381333931") is None  # a well-known EAN-13
    assert check_gln("4006381333932") is not None
    assert check_gln("400638133393") is not None
    assert check_gln("400638133393x") is not None


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_made_gln_is_valid_and_every_other_check_digit_is_not(first12: str) -> None:
    gln = make_gln(first12)
    assert check_gln(gln) is None
    for digit in "0123456789":
        if digit != gln[-1]:
            assert check_gln(first12 + digit) is not None


def test_municipalities() -> None:
    assert len(MUNICIPALITY_CODES) == 98
    assert check_municipality("851") is None and check_municipality("0851") is None
    assert check_municipality("101") is None and check_municipality("860") is None
    for bad in ("411", "100", "999", "0", "85a", ""):  # 411 is Christiansø: not a municipality
        assert check_municipality(bad) is not None


def test_non_ascii_digits_are_not_digits() -> None:
    """Python's and XSD's \\d match any Unicode digit; identifiers are ASCII digits only."""
    assert check_cpr("250947998\u0be6") is not None  # TAMIL DIGIT ZERO
    assert check_gln("400638133393\u0661") is not None  # ARABIC-INDIC DIGIT ONE
    assert check_municipality("\u0668\u0665\u0661") is not None
