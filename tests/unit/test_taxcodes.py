"""ЄДРПОУ and РНОКПП check digits, against codes that exist.

Registered ЄДРПОУ codes: 00032129, 14360570 (АТ КБ «ПриватБанк»), and 40075815, 31316718,
32490244, which the old rule called invalid (they are in the 30,000,000–59,999,999 range, which has
its own weights). Valid РНОКПП: examples published with open-source validators (fre5h/rnokpp
README: 3652504575, 3068208400; DevelopingW/gov-validation-ua README: 3184710691; python-stdnum
`stdnum/ua/rntrc.py`: 1759013776; davidduke IPN validator tests: 2248000331).
"""

from __future__ import annotations

import pytest

from crmbridge.taxcodes import (
    edrpou_check_digit,
    is_valid_edrpou,
    is_valid_rnokpp,
    with_edrpou_check,
    with_rnokpp_check,
)

REAL_EDRPOU = ["00032129", "14360570", "40075815", "31316718", "32490244"]
REAL_RNOKPP = ["3652504575", "3068208400", "3184710691", "1759013776", "2248000331"]
# The РНОКПП rule takes the sum modulo 11, then modulo 10: remainders 0 and 10 share the check
# digit 0, so a code whose remainder is 0 or 10 (3068208400) has one-digit twins that pass. For
# the others every one-digit change is caught.
RNOKPP_WITHOUT_TWINS = ["3652504575", "3184710691", "1759013776", "2248000331"]


def one_digit_changes(code: str) -> list[str]:
    """Every code that differs from `code` in exactly one position."""
    return [
        code[:i] + d + code[i + 1 :] for i in range(len(code)) for d in "0123456789" if d != code[i]
    ]


@pytest.mark.parametrize("code", REAL_EDRPOU)
def test_registered_edrpou_codes_are_valid(code: str) -> None:
    assert is_valid_edrpou(code)


@pytest.mark.parametrize("code", REAL_EDRPOU)
def test_one_digit_changes_of_an_edrpou_are_caught_within_one_weighting(code: str) -> None:
    # One weighted sum modulo 11 catches every single-digit change. The rule has three
    # weightings, though: a change that moves the code across 30 or 60 million, or makes the
    # first sum leave 10 (the second pass), is checked with other weights and may pass.
    accepted = [c for c in one_digit_changes(code) if is_valid_edrpou(c)]
    other_weighting = [c for c in accepted if _in_30_60(c) != _in_30_60(code) or _first(c) == 10]
    assert accepted == other_weighting
    assert len(accepted) <= 2  # of 72 changes


def _in_30_60(code: str) -> bool:
    return 30_000_000 <= int(code) < 60_000_000


def _first(code: str) -> int:
    weights = (7, 1, 2, 3, 4, 5, 6) if _in_30_60(code) else (1, 2, 3, 4, 5, 6, 7)
    return sum(int(c) * w for c, w in zip(code[:7], weights, strict=True)) % 11


@pytest.mark.parametrize("code", REAL_RNOKPP)
def test_known_rnokpp_codes_are_valid(code: str) -> None:
    assert is_valid_rnokpp(code)


@pytest.mark.parametrize("code", RNOKPP_WITHOUT_TWINS)
def test_every_one_digit_change_of_an_rnokpp_is_invalid(code: str) -> None:
    accepted = [c for c in one_digit_changes(code) if is_valid_rnokpp(c)]
    assert accepted == []


def test_the_range_30_to_60_million_uses_its_own_weights() -> None:
    # 40075815: 4·7 + 0·1 + 0·2 + 7·3 + 5·4 + 8·5 + 1·6 = 115, 115 mod 11 = 5.
    assert edrpou_check_digit("4007581") == 5
    # The same first seven digits below 30 million would use the weights 1…7.
    assert edrpou_check_digit("1407581") == (1 + 8 + 0 + 28 + 25 + 48 + 7) % 11


def test_a_remainder_of_ten_retries_with_the_weights_plus_two() -> None:
    # The first seven digits (below 30 million) whose sum with the weights 1…7 leaves 10.
    first7 = next(
        f"{n:07d}"
        for n in range(10_000)
        if sum(int(c) * w for c, w in zip(f"{n:07d}", range(1, 8), strict=True)) % 11 == 10
    )
    second = sum(int(c) * w for c, w in zip(first7, range(3, 10), strict=True)) % 11
    assert edrpou_check_digit(first7) == (0 if second == 10 else second)


@pytest.mark.parametrize("bad", ["", "1436057", "143605700", "1436057O", "-1436057", "14 36057"])
def test_malformed_edrpou_is_invalid(bad: str) -> None:
    assert not is_valid_edrpou(bad)


def test_generated_codes_carry_the_right_check_digit() -> None:
    assert with_edrpou_check("4007581") == "40075815"
    assert with_edrpou_check("0003212") == "00032129"
    assert with_rnokpp_check("365250457") == "3652504575"
