"""The demo page at `GET /bitrix24/`: the deal list with a button that issues an invoice.

Plain server-rendered HTML; the button is a form POST to a sandbox-only URL that moves the deal
to the invoice stage exactly as a REST `crm.deal.update` would (the event fires too).
"""

from __future__ import annotations

from html import escape
from typing import Any

from crmbridge.sandbox.bitrix24.records import INVOICE_STAGE, STAGE_NAMES
from crmbridge.sandbox.bitrix24.state import Portal

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #333; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; }
th { background: #2fc6f6; color: white; }
td.amount { text-align: right; font-variant-numeric: tabular-nums; }
button { background: #bbed21; border: 0; padding: .3rem .8rem; cursor: pointer; }
"""


def invoice_url(root: str, deal_id: int) -> str:
    return f"{root}/sandbox/deals/{deal_id}/invoice"


def deal_list(portal: Portal, root: str) -> str:
    with portal.lock:
        companies = portal.table("company")
        rows = [_row(deal, companies, root) for deal in portal.table("deal").values()]
    return (
        '<!DOCTYPE html>\n<html lang="uk"><head><meta charset="utf-8">'
        f"<title>Bitrix24 sandbox — угоди</title><style>{_STYLE}</style></head><body>"
        "<h1>Угоди (Bitrix24 sandbox)</h1>"
        "<table><thead><tr><th>ID</th><th>Назва</th><th>Компанія</th><th>Стадія</th>"
        "<th>Сума</th><th>Рахунок №</th><th>Оплата</th><th></th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )


def _row(deal: dict[str, Any], companies: dict[int, dict[str, Any]], root: str) -> str:
    company = companies.get(int(deal["COMPANY_ID"] or 0))
    cells = [
        deal["ID"],
        deal["TITLE"],
        company["TITLE"] if company else "",
        STAGE_NAMES.get(deal["STAGE_ID"], deal["STAGE_ID"]),
    ]
    tds = "".join(f"<td>{escape(str(c))}</td>" for c in cells)
    tds += f'<td class="amount">{escape(deal["OPPORTUNITY"])} {escape(deal["CURRENCY_ID"])}</td>'
    # .get: a new customer's portal has no such fields yet (Bitrix24Sandbox(user_fields=False))
    tds += f"<td>{escape(deal.get('UF_CRM_INVOICE_NUMBER') or '')}</td>"
    tds += f"<td>{escape(deal.get('UF_CRM_PAYMENT_STATUS') or '')}</td>"
    disabled = " disabled" if deal["STAGE_ID"] == INVOICE_STAGE else ""
    action = escape(invoice_url(root, int(deal["ID"])))
    button = (
        f'<form method="post" action="{action}"><button{disabled}>Виставити рахунок</button></form>'
    )
    return f"<tr>{tds}<td>{button}</td></tr>"
