"""Table files as a person's spreadsheet program writes and reads them: XLSX and CSV.

Writing: XLSX with real types (dates as dates, amounts as numbers with a `0.00` format, codes as
text so Excel keeps their leading zeros); CSV in UTF-8 with a BOM and `;` between columns, which
is what Excel with a Ukrainian locale opens without a wizard.

Reading: whatever Excel or LibreOffice saved: a BOM or none, `;` or `,` or tab, a comma as the
decimal separator, spaces between thousands, dates as `dd.mm.yyyy`, ISO or an Excel serial number.
Cells come back as they are (str, int, float, datetime…); `parse_*` turn them into values and
raise `CellError` with a message for the person who typed them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zipfile import BadZipFile

from crmbridge.errors import ConfigError

Kind = Literal["text", "code", "int", "date", "decimal"]
FORMATS: dict[Kind, str] = {
    "text": "@",
    "code": "@",
    "int": "0",
    "date": "DD.MM.YYYY",
    "decimal": "#,##0.00",
}
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 (Lotus's leap-year bug included)


class CellError(ValueError):
    """A cell that does not hold what its column needs."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number as the spreadsheet shows it, cells)

    def letter(self, header: str) -> str:
        """The column letter a person sees (A, B, …) of a header."""
        from openpyxl.utils import get_column_letter

        return get_column_letter(self.headers.index(header) + 1)


def digest(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(path: Path, headers: Sequence[str], kinds: Sequence[Kind], rows: list[list[Any]]) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ConfigError(f"{path.name}: write .xlsx or .csv")
    # Written aside, then renamed: a reader never sees half a file, and a failed export leaves
    # the previous file as it was.
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".xlsx":
            _write_xlsx(partial, headers, kinds, rows)
        else:
            _write_csv(partial, headers, kinds, rows)
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    finally:
        partial.unlink(missing_ok=True)


def _write_xlsx(
    path: Path, headers: Sequence[str], kinds: Sequence[Kind], rows: list[list[Any]]
) -> None:
    # openpyxl takes 0.2 s to import: only the commands that read or write XLSX pay it.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(headers))
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for n, (header, kind) in enumerate(zip(headers, kinds, strict=True), start=1):
        letter = get_column_letter(n)
        sheet.column_dimensions[letter].width = max(12, min(48, len(header) + 4))
        for (cell,) in sheet.iter_rows(min_row=2, min_col=n, max_col=n):
            cell.number_format = FORMATS[kind]
    sheet.freeze_panes = "A2"
    book.save(path)


def _write_csv(
    path: Path, headers: Sequence[str], kinds: Sequence[Kind], rows: list[list[Any]]
) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow(_shown(v, k) for v, k in zip(row, kinds, strict=True))


def _shown(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%d.%m.%Y")
    if kind == "decimal":
        return f"{Decimal(str(value)):.2f}".replace(".", ",")
    return str(value)


def read(path: Path) -> Table:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if suffix == ".xlsx":
        grid = _read_xlsx(path)
    elif suffix == ".csv":
        grid = _read_csv(path)
    else:
        raise ConfigError(f"{path.name}: read .xlsx or .csv (save the sheet in one of those)")
    return _table(path, grid)


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, BadZipFile, InvalidFileException) as exc:
        raise ConfigError(f"{path.name}: not a readable XLSX file ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")  # Excel's "CSV" (not "CSV UTF-8") on a Ukrainian Windows
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _table(path: Path, grid: list[list[Any]]) -> Table:
    filled = [
        (n, row) for n, row in enumerate(grid, start=1) if any(_blank(c) is False for c in row)
    ]
    if not filled:
        raise ConfigError(f"{path.name}: the file is empty")
    header_number, header_row = filled[0]
    headers = [_header(c) for c in header_row]
    while headers and not headers[-1]:
        headers.pop()
    rows = [
        (n, {h: (row[i] if i < len(row) else None) for i, h in enumerate(headers) if h})
        for n, row in filled[1:]
        if n > header_number
    ]
    return Table(headers, rows)


def _header(cell: Any) -> str:
    """A header as typed, without a BOM and with any run of spaces (NBSP too) as one space."""
    return " ".join(str(cell).replace("\ufeff", "").split()) if cell is not None else ""


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# cells → values ---------------------------------------------------------------------------------
def parse_text(cell: Any) -> str:
    if _blank(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def parse_code(cell: Any, width: int = 8) -> str:
    """A tax or catalog code: digits kept as typed; a code Excel turned into a number gets its
    leading zeros back up to `width` (an ЄДРПОУ such as 00032129)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if isinstance(cell, float) and not cell.is_integer():
            raise CellError(f"{cell} is not a code")
        return str(int(cell)).zfill(width)
    return parse_text(cell).replace(" ", "").replace("\u00a0", "")


def parse_decimal(cell: Any) -> Decimal:
    if isinstance(cell, bool):
        raise CellError(f"{cell} is not a number")
    if isinstance(cell, int | float | Decimal):
        return Decimal(str(cell))
    text = parse_text(cell)
    for space in (" ", "\u00a0", "\u202f", "'"):
        text = text.replace(space, "")
    if "," in text and "." in text:  # 1.234,50 or 1,234.50: the last one is the decimal mark
        text = text.replace("." if text.rfind(",") > text.rfind(".") else ",", "")
    text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{parse_text(cell)!r} is not a number") from None
    if not value.is_finite():
        raise CellError(f"{parse_text(cell)!r} is not a number")
    return value


def parse_int(cell: Any) -> int:
    value = parse_decimal(cell)
    if value != value.to_integral_value():
        raise CellError(f"{parse_text(cell)!r} is not a whole number")
    return int(value)


def parse_date(cell: Any) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _serial(float(cell))
    text = parse_text(cell)
    for pattern in ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.split(" ")[0].split("T")[0], pattern).date()
        except ValueError:
            continue
    if text.replace(".", "", 1).isdigit():
        return _serial(float(text))
    raise CellError(f"{text!r} is not a date (dd.mm.yyyy)")


def _serial(number: float) -> date:
    if not 1 <= number < 2_958_466:  # Excel's range: 1900-01-01 … 9999-12-31
        raise CellError(f"{number} is not an Excel date")
    return (EXCEL_EPOCH + timedelta(days=int(number))).date()
