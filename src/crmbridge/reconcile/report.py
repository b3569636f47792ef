"""The reconciliation report as a file: a self-contained HTML page or an XLSX workbook.

HTML: one page, inline style, every value escaped (`html.escape`), no scripts, no links out.
XLSX (openpyxl): a `Summary` sheet (counts per entity) and a `Discrepancies` sheet, one row per
discrepancy with the entity, the record, the field, the owner's value and the stale side's value.
A value starting with `=` is stored as text, never as a formula the spreadsheet would run.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook  # imported by `workbook()`: 0.2 s the other commands skip

from crmbridge.errors import ConfigError
from crmbridge.reconcile.compare import Summary

COLUMNS = (
    "entity",
    "kind",
    "key",
    "label",
    "field",
    "owner",
    "owner_value",
    "stale_side",
    "stale_value",
    "crm_id",
    "bas_ref",
)
KINDS = ("compared", "differs", "missing", "orphan")

PAGE = Template("""<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>crmbridge reconciliation $when</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.ok{color:#2a7a2a}.bad{color:#b00020}
td.num{text-align:right}code{white-space:pre-wrap}
</style></head><body>
<h1>Reconciliation</h1>
<p>$when — <strong class="$verdict_class">$verdict</strong></p>
<table><tr><th>entity</th><th>compared</th><th>differs</th><th>missing</th><th>orphan</th></tr>
$counts</table>
$notes
<h2>Discrepancies</h2>
<table><tr>$head</tr>
$rows</table>
</body></html>
""")


def write(summary: Summary, path: Path, when: datetime) -> None:
    """Write the report; the suffix (.html or .xlsx) chooses the format."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            path.write_text(html_page(summary, when), encoding="utf-8")
        elif suffix == ".xlsx":
            workbook(summary, when).save(path)
        else:
            raise ConfigError(f"--report: {path.name}: use a .html or .xlsx file")
    except OSError as exc:
        raise ConfigError(f"--report: cannot write {path}: {exc.strerror or exc}") from None


def html_page(summary: Summary, when: datetime) -> str:
    counts = "\n".join(
        f"<tr><td>{_e(entity)}</td>"
        + "".join(f'<td class="num">{row[k]}</td>' for k in KINDS)
        + "</tr>"
        for entity, row in summary.counts().items()
    )
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{_cell(d.json()[c])}</td>" for c in COLUMNS) + "</tr>"
        for d in summary.discrepancies
    )
    notes = "".join(f"<p>{_e(n)}</p>" for n in summary.notes)
    clean = not summary.discrepancies
    return PAGE.substitute(
        when=_e(when.isoformat(timespec="seconds")),
        verdict="clean" if clean else f"{len(summary.discrepancies)} discrepancies",
        verdict_class="ok" if clean else "bad",
        counts=counts,
        notes=notes,
        head="".join(f"<th>{_e(c)}</th>" for c in COLUMNS),
        rows=rows,
    )


def workbook(summary: Summary, when: datetime) -> Workbook:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "Summary"
    sheet.append(["reconciliation", when.isoformat(timespec="seconds")])
    sheet.append(["entity", *KINDS])
    for entity, row in summary.counts().items():
        sheet.append([entity, *(row[k] for k in KINDS)])
    for note in summary.notes:
        sheet.append([note])
    found = book.create_sheet("Discrepancies")
    found.append(list(COLUMNS))
    for d in summary.discrepancies:
        body = d.json()
        found.append([_shown(body[c]) for c in COLUMNS])
    for table in (sheet, found):
        for cells in table.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # text that looks like a formula stays text
                    cell.data_type = "s"
    return book


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _cell(value: Any) -> str:
    return f"<code>{_e(_shown(value))}</code>" if isinstance(value, dict) else _e(_shown(value))


def _e(value: str) -> str:
    return html.escape(value, quote=True)
