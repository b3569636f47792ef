"""Draws the «Рахунок на оплату» PDF with fpdf2 and the DejaVu fonts shipped in the package.

The fonts are embedded (subset TrueType), so Cyrillic renders on any machine, as in the PDFs a
BAS print form writes (reference §3.1).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from crmbridge.sandbox.bas.printdata import InvoicePrint

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT = "DejaVu"
# column widths (mm) of the lines table: №, name, qty, unit, price, sum
WIDTHS = (10, 88, 18, 16, 24, 24)
HEADERS = ("№", "Товари (роботи, послуги)", "Кіл-сть", "Од.", "Ціна", "Сума")


def money(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", " ").replace(".", ",")


def quantity(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


class _Sheet(FPDF):
    def __init__(self, fonts: Path) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.add_page()

    def line_of(self, text: str, size: float = 9, style: str = "", height: float = 5) -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def labelled(self, label: str, lines: list[str]) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(28, 5, label)
        self.set_font(FONT, "", 9)
        self.multi_cell(0, 5, "\n".join(x for x in lines if x), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def row(self, cells: tuple[str, ...], bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", 8.5)
        aligns = ("C", "L", "R", "C", "R", "R")
        for width, text, align in zip(WIDTHS, cells, aligns, strict=True):
            self.cell(width, 6, text, border=1, align=align)
        self.ln(6)

    def total(self, label: str, value: str) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(sum(WIDTHS[:-1]), 6, label, align="R")
        self.cell(WIDTHS[-1], 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _clip(sheet: _Sheet, text: str, width: float) -> str:
    sheet.set_font(FONT, "", 8.5)
    while text and sheet.get_string_width(text) > width - 2:
        text = text[:-2] + "…"
    return text


def render(data: InvoicePrint, fonts: Path = ASSETS) -> bytes:
    sheet = _Sheet(fonts)
    sheet.labelled(
        "Постачальник:",
        [data.supplier, data.supplier_codes, data.supplier_bank, data.supplier_address],
    )
    sheet.labelled("Покупець:", [data.buyer, data.buyer_codes])
    if data.contract:
        sheet.labelled("Договір:", [data.contract])
    sheet.ln(2)
    sheet.line_of(
        f"Рахунок на оплату № {data.number} від {data.date}", size=14, style="B", height=8
    )
    sheet.ln(3)
    sheet.row(HEADERS, bold=True)
    for line in data.lines:
        name = _clip(sheet, line.name, WIDTHS[1])
        cells = (
            str(line.n),
            name,
            quantity(line.quantity),
            line.unit,
            money(line.price),
            money(line.total),
        )
        sheet.row(cells)
    sheet.ln(1)
    sheet.total("Разом:", money(sum((x.total for x in data.lines), Decimal(0))))
    sheet.total("У тому числі ПДВ:" if data.vat_included else "ПДВ:", money(data.vat))
    sheet.total("Всього до сплати:", money(data.total))
    sheet.ln(3)
    sheet.line_of(f"Всього найменувань {len(data.lines)}, на суму {money(data.total)} грн.")
    sheet.line_of(data.in_words, style="B")
    sheet.ln(8)
    sheet.line_of(
        "Виписав(ла): ____________________        Рахунок дійсний до сплати 5 банківських днів."
    )
    return bytes(sheet.output())
