"""Row checks of the manual bridge's files: each problem named by row and column, all of them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crmbridge.manual.layouts import LAYOUTS, Problem, parse, recognise
from crmbridge.manual.sheets import CellError, Table
from crmbridge.taxcodes import tax_code_problem

DEALS = LAYOUTS["deals"]
GOOD = {
    "Угода №": "5",
    "Компанія №": "1",
    "Компанія": "Альфа-Трейд",
    "ЄДРПОУ": "31000000",
    "Код товару": "00-00000001",
    "Товар": "Папір офісний",
    "Кількість": "2",
    "Ціна": "189,00",
}


def table(*rows: dict[str, Any], headers: list[str] | None = None) -> Table:
    names = headers or DEALS.headers
    return Table(names, [(n, {h: r.get(h) for h in names}) for n, r in enumerate(rows, start=2)])


def test_a_good_row_is_typed() -> None:
    rows, problems = parse(DEALS, table(GOOD))
    assert problems == []
    [row] = rows
    assert row.number == 2
    assert row.values["deal_id"] == 5 and row.values["quantity"] == Decimal(2)
    assert row.values["price"] == Decimal("189.00") and row.values["tax_code"] == "31000000"
    assert row.values["date"] is None  # optional and empty


def test_every_kind_of_bad_row_is_reported_with_row_and_column() -> None:
    rows, problems = parse(
        DEALS,
        table(
            GOOD,
            {**GOOD, "Угода №": "6", "Кількість": "-1"},
            {**GOOD, "Угода №": "7", "Кількість": "0"},
            {**GOOD, "Угода №": "8", "Товар": "  "},
            {**GOOD, "Угода №": "9", "Ціна": "дорого"},
            {**GOOD, "Угода №": "10", "Дата угоди": "31.02.2026"},
            dict(GOOD),  # a copy of row 2
        ),
    )
    assert [r.number for r in rows] == [2]
    assert [str(p) for p in problems] == [
        "row 3, column J «Кількість»: -1: must be more than 0",
        "row 4, column J «Кількість»: 0: must be more than 0",
        "row 5, column I «Товар»: empty, but required",
        "row 6, column K «Ціна»: 'дорого' is not a number",
        "row 7, column B «Дата угоди»: '31.02.2026' is not a date (dd.mm.yyyy)",
        "row 8: duplicate of row 2 (same «Угода №» and «Код товару»)",
    ]


def test_a_missing_required_column_is_reported_once_for_the_file() -> None:
    headers = [h for h in DEALS.headers if h != "Ціна"]
    rows, problems = parse(DEALS, table(GOOD, headers=headers))
    assert problems == [Problem(1, "Ціна", "the column is missing")]
    assert len(rows) == 1  # the other columns still parse; the import refuses on the problem


def test_the_kind_of_file_is_recognised_by_its_headers() -> None:
    assert recognise(Table(DEALS.headers, [])).what == "deals"
    assert recognise(Table(["Нотатки", *LAYOUTS["companies"].headers], [])).what == "companies"
    assert recognise(Table(LAYOUTS["products"].headers, [])).what == "products"
    assert recognise(Table(LAYOUTS["invoices"].headers, [])).what == "invoices"
    with pytest.raises(CellError, match="unknown kind of file"):
        recognise(Table(["Назва", "Сума"], []))


def test_a_deals_file_with_a_misspelt_header_is_not_taken_for_companies() -> None:
    headers = ["Угода", *DEALS.headers[1:]]  # «№» lost
    assert recognise(Table(headers, [])).what == "deals"
    _, problems = parse(DEALS, table(GOOD, headers=headers))
    assert Problem(1, "Угода №", "the column is missing") in problems


@pytest.mark.parametrize(
    ("code", "kind", "problem"),
    [
        ("31000000", "edrpou", None),
        ("3124578966", "edrpou", None),  # a ФОП's РНОКПП
        ("3100007", "edrpou", "3100007 has 7 digits; an ЄДРПОУ has 8 digits, РНОКПП 10"),
        ("310000071", "edrpou", "310000071 has 9 digits; an ЄДРПОУ has 8 digits, РНОКПП 10"),
        ("3100000A", "edrpou", "'3100000A' must be digits only"),
        ("439871226598", "inn", None),
        ("31000000", "inn", "31000000 has 8 digits; an ИНН has 10 or 12"),
        ("44000006", "edrpou", "44000006 fails the ЄДРПОУ check digit (a typo?)"),
        ("3124578960", "edrpou", "3124578960 fails the РНОКПП check digit (a typo?)"),
    ],
)
def test_tax_code_lengths_and_check_digits(code: str, kind: str, problem: str | None) -> None:
    assert tax_code_problem(code, kind) == problem
