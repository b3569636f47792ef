"""The files of the manual bridge: which columns each kind of record has, named as the accountant
expects, and the checks every row passes before anything is written.

A file's kind is recognised by its headers, so an accountant can reorder or add columns (a
column of notes is ignored); a missing column the import needs is reported once, for the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from crmbridge.manual import sheets
from crmbridge.manual.sheets import CellError, Kind, Table

What = Literal["deals", "companies", "products", "invoices"]
WHATS: tuple[What, ...] = ("deals", "companies", "products", "invoices")


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: Kind
    required: bool = False
    minimum: Decimal | None = None  # values below are refused
    exclusive: bool = False  # the minimum itself is refused too (a quantity of 0)
    blank: bool = False  # a required column whose empty cell is the flow's to judge, not an error


@dataclass(frozen=True)
class Layout:
    what: What
    entity: str  # the entity of `ownership.entities` the file's records are
    columns: tuple[Column, ...]
    unique: tuple[str, ...]  # keys that identify a row: a second row with them is a duplicate
    marker: str  # the header that names this kind of file, for messages

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def kinds(self) -> list[Kind]:
        return [c.kind for c in self.columns]


ZERO = Decimal(0)
DEAL = Column("Угода №", "deal_id", "int", required=True, minimum=Decimal(1))
COMPANY = Column("Компанія №", "company_id", "int", required=True, minimum=Decimal(1))
COMPANY_NAME = Column("Компанія", "company", "text", required=True)
FULL_NAME = Column("Повна назва", "full_name", "text")
TAX_CODE = Column("ЄДРПОУ", "tax_code", "code", required=True)
# A company without a tax code is a prospect: the clients flow skips it, and so does an import.
PROSPECT_TAX_CODE = Column("ЄДРПОУ", "tax_code", "code", required=True, blank=True)
PRODUCT_CODE = Column("Код товару", "product_code", "code", required=True)
PRODUCT = Column("Товар", "product", "text", required=True)

LAYOUTS: dict[What, Layout] = {
    "deals": Layout(
        "deals",
        "deal",
        (
            DEAL,
            Column("Дата угоди", "date", "date"),
            Column("Назва угоди", "title", "text"),
            COMPANY,
            COMPANY_NAME,
            FULL_NAME,
            TAX_CODE,
            PRODUCT_CODE,
            PRODUCT,
            Column("Кількість", "quantity", "decimal", True, ZERO, exclusive=True),
            Column("Ціна", "price", "decimal", True, ZERO),
            Column("Сума", "amount", "decimal"),
        ),
        unique=("deal_id", "product_code"),
        marker="Угода №",
    ),
    "companies": Layout(
        "companies",
        "client",
        (COMPANY, COMPANY_NAME, FULL_NAME, PROSPECT_TAX_CODE),
        unique=("company_id",),
        marker="Компанія №",
    ),
    "products": Layout(
        "products",
        "product",
        (
            PRODUCT_CODE,
            PRODUCT,
            Column("Артикул", "sku", "text"),
            Column("Ціна", "price", "decimal", True, ZERO),
            Column("Ставка ПДВ", "vat_rate", "text"),
        ),
        unique=("product_code",),
        marker="Код товару",
    ),
    "invoices": Layout(
        "invoices",
        "invoice",
        (
            Column("Рахунок №", "number", "text", required=True),
            Column("Дата рахунку", "date", "date", required=True),
            DEAL,
            Column("Контрагент", "counterparty", "text"),
            Column("ЄДРПОУ", "tax_code", "code"),
            Column("Сума", "total", "decimal", True, ZERO),
            Column("Оплачено", "paid", "decimal", True, ZERO),
        ),
        unique=("number",),
        marker="Рахунок №",
    ),
}


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet shows it; 1 is the header row
    column: str  # the header, "" for a problem of the whole row or file
    message: str
    letter: str = ""

    def __str__(self) -> str:
        where = f"row {self.row}"
        if self.column:
            where += f", column {self.letter + ' ' if self.letter else ''}«{self.column}»"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, Any]


def recognise(table: Table) -> Layout:
    """The layout with the most of its columns in the file (the larger share on a tie), so a
    deals file with one misspelt header is still a deals file, reported as missing that column,
    and never taken for a file of companies, whose columns it also has."""
    present = set(table.headers)

    def score(layout: Layout) -> tuple[int, float]:
        found = len(present & set(layout.headers))
        return found, found / len(layout.columns)

    best = max(LAYOUTS.values(), key=score)
    if score(best)[0] < 2:
        known = ", ".join(f"«{layout.marker}» ({layout.what})" for layout in LAYOUTS.values())
        raise CellError(f"unknown kind of file: it needs the columns of one of {known}")
    return best


def parse(layout: Layout, table: Table) -> tuple[list[Row], list[Problem]]:
    """Every row typed and checked; problems collected for all rows, not only the first."""
    problems = [
        Problem(1, c.header, "the column is missing")
        for c in layout.columns
        if c.required and c.header not in table.headers
    ]
    present = [c for c in layout.columns if c.header in table.headers]
    rows: list[Row] = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, cells in table.rows:
        values: dict[str, Any] = {}
        found = [_cell(table, c, number, cells.get(c.header), values) for c in present]
        errors = [p for p in found if p is not None]
        problems += errors
        if errors:
            continue
        key = tuple(values.get(k) for k in layout.unique)
        if key in seen:
            same = " and ".join(f"«{c.header}»" for c in layout.columns if c.key in layout.unique)
            problems.append(Problem(number, "", f"duplicate of row {seen[key]} (same {same})"))
            continue
        seen[key] = number
        rows.append(Row(number, values))
    return rows, problems


def _cell(
    table: Table, column: Column, number: int, cell: Any, out: dict[str, Any]
) -> Problem | None:
    def problem(message: str) -> Problem:
        return Problem(number, column.header, message, table.letter(column.header))

    if sheets.parse_text(cell) == "":
        out[column.key] = None
        return problem("empty, but required") if column.required and not column.blank else None
    try:
        value = _PARSERS[column.kind](cell)
    except CellError as exc:
        return problem(str(exc))
    if column.minimum is not None and (
        value < column.minimum or (column.exclusive and value == column.minimum)
    ):
        bound = "more than" if column.exclusive else "at least"
        return problem(f"{value}: must be {bound} {column.minimum}")
    out[column.key] = value
    return None


_PARSERS: dict[Kind, Any] = {
    "text": sheets.parse_text,
    "code": sheets.parse_code,
    "int": sheets.parse_int,
    "date": sheets.parse_date,
    "decimal": sheets.parse_decimal,
}
