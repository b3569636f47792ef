"""Reading and writing the manual bridge's files: what Excel and LibreOffice save, typed cells."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from crmbridge.errors import ConfigError
from crmbridge.manual import sheets
from crmbridge.manual.sheets import CellError


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2,5", Decimal("2.5")),
        ("1 450,00", Decimal("1450.00")),
        ("1\u00a0450,00", Decimal("1450.00")),  # Excel's non-breaking thousands space
        ("1.234,50", Decimal("1234.50")),
        ("1,234.50", Decimal("1234.50")),
        ("189", Decimal(189)),
        (189.5, Decimal("189.5")),
        (3, Decimal(3)),
        (" -2 ", Decimal(-2)),
    ],
)
def test_numbers_as_people_type_them(cell: object, expected: Decimal) -> None:
    assert sheets.parse_decimal(cell) == expected


@pytest.mark.parametrize("cell", ["два", "1,2,3x", "NaN", "Infinity", True])
def test_what_is_not_a_number_is_refused(cell: object) -> None:
    with pytest.raises(CellError):
        sheets.parse_decimal(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("28.11.2026", date(2026, 11, 28)),
        ("28.11.26", date(2026, 11, 28)),
        ("2026-11-28", date(2026, 11, 28)),
        ("2026-11-28T10:15:00+02:00", date(2026, 11, 28)),
        (46354, date(2026, 11, 28)),  # an Excel serial number
        (46354.5, date(2026, 11, 28)),  # … with a time of day
        ("46354", date(2026, 11, 28)),  # … saved as text by a CSV export
        (datetime(2026, 11, 28, 9, 30), date(2026, 11, 28)),
    ],
)
def test_dates_in_every_form_a_spreadsheet_saves(cell: object, expected: date) -> None:
    assert sheets.parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["31.02.2026", "завтра", -5, 0])
def test_what_is_not_a_date_is_refused(cell: object) -> None:
    with pytest.raises(CellError):
        sheets.parse_date(cell)


def test_a_code_excel_made_a_number_gets_its_leading_zeros_back() -> None:
    assert sheets.parse_code(32129) == "00032129"
    assert sheets.parse_code(32129.0) == "00032129"
    assert sheets.parse_code(" 3100 0007 ") == "31000007"
    assert sheets.parse_code("00-00000001") == "00-00000001"
    assert sheets.parse_int("12,0") == 12
    with pytest.raises(CellError):
        sheets.parse_int("12,5")


def test_csv_is_written_for_excel_with_bom_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    row = [7, date(2026, 11, 28), "ТОВ «Альфа»; філія", Decimal("1450.5")]
    sheets.write(
        path, ["Угода №", "Дата", "Компанія", "Сума"], ["int", "date", "text", "decimal"], [row]
    )
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines == ["Угода №;Дата;Компанія;Сума", '7;28.11.2026;"ТОВ «Альфа»; філія";1450,50']


def test_xlsx_is_written_with_types_and_number_formats(tmp_path: Path) -> None:
    path = tmp_path / "deals.xlsx"
    kinds: list[sheets.Kind] = ["int", "date", "code", "decimal"]
    sheets.write(
        path,
        ["Угода №", "Дата", "ЄДРПОУ", "Сума"],
        kinds,
        [[7, date(2026, 11, 28), "00032129", Decimal("1450.50")]],
    )
    sheet = load_workbook(path).worksheets[0]
    number, day, code, amount = sheet[2]
    assert number.value == 7
    assert isinstance(day.value, datetime) and day.value.date() == date(2026, 11, 28)
    assert day.number_format == "DD.MM.YYYY"
    assert code.value == "00032129" and code.number_format == "@"
    assert amount.value == 1450.5 and amount.number_format == "#,##0.00"


def test_csv_saved_by_excel_in_windows_1251_is_read(tmp_path: Path) -> None:
    path = tmp_path / "from-excel.csv"
    path.write_bytes("Угода №;Кількість\r\n5;2,5\r\n".encode("cp1251"))
    table = sheets.read(path)
    assert table.headers == ["Угода №", "Кількість"]
    assert table.rows == [(2, {"Угода №": "5", "Кількість": "2,5"})]


def test_csv_saved_by_libreoffice_with_commas_and_quoted_decimals_is_read(tmp_path: Path) -> None:
    path = tmp_path / "from-calc.csv"
    path.write_text('Угода №,Кількість\n5,"2,5"\n\n,\n6,"1 000,00"\n', encoding="utf-8")
    table = sheets.read(path)
    assert [n for n, _ in table.rows] == [2, 5]  # empty lines skipped, numbers as shown
    assert table.rows[1][1]["Кількість"] == "1 000,00"
    assert table.letter("Кількість") == "B"


def test_xlsx_header_with_bom_and_spaces_and_a_title_row_above(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([None, None])
    sheet.append(["\ufeffУгода № ", " Сума"])
    sheet.append([5, "1450,50"])
    path = tmp_path / "quirks.xlsx"
    book.save(path)
    table = sheets.read(path)
    assert table.headers == ["Угода №", "Сума"]
    assert table.rows == [(3, {"Угода №": 5, "Сума": "1450,50"})]


def test_unreadable_files_get_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        sheets.read(tmp_path / "missing.xlsx")
    odt = tmp_path / "deals.ods"
    odt.write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"read \.xlsx or \.csv"):
        sheets.read(odt)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a readable XLSX"):
        sheets.read(broken)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(ConfigError, match="empty"):
        sheets.read(empty)


def test_a_failed_write_leaves_the_previous_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("yesterday's file", encoding="utf-8")
    with pytest.raises(ValueError):  # a row shorter than the headers: a bug, not a file problem
        sheets.write(path, ["Угода №", "Сума"], ["int", "decimal"], [[1]])
    assert path.read_text(encoding="utf-8") == "yesterday's file"
    assert [p.name for p in tmp_path.iterdir()] == ["deals.csv"]
