"""Draws the «Рахунок на оплату» of an `InvoicePrint` with fpdf2: pure, no network, no clock.

The layout follows the BAS print form (supplier, buyer and contract above the title, the lines
table, totals, the amount in words, the signature line). The DejaVu fonts shipped in the package
are embedded as subset TrueType, so Cyrillic renders on any machine, as in the PDFs 1C writes
(reference §3.1). The same input gives the same bytes: the creation date is the invoice's date
and nothing else in the file depends on when or where it was drawn.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from crmbridge.documents.model import InvoicePrint, Line, long_date, money, quantity
from crmbridge.documents.words import hryvnias

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT = "DejaVu"
LABEL = 30  # mm: the width of «Постачальник:» and the like
# the lines table: №, name, quantity, unit, price, sum (mm, 180 in all)
WIDTHS = (10, 84, 18, 16, 26, 26)
HEADINGS = ("№", "Товари (роботи, послуги)", "Кіл-сть", "Од.", "Ціна", "Сума")
ALIGN = ("CENTER", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT")


class _Sheet(FPDF):
    def __init__(self, fonts: Path) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def text_line(self, text: str, size: float = 9, style: str = "", height: float = 5) -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def labelled(self, label: str, first: str, rest: list[str]) -> None:
        """«Label:» then the first line in bold and the rest beneath it, indented."""
        self.set_font(FONT, "B", 9)
        self.cell(LABEL, 5, label)
        self.multi_cell(0, 5, first, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9)
        for text in (x for x in rest if x):
            self.set_x(self.l_margin + LABEL)
            self.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def total(self, label: str, value: Decimal) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(sum(WIDTHS[:-1]), 6, label, align="R")
        self.cell(WIDTHS[-1], 6, money(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(data: InvoicePrint, fonts: Path = FONTS) -> bytes:
    sheet = _Sheet(fonts)
    title = f"Рахунок на оплату № {data.number} від {long_date(data.date)}"
    sheet.set_title(title)
    sheet.set_lang("uk")
    sheet.set_creation_date(data.date.replace(tzinfo=UTC))  # not "now": same input, same bytes
    _parties(sheet, data)
    sheet.ln(2)
    sheet.text_line(title, size=13, style="B", height=8)
    sheet.line(sheet.l_margin, sheet.get_y(), sheet.w - sheet.r_margin, sheet.get_y())
    sheet.ln(4)
    _table(sheet, data.lines)
    _totals(sheet, data)
    sheet.ln(10)
    sheet.text_line("Виписав(ла): ______________________________", style="B")
    return bytes(sheet.output())


def _parties(sheet: _Sheet, data: InvoicePrint) -> None:
    supplier, account = data.supplier, data.account
    bank = f"Р/р {account.iban} у {account.bank}, {account.bank_code}" if account else ""
    address = f"Адреса: {supplier.address}" if supplier.address else ""
    details = [bank, address, ", ".join(supplier.codes), data.vat_status]
    sheet.labelled("Постачальник:", supplier.name, details)
    sheet.labelled("Покупець:", data.buyer.name, [", ".join(data.buyer.codes)])
    if data.contract:
        sheet.labelled("Договір:", data.contract, [])


def _table(sheet: _Sheet, lines: tuple[Line, ...]) -> None:
    sheet.set_font(FONT, "", 8.5)
    headings = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with sheet.table(
        col_widths=WIDTHS,
        text_align=ALIGN,
        headings_style=headings,
        line_height=5,
        width=sum(WIDTHS),
        align="LEFT",
    ) as table:
        table.row(HEADINGS)
        for line in lines:
            table.row(_cells(line))
    sheet.ln(1)


def _cells(line: Line) -> tuple[str, ...]:
    amounts = (money(line.price), money(line.total))
    return (str(line.n), line.name, quantity(line.quantity), line.unit, *amounts)


def _totals(sheet: _Sheet, data: InvoicePrint) -> None:
    rows = sum((x.total for x in data.lines), Decimal(0))
    if data.vat_included:
        sheet.total("Разом:", rows)
        sheet.total("У тому числі ПДВ:", data.vat)
    else:
        sheet.total("Разом без ПДВ:", rows)
        sheet.total("ПДВ:", data.vat)
    sheet.total("Всього до сплати:", data.total)
    sheet.ln(3)
    count = f"Всього найменувань {len(data.lines)}, на суму {money(data.total)} грн."
    sheet.text_line(count)
    sheet.text_line(hryvnias(data.total), style="B")
    if data.vat:
        sheet.text_line(f"У т.ч. ПДВ: {money(data.vat)} грн.")
