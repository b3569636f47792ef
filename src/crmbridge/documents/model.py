"""What a printed «Рахунок на оплату» shows, as plain values, and how its numbers are written.

The contract between `gather` (reads BAS) and `draw` (writes the PDF): `gather` turns 1C records
into an `InvoicePrint`, `draw` turns an `InvoicePrint` into bytes. Texts are final here (codes with
their labels, the contract's presentation), so `draw` decides layout only, and a test can check the
print data without parsing a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

CENT = Decimal("0.01")
_MONTHS = "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня"
_MONTH_NAMES = tuple(_MONTHS.split())


@dataclass(frozen=True)
class Party:
    name: str  # the full (legal) name
    codes: tuple[str, ...]  # «код за ЄДРПОУ 43987125», «ІПН 439871226598», «ИНН …», «КПП …»
    address: str = ""


@dataclass(frozen=True)
class Account:
    iban: str
    bank: str
    bank_code: str  # «МФО 322313» (bas-buh), «БИК …» (bp30)


@dataclass(frozen=True)
class Line:
    n: int
    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoicePrint:
    number: str
    date: datetime
    supplier: Party
    account: Account | None
    vat_status: str  # «Платник ПДВ, ІПН …» or «Не є платником ПДВ»
    buyer: Party
    contract: str
    lines: tuple[Line, ...]
    vat: Decimal
    vat_included: bool  # the prices include VAT (СуммаВключаетНДС)
    total: Decimal  # СуммаДокумента: what is to be paid


def money(value: Decimal) -> str:
    """`1 578,00`: thin groups of thousands and a decimal comma, as Ukrainian forms print."""
    text = f"{value.quantize(CENT):,.2f}"
    return text.replace(",", " ").replace(".", ",")


def quantity(value: Decimal) -> str:
    """`2`, `1,5`: no trailing zeros."""
    return f"{value.normalize():f}".replace(".", ",")


def long_date(value: datetime) -> str:
    """`4 березня 2026 р.`, the way BAS prints a document's date in its title."""
    return f"{value.day} {_MONTH_NAMES[value.month - 1]} {value.year} р."
