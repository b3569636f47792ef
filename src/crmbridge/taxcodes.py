"""Ukrainian tax identifiers: ЄДРПОУ (8 digits, legal entities) and РНОКПП (10 digits, persons).

Both carry a check digit. The sandbox seeds valid codes with it, and imports use it to tell a typo
from a real code before anything is written.
"""

from __future__ import annotations


def edrpou_check_digit(first7: str) -> int:
    """Check digit of a ЄДРПОУ from its first seven digits (the State Statistics algorithm)."""
    digits = [int(c) for c in first7]
    shift = 6 if 30_000_000 <= int(first7 + "0") < 60_000_000 else 0
    for extra in (0, 2):
        weights = [w + shift + extra for w in range(1, 8)]
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
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
