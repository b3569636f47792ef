"""The «Рахунок на оплату» drawing: every value lands on the page, the same input gives the same
bytes, and a long invoice wraps and breaks pages instead of clipping."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from pypdf import PdfReader

from crmbridge.documents.draw import render
from crmbridge.documents.model import Account, InvoicePrint, Line, Party, long_date, money, quantity

INVOICE = InvoicePrint(
    number="СБ00-000042",
    date=datetime(2026, 3, 4, 10, 15),
    supplier=Party(
        "Товариство з обмеженою відповідальністю «Торговий дім Сандбокс»",
        ("код за ЄДРПОУ 43987125",),
        "01001, м. Київ, вул. Хрещатик, 1",
    ),
    account=Account("UA213223130000026007233566001", "АТ «Сандбокс Банк»", "МФО 322313"),
    vat_status="Платник ПДВ, ІПН 439871226598",
    buyer=Party("ТОВ «Альфа-Трейд»", ("код за ЄДРПОУ 32855961", "ІПН 328559626544")),
    contract="Основний договір № Д-0001 від 01.01.2025",
    lines=(
        Line(1, "Папір офісний А4", Decimal(2), "пач", Decimal("189.00"), Decimal("378.00")),
        Line(2, "Монтаж обладнання", Decimal("1.5"), "год", Decimal(800), Decimal("1200.00")),
    ),
    vat=Decimal("263.00"),
    vat_included=True,
    total=Decimal("1578.00"),
)


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_every_value_is_on_the_page() -> None:
    text = text_of(render(INVOICE))
    assert f"Рахунок на оплату № СБ00-000042 від {long_date(INVOICE.date)}" in text
    for value in (INVOICE.supplier.name, INVOICE.supplier.address, *INVOICE.supplier.codes):
        assert value in text
    assert "Р/р UA213223130000026007233566001 у АТ «Сандбокс Банк», МФО 322313" in text
    assert "Платник ПДВ, ІПН 439871226598" in text
    assert INVOICE.buyer.name in text and ", ".join(INVOICE.buyer.codes) in text
    assert "Договір: Основний договір № Д-0001 від 01.01.2025" in text
    assert "1 Папір офісний А4 2 пач 189,00 378,00" in text
    assert "2 Монтаж обладнання 1,5 год 800,00 1 200,00" in text
    assert "Разом: 1 578,00 У тому числі ПДВ: 263,00 Всього до сплати: 1 578,00" in text
    assert "Всього найменувань 2, на суму 1 578,00 грн." in text
    assert "Одна тисяча п'ятсот сімдесят вісім гривень 00 копійок" in text
    assert "Виписав(ла):" in text


def test_vat_on_top_of_prices_and_a_non_payer() -> None:
    data = replace(INVOICE, vat_included=False, vat_status="Не є платником ПДВ")
    text = text_of(render(data))
    assert "Разом без ПДВ: 1 578,00 ПДВ: 263,00" in text
    assert "Не є платником ПДВ" in text and "Платник ПДВ," not in text


def test_same_input_same_bytes_and_the_date_is_the_invoices() -> None:
    first, second = render(INVOICE), render(INVOICE)
    assert first == second
    assert b"/CreationDate (D:20260304101500Z)" in first
    later = render(replace(INVOICE, date=datetime(2026, 3, 5, 9, 0)))
    assert later != first


def test_long_names_wrap_and_many_lines_take_more_pages() -> None:
    name = "Стелаж металевий збірний п'ятиполичний з оцинкованої сталі, 180×90×40 см, сірий"
    lines = tuple(Line(n, name, Decimal(1), "шт", Decimal(100), Decimal(100)) for n in range(1, 61))
    pdf = render(replace(INVOICE, lines=lines, total=Decimal(6000)))
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    text = text_of(pdf)
    assert text.count("180×90×40 см, сірий") == 60  # wrapped, never clipped
    assert "Шість тисяч гривень 00 копійок" in text


def test_number_formats() -> None:
    assert money(Decimal("1234567.891")) == "1 234 567,89"
    assert money(Decimal(0)) == "0,00"
    assert quantity(Decimal("2.000")) == "2" and quantity(Decimal("0.250")) == "0,25"
    assert long_date(datetime(2025, 12, 31)) == "31 грудня 2025 р."
