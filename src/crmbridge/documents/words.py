"""Amounts in Ukrainian words for the printed invoice («Одна тисяча двісті гривень 00 копійок»)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_UNITS = ("", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять")
_FEMININE = {1: "одна", 2: "дві"}
_TEENS = (
    "десять",
    "одинадцять",
    "дванадцять",
    "тринадцять",
    "чотирнадцять",
    "п'ятнадцять",
    "шістнадцять",
    "сімнадцять",
    "вісімнадцять",
    "дев'ятнадцять",
)
_TENS: tuple[str, ...] = ("", "", "двадцять", "тридцять", "сорок", "п'ятдесят", "шістдесят")
_TENS += ("сімдесят", "вісімдесят", "дев'яносто")
_HUNDREDS: tuple[str, ...] = ("", "сто", "двісті", "триста", "чотириста", "п'ятсот", "шістсот")
_HUNDREDS += ("сімсот", "вісімсот", "дев'ятсот")
# (one, few, many, feminine?) from the smallest scale up
_SCALES = (
    ("гривня", "гривні", "гривень", True),
    ("тисяча", "тисячі", "тисяч", True),
    ("мільйон", "мільйони", "мільйонів", False),
    ("мільярд", "мільярди", "мільярдів", False),
)


def plural(n: int, one: str, few: str, many: str) -> str:
    if 11 <= n % 100 <= 14:
        return many
    if n % 10 == 1:
        return one
    return few if 2 <= n % 10 <= 4 else many


def _triple(n: int, feminine: bool) -> list[str]:
    words = [_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest < 20:
        return [*words, _TEENS[rest - 10]]
    units = rest % 10
    unit = _FEMININE[units] if feminine and units in _FEMININE else _UNITS[units]
    return [*words, _TENS[rest // 10], unit]


def hryvnias(amount: Decimal) -> str:
    """The amount in words with its kopecks in digits, capitalised, as on Ukrainian invoices."""
    cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    whole, kopecks = divmod(cents, 100)
    words: list[str] = []
    for scale, (one, few, many, feminine) in enumerate(_SCALES):
        part = whole // 1000**scale % 1000
        if part or scale == 0:
            words = [*_triple(part, feminine), plural(part, one, few, many), *words]
    text = " ".join(w for w in words if w)
    if whole == 0:
        text = "нуль гривень"
    text = f"{text} {kopecks:02d} {plural(kopecks, 'копійка', 'копійки', 'копійок')}"
    return text[0].upper() + text[1:]
