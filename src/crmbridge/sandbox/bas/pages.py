"""The small server-rendered page at `/bas/` for people trying the demo: invoices and payments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from crmbridge.documents.model import money

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px}"
    "td.n{text-align:right}form{display:inline}input[name=amount]{width:7em}"
)


@dataclass(frozen=True)
class InvoiceRow:
    ref: str
    number: str
    date: str
    counterparty: str
    total: Decimal
    posted: bool
    paid: Decimal


def _row(row: InvoiceRow, pdf: bool) -> str:
    remaining = row.total - row.paid
    action = (
        '<form method="post" action="sandbox/payments">'
        f'<input type="hidden" name="invoice" value="{escape(row.ref)}">'
        f'<input name="amount" placeholder="{escape(money(remaining))}">'
        '<button type="submit">Записати оплату</button></form>'
        if remaining > 0
        else "сплачено"
    )
    number = escape(row.number)
    cells = (
        f'<a href="hs/crm/invoice/{escape(row.ref)}/pdf">{number}</a>' if pdf else number,
        escape(row.date.replace("T", " ")),
        escape(row.counterparty),
        f'<span class="n">{money(row.total)}</span>',
        "так" if row.posted else "ні",
        money(row.paid),
        action,
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def index(rows: list[InvoiceRow], profile: dict[str, Any], *, pdf: bool) -> str:
    """The invoices; with `pdf` (the extension is installed) each number links to its PDF."""
    head = ("Номер", "Дата", "Контрагент", "Сума", "Проведено", "Сплачено", "")
    body = "".join(_row(r, pdf) for r in rows) or '<tr><td colspan="7">Рахунків ще немає</td></tr>'
    title = f"Пісочниця {escape(profile['title'])}: рахунки покупцям"
    return (
        f'<!doctype html><html lang="uk"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        "<p>Оплата створює і проводить «Надходження на розрахунковий рахунок» на залишок "
        "(або на вказану суму).</p><table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def failure(message: str) -> str:
    return (
        '<!doctype html><html lang="uk"><head><meta charset="utf-8"><title>Помилка</title></head>'
        f'<body><p>{escape(message)}</p><p><a href="./">Назад</a></p></body></html>'
    )
