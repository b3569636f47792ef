"""What the flows do with accounting objects, in the profile's names (reference §2.2–2.5).

Functions over a `BasConnector`: find a counterparty by tax code, create one with its contract,
create an invoice from plain lines (routed to `Товары` or `Услуги` by the profile), read the prices
of a price type, walk the products. Every write goes through `BasConnector.put`, so it is checked
against `$metadata` first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import literals, query
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.profile import COUNTERPARTIES, INVOICES, PRICES

CENT = Decimal("0.01")


def find_counterparty(bas: BasConnector, tax_code: str) -> list[Record]:
    """Counterparties with this ЄДРПОУ (bas-buh) / ИНН (bp30), not marked for deletion, heads
    first: branches legitimately share their head's tax code (§2.2)."""
    found = bas.client.find(
        COUNTERPARTIES,
        query.Query(
            filter=query.all_of(
                query.eq(bas.profile.tax_code_field, tax_code), "DeletionMark eq false"
            ),
            orderby=("Ref_Key",),
        ),
    )
    return sorted(found, key=lambda r: bool(r.get("ОбособленноеПодразделение")))


def create_counterparty(
    bas: BasConnector, name: str, tax_code: str, *, ref: str | None = None, **fields: Any
) -> str:
    """A legal-entity counterparty; `ref` (e.g. a UUIDv5 of the CRM id) makes a retry safe."""
    record: dict[str, Any] = {
        "Description": name,
        "НаименованиеПолное": fields.pop("full_name", name),
        "ЮридическоеФизическоеЛицо": fields.pop("legal_form", "ЮридическоеЛицо"),
        bas.profile.tax_code_field: tax_code,
    } | fields
    if ref:
        record["Ref_Key"] = ref
    return bas.put("counterparty", record)


def create_contract(
    bas: BasConnector,
    counterparty: str,
    organisation: str,
    currency: str,
    *,
    name: str,
    ref: str | None = None,
    **fields: Any,
) -> str:
    """A sales contract (`ВидДоговора = СПокупателем`) with the profile's defaults."""
    record: dict[str, Any] = {
        "Owner_Key": counterparty,
        "Description": name,
        "Организация_Key": organisation,
        "ВалютаВзаиморасчетов_Key": currency,
        "ВидДоговора": "СПокупателем",
        **bas.profile.contract_defaults,
    } | fields
    if ref:
        record["Ref_Key"] = ref
    return bas.put("contract", record)


@dataclass(frozen=True)
class Line:
    product: str  # Catalog_Номенклатура Ref_Key
    quantity: Decimal
    price: Decimal
    vat_rate: str  # НДС20, НДС7, НДС0, БезНДС
    service: bool = False
    text: str = ""  # Содержание, where the section has it

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.price).quantize(CENT)

    def vat(self, included: bool) -> Decimal:
        rate = {"НДС20": Decimal(20), "НДС7": Decimal(7)}.get(self.vat_rate, Decimal(0))
        if included:
            return (self.amount * rate / (100 + rate)).quantize(CENT)
        return (self.amount * rate / 100).quantize(CENT)


@dataclass(frozen=True)
class InvoiceHeader:
    organisation: str
    counterparty: str
    contract: str
    currency: str
    date: datetime
    comment: str = ""
    vat_included: bool = True


def invoice_record(bas: BasConnector, header: InvoiceHeader, lines: Sequence[Line]) -> Record:
    """The invoice as 1C wants it: lines numbered per section, totals computed."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        name = bas.profile.services_section if line.service else bas.profile.goods_section
        rows = sections.setdefault(name, [])
        rows.append(_row(bas, name, line, len(rows) + 1, header.vat_included))
    total = sum((line.amount for line in lines), Decimal(0))
    return {
        "Date": literals.format_datetime(header.date),
        "Организация_Key": header.organisation,
        "Контрагент_Key": header.counterparty,
        "ДоговорКонтрагента_Key": header.contract,
        "ВалютаДокумента_Key": header.currency,
        "СуммаВключаетНДС": header.vat_included,
        "СуммаДокумента": total,
        "Комментарий": header.comment,
    } | sections


def _row(bas: BasConnector, section: str, line: Line, n: int, included: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "LineNumber": str(n),
        "Номенклатура_Key": line.product,
        "Количество": line.quantity,
        "Цена": line.price,
        "Сумма": line.amount,
        "СтавкаНДС": line.vat_rate,
        "СуммаНДС": line.vat(included),
    }
    columns = bas.metadata.row_type(INVOICES, section)
    if line.text and columns is not None and "Содержание" in columns.properties:
        row["Содержание"] = line.text
    return row


def create_invoice(
    bas: BasConnector, header: InvoiceHeader, lines: Sequence[Line], *, ref: str | None = None
) -> Record:
    """Creates the invoice unposted and returns it as 1C has it (Number assigned by 1C)."""
    record = invoice_record(bas, header, lines)
    if ref:
        record["Ref_Key"] = ref
    return bas.client.read(INVOICES, bas.put("invoice", record))


def prices(bas: BasConnector, price_type: str, at: datetime | None = None) -> dict[str, Decimal]:
    """Product Ref_Key → its latest price of the type (`SliceLast`), as of `at` if given."""
    params = {"Condition": literals.string(query.ref_eq("ТипЦен_Key", price_type))}
    if at is not None:
        params["Period"] = literals.datetime_literal(at)
    rows = bas.client.function(PRICES, "SliceLast", params)
    return {str(r["Номенклатура_Key"]): Decimal(str(r["Цена"])) for r in rows}


def products(bas: BasConnector, *, folders: bool = False) -> Iterator[Record]:
    """Every product (catalog folders left out unless asked for)."""
    for record in bas.iterate("product"):
        if folders or not record.get("IsFolder"):
            yield record
