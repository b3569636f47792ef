"""What an accountant does in the sandbox: record payments against invoices, see what is paid.

The payment is linked to the invoice the way each configuration links it (reference §2.6):
BAS — `РасшифровкаПлатежа.Сделка` = the invoice + `Сделка_Type`; BP 3.0 —
`РасшифровкаПлатежа.СчетНаОплату_Key`. Only posted payments count as paid.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bas.schema import EMPTY_REF, Schema
from crmbridge.sandbox.bas.store import Row, Store

INVOICES = "Document_СчетНаОплатуПокупателю"
BANK_RECEIPTS = "Document_ПоступлениеНаРасчетныйСчет"
CASH_RECEIPTS = "Document_ПриходныйКассовыйОрдер"
INVOICE_TYPE = f"StandardODATA.{INVOICES}"
CENT = Decimal("0.01")


class Accounting:
    def __init__(self, schema: Schema, store: Store, now: Callable[[], datetime]) -> None:
        self.schema = schema
        self.store = store
        self._now = now

    def links_to(self, row: Row, invoice_ref: str) -> bool:
        if self.schema.profile["payment_link"] == "Сделка":
            return bool(row.get("Сделка") == invoice_ref and row.get("Сделка_Type") == INVOICE_TYPE)
        return bool(row.get("СчетНаОплату_Key") == invoice_ref)

    def paid(self, invoice_ref: str) -> Decimal:
        total = Decimal(0)
        with self.store.locked():
            for set_name in (BANK_RECEIPTS, CASH_RECEIPTS):
                for doc in self.store.rows(set_name):
                    if doc["Posted"] and not doc["DeletionMark"]:
                        rows = doc["РасшифровкаПлатежа"]
                        total += sum(
                            (r["СуммаПлатежа"] for r in rows if self.links_to(r, invoice_ref)),
                            Decimal(0),
                        )
        return total

    def _link(self, invoice_ref: str) -> dict[str, Any]:
        if self.schema.profile["payment_link"] == "Сделка":
            return {"Сделка": invoice_ref, "Сделка_Type": INVOICE_TYPE}
        return {"СчетНаОплату_Key": invoice_ref, "СпособПогашенияЗадолженности": "Автоматически"}

    def _vat(self, invoice: Row, amount: Decimal) -> tuple[str, Decimal]:
        total = invoice["СуммаДокумента"]
        sections = {self.schema.profile["invoice_sections"][k] for k in ("goods", "services")}
        vat = sum((r["СуммаНДС"] for s in sections for r in invoice[s]), Decimal(0))
        share = (vat * amount / total).quantize(CENT) if total else Decimal(0)
        return ("НДС20" if vat else "БезНДС"), share

    def payment_body(self, invoice: Row, amount: Decimal) -> dict[str, Any]:
        rate, vat = self._vat(invoice, amount)
        org = self.store.get("Catalog_Организации", invoice["Организация_Key"])
        when = invoice["Date"][:10].split("-")
        row = {
            "LineNumber": "1",
            "ДоговорКонтрагента_Key": invoice["ДоговорКонтрагента_Key"],
            "КурсВзаиморасчетов": 1,
            "КратностьВзаиморасчетов": "1",
            "СуммаПлатежа": str(amount),
            "СуммаВзаиморасчетов": str(amount),
            "СтавкаНДС": rate,
            "СуммаНДС": str(vat),
        } | self._link(invoice["Ref_Key"])
        body: dict[str, Any] = {
            "Date": self._now().strftime("%Y-%m-%dT%H:%M:%S"),
            "ВидОперации": "ОплатаПокупателя",
            "Организация_Key": invoice["Организация_Key"],
            "Контрагент_Key": invoice["Контрагент_Key"],
            "ДоговорКонтрагента_Key": invoice["ДоговорКонтрагента_Key"],
            "ВалютаДокумента_Key": invoice["ВалютаДокумента_Key"],
            "СуммаДокумента": str(amount),
            "СчетОрганизации_Key": org.get("ОсновнойБанковскийСчет_Key", EMPTY_REF),
            "НазначениеПлатежа": (
                f"Оплата за рахунком № {invoice['Number']} від {'.'.join(reversed(when))}"
            ),
            "РасшифровкаПлатежа": [row],
        }
        if self.schema.profile["payment_link"] == "Сделка":
            body |= {
                "ДокументОснование": invoice["Ref_Key"],
                "ДокументОснование_Type": INVOICE_TYPE,
            }
        return body

    def record_payment(self, invoice_ref: str, amount: Decimal | None = None) -> str:
        """Create and post a bank receipt for the invoice: the rest of it, or `amount`."""
        with self.store.locked():
            invoice = self.store.get(INVOICES, invoice_ref)
            remaining = invoice["СуммаДокумента"] - self.paid(invoice_ref)
            amount = remaining if amount is None else Decimal(amount)
            if amount <= 0:
                raise ValueError(f"nothing to pay on invoice {invoice['Number']}: {amount}")
            created = self.store.create(BANK_RECEIPTS, self.payment_body(invoice, amount))
            self.store.set_posted(BANK_RECEIPTS, created["Ref_Key"], True)
            return str(created["Ref_Key"])
