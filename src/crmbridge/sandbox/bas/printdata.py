"""Everything the printed «Рахунок на оплату» shows, gathered from the infobase.

Kept apart from the PDF drawing so the data can be checked without parsing a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crmbridge.sandbox.bas.accounting import INVOICES
from crmbridge.sandbox.bas.schema import Schema
from crmbridge.sandbox.bas.store import Row, Store
from crmbridge.sandbox.bas.words import hryvnias


@dataclass(frozen=True)
class Line:
    n: int
    name: str
    unit: str
    quantity: Decimal
    price: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoicePrint:
    number: str
    date: str  # dd.mm.yyyy
    supplier: str
    supplier_codes: str
    supplier_bank: str
    supplier_address: str
    buyer: str
    buyer_codes: str
    contract: str
    lines: tuple[Line, ...]
    total: Decimal
    vat: Decimal
    vat_included: bool
    in_words: str


def _date(value: str) -> str:
    year, month, day = value[:10].split("-")
    return f"{day}.{month}.{year}"


def _description(store: Store, set_name: str, ref: str) -> str:
    found = store.find(set_name, ref)
    return str(found["Description"]) if found else ""


def _party_codes(schema: Schema, party: Row) -> str:
    if schema.name == "bas-buh":
        code = str(party.get("КодПоЕДРПОУ", ""))
        label = "РНОКПП" if len(code) == 10 else "код за ЄДРПОУ"
        ipn = f", ІПН {party['ИНН']}" if party.get("ИНН") and party["ИНН"] != code else ""
        return f"{label} {code}{ipn}"
    kpp = f", КПП {party['КПП']}" if party.get("КПП") else ""
    return f"ИНН {party.get('ИНН', '')}{kpp}"


def _bank(store: Store, org: Row) -> str:
    account = store.find("Catalog_БанковскиеСчета", org["ОсновнойБанковскийСчет_Key"])
    if account is None:
        return ""
    bank = store.find("Catalog_Банки", account["Банк_Key"])
    where = f" у {bank['Description']}, МФО {bank['Code']}" if bank else ""
    return f"IBAN {account['НомерСчета']}{where}"


def _lines(schema: Schema, store: Store, invoice: Row) -> tuple[Line, ...]:
    names = dict.fromkeys(schema.profile["invoice_sections"][k] for k in ("goods", "services"))
    lines: list[Line] = []
    for section in names:
        for row in invoice[section]:
            product = store.find("Catalog_Номенклатура", row["Номенклатура_Key"]) or {}
            unit_ref = product.get("БазоваяЕдиницаИзмерения_Key", "")
            unit = _description(store, "Catalog_КлассификаторЕдиницИзмерения", unit_ref) or "шт"
            name = row.get("Содержание") or product.get("Description", "")
            item = Line(len(lines) + 1, name, unit, row["Количество"], row["Цена"], row["Сумма"])
            lines.append(item)
    return tuple(lines)


def invoice_print(schema: Schema, store: Store, ref: str, address: str) -> InvoicePrint | None:
    with store.locked():
        invoice = store.find(INVOICES, ref)
        if invoice is None:
            return None
        org = store.find("Catalog_Организации", invoice["Организация_Key"]) or {}
        buyer = store.find("Catalog_Контрагенты", invoice["Контрагент_Key"]) or {}
        lines = _lines(schema, store, invoice)
        vat = sum(
            (r["СуммаНДС"] for s in {"Товары", "Услуги"} for r in invoice.get(s, [])), Decimal(0)
        )
        return InvoicePrint(
            number=invoice["Number"],
            date=_date(invoice["Date"]),
            supplier=str(org.get("НаименованиеПолное") or org.get("Description", "")),
            supplier_codes=_party_codes(schema, org) if org else "",
            supplier_bank=_bank(store, org) if org else "",
            supplier_address=address,
            buyer=str(buyer.get("НаименованиеПолное") or buyer.get("Description", "")),
            buyer_codes=_party_codes(schema, buyer) if buyer else "",
            contract=_description(
                store, "Catalog_ДоговорыКонтрагентов", invoice["ДоговорКонтрагента_Key"]
            ),
            lines=lines,
            total=invoice["СуммаДокумента"],
            vat=vat,
            vat_included=bool(invoice["СуммаВключаетНДС"]),
            in_words=hryvnias(invoice["СуммаДокумента"]),
        )
