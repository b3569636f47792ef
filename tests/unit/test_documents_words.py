"""Invoice totals in Ukrainian words (the line under the table of a printed invoice)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmbridge.documents.words import hryvnias, plural


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "Нуль гривень 00 копійок"),
        ("1", "Одна гривня 00 копійок"),
        ("2.01", "Дві гривні 01 копійка"),
        ("5.02", "П'ять гривень 02 копійки"),
        ("11", "Одинадцять гривень 00 копійок"),
        ("21.5", "Двадцять одна гривня 50 копійок"),
        ("1578", "Одна тисяча п'ятсот сімдесят вісім гривень 00 копійок"),
        ("2000", "Дві тисячі гривень 00 копійок"),
        ("12345.67", "Дванадцять тисяч триста сорок п'ять гривень 67 копійок"),
        ("1000000", "Один мільйон гривень 00 копійок"),
        ("2304000.99", "Два мільйони триста чотири тисячі гривень 99 копійок"),
        ("0.005", "Нуль гривень 01 копійка"),
    ],
)
def test_hryvnias(amount: str, words: str) -> None:
    assert hryvnias(Decimal(amount)) == words


def test_plural_forms() -> None:
    forms = ("гривня", "гривні", "гривень")
    assert [plural(n, *forms) for n in (1, 3, 5, 11, 14, 21, 22, 25, 111, 101)] == [
        "гривня",
        "гривні",
        "гривень",
        "гривень",
        "гривень",
        "гривня",
        "гривні",
        "гривень",
        "гривень",
        "гривня",
    ]
