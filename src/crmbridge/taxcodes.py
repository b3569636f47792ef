"""Ukrainian tax identifiers: ЄДРПОУ (8 digits, legal entities) and РНОКПП (10 digits, persons).

Both carry a check digit. The clients flow and the manual bridge refuse a code that fails it (a
typo would make a counterparty no bank statement will ever match), and the sandbox seeds valid
codes with it. `tax_code_problem` is that one rule for both.
"""

from __future__ import annotations

# The State Statistics rule: weights 1…7, or 7,1,2,3,4,5,6 for codes from 30,000,000 to
# 59,999,999; when the weighted sum leaves 10 (mod 11), the same again with every weight + 2
# (3…9, or 9,3,4,5,6,7,8); a second 10 gives 0.
_EDRPOU_WEIGHTS = (1, 2, 3, 4, 5, 6, 7)
_EDRPOU_WEIGHTS_30_60 = (7, 1, 2, 3, 4, 5, 6)


def edrpou_check_digit(first7: str) -> int:
    """Check digit of a ЄДРПОУ from its first seven digits."""
    digits = [int(c) for c in first7]
    in_30_60 = 30_000_000 <= int(first7) * 10 < 60_000_000
    weights = _EDRPOU_WEIGHTS_30_60 if in_30_60 else _EDRPOU_WEIGHTS
    for extra in (0, 2):
        remainder = sum(d * (w + extra) for d, w in zip(digits, weights, strict=True)) % 11
        if remainder < 10:
            return remainder
    return 0


def is_valid_edrpou(code: str) -> bool:
    return len(code) == 8 and code.isdigit() and edrpou_check_digit(code[:7]) == int(code[7])


_RNOKPP_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)


def rnokpp_check_digit(first9: str) -> int:
    """Check digit of a РНОКПП (individual taxpayer number) from its first nine digits."""
    total = sum(int(c) * w for c, w in zip(first9, _RNOKPP_WEIGHTS, strict=True))
    return (total % 11) % 10


def is_valid_rnokpp(code: str) -> bool:
    return len(code) == 10 and code.isdigit() and rnokpp_check_digit(code[:9]) == int(code[9])


def with_edrpou_check(first7: str) -> str:
    return first7 + str(edrpou_check_digit(first7))


def with_rnokpp_check(first9: str) -> str:
    return first9 + str(rnokpp_check_digit(first9))


def tax_code_problem(code: str, kind: str) -> str | None:
    """Why a client's tax code cannot be right, or None. Kind `edrpou` (BAS): an 8-digit ЄДРПОУ
    or a 10-digit РНОКПП, with a matching check digit. Kind `inn` (1С:БП 3.0 keeps an ИНН of 10
    or 12 digits): only the length is checked."""
    lengths = (10, 12) if kind == "inn" else (8, 10)
    if not code.isdigit() or not code.isascii():
        return f"{code!r} must be digits only"
    if len(code) not in lengths:
        names = "ИНН has 10 or 12" if kind == "inn" else "ЄДРПОУ has 8 digits, РНОКПП 10"
        return f"{code} has {len(code)} digits; an {names}"
    if kind == "inn":
        return None
    if len(code) == 8 and not is_valid_edrpou(code):
        return f"{code} fails the ЄДРПОУ check digit (a typo?)"
    if len(code) == 10 and not is_valid_rnokpp(code):
        return f"{code} fails the РНОКПП check digit (a typo?)"
    return None
