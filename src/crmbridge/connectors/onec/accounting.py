"""`BasAccounting`: the flows' `Accounting` port (flows/ports.py) over a `BasConnector`.

Where the business words meet the BAS Бухгалтерія family's (the profile says which field holds
the tax code, how invoice lines split, how a payment row names its invoice): a counterparty is a
`Catalog_Контрагенты` with a sales contract, an invoice a `Document_СчетНаОплатуПокупателю` for
our organisation in hryvnias, a payment a posted bank or cash receipt whose rows name the invoice,
and the catalog the products with prices of the configured type. Our organisation, the currency
and the price type are read once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from crmbridge import documents, markers
from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import literals, objects, query
from crmbridge.connectors.onec import payments as receipts
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.profile import INVOICES, PAYMENT_ROWS, RECEIPTS
from crmbridge.errors import Permanent
from crmbridge.flows.ports import (
    CatalogItem,
    Counterparty,
    Invoice,
    NewCounterparty,
    NewInvoice,
    PaidInvoice,
    Product,
)

PdfSource = Literal["render", "bas-extension"]
UAH = "980"
RECEIPT_KINDS = {"payment": RECEIPTS[0], "cash_payment": RECEIPTS[1]}


class Constants:
    """Our organisation, the currency and the price type: read from BAS once, on first use."""

    def __init__(self, bas: BasConnector, organisation: str | None, price_type: str | None):
        self._bas, self._organisation, self._price_type = bas, organisation, price_type
        self._found: dict[str, str] = {}
        self._lock = threading.Lock()

    def _once(self, name: str, load: Callable[[], str]) -> str:
        with self._lock:
            if name not in self._found:
                self._found[name] = load()
            return self._found[name]

    def organisation(self) -> str:
        def load() -> str:
            found = [o for o in self._bas.iterate("organisation") if not o.get("DeletionMark")]
            wanted = self._organisation
            if wanted:
                found = [o for o in found if wanted in (o.get("КодПоЕДРПОУ"), o.get("ИНН"))]
            if len(found) != 1:
                raise Permanent(
                    "BAS has several organisations: set systems.bas.organisation to our ЄДРПОУ"
                    if len(found) > 1
                    else "BAS has no such organisation (systems.bas.organisation)"
                )
            return str(found[0]["Ref_Key"])

        return self._once("organisation", load)

    def currency(self) -> str:
        def load() -> str:
            for record in self._bas.iterate("currency", {"Code": UAH}):
                return str(record["Ref_Key"])
            raise Permanent("BAS has no currency with code 980 (UAH)")

        return self._once("currency", load)

    def price_type(self) -> str:
        def load() -> str:
            name = self._price_type
            types = [t for t in self._bas.iterate("price_type") if not t.get("DeletionMark")]
            chosen = [t for t in types if t.get("Description") == name] if name else types
            if len(chosen) != 1:
                raise Permanent(
                    f"BAS has no price type {name!r}"
                    if name
                    else "set systems.bas.price_type: BAS has several"
                )
            return str(chosen[0]["Ref_Key"])

        return self._once("price_type", load)


def counterparty_of(record: Record) -> Counterparty:
    branch = bool(record.get("ОбособленноеПодразделение"))
    return Counterparty(str(record["Ref_Key"]), branch, record)


class BasCounterparties:
    def __init__(self, bas: BasConnector, constants: Constants) -> None:
        self._bas, self._constants = bas, constants

    def get(self, ref: str) -> Counterparty | None:
        found = self._bas.get("counterparty", ref)
        return counterparty_of(found) if found is not None else None

    def by_tax_code(self, code: str) -> list[Counterparty]:
        return [counterparty_of(r) for r in objects.find_counterparty(self._bas, code)]

    def create(self, new: NewCounterparty) -> str:
        fields = dict(new.values)
        name = str(fields.pop("Description", new.name))
        fields.pop(self._bas.profile.tax_code_field, None)
        if new.person:
            fields["ЮридическоеФизическоеЛицо"] = "ФизическоеЛицо"
        return objects.create_counterparty(self._bas, name, new.tax_code, ref=new.ref, **fields)

    def update(self, ref: str, values: Mapping[str, Any]) -> None:
        self._bas.put("counterparty", dict(values), key=ref)

    def contract_for(self, ref: str) -> str:
        contracts = self._bas.iterate("contract", {"Owner_Key": ref})
        usable = [c for c in contracts if not c.get("DeletionMark")]
        if usable:
            return str(usable[0]["Ref_Key"])
        return objects.create_contract(
            self._bas,
            ref,
            self._constants.organisation(),
            self._constants.currency(),
            name="Основний договір",
            ref=markers.ref_for("contract", ref),
        )


def invoice_of(record: Record) -> Invoice:
    raw = str(record.get("Date") or "")
    try:
        date: datetime | None = datetime.fromisoformat(raw)
    except ValueError:
        date = None
    return Invoice(
        ref=str(record["Ref_Key"]),
        number=str(record.get("Number") or ""),
        date=date,
        total=Decimal(str(record.get("СуммаДокумента") or 0)),
        posted=bool(record.get("Posted")),
        comment=str(record.get("Комментарий") or ""),
        fields=record,
    )


class BasInvoices:
    def __init__(self, bas: BasConnector, constants: Constants, pdf: PdfSource) -> None:
        self._bas, self._constants, self._pdf = bas, constants, pdf
        self._counterparties = BasCounterparties(bas, constants)

    def get(self, ref: str) -> Invoice | None:
        found = self._bas.get("invoice", ref)
        return invoice_of(found) if found is not None else None

    def by_marker(self, marker: str) -> Invoice | None:
        condition = f"substringof({literals.string(marker)}, Комментарий)"
        flt = query.all_of(condition, "DeletionMark eq false")
        found = self._bas.client.find(INVOICES, query.Query(filter=flt, orderby=("Ref_Key",)))
        return invoice_of(found[0]) if found else None

    def create(self, new: NewInvoice) -> Invoice:
        header = objects.InvoiceHeader(
            organisation=self._constants.organisation(),
            counterparty=new.counterparty,
            contract=self._counterparties.contract_for(new.counterparty),
            currency=self._constants.currency(),
            date=new.date,
            comment=new.comment,
        )
        lines = [
            objects.Line(
                product=line.product.ref,
                quantity=line.quantity,
                price=line.price,
                vat_rate=str(line.product.fields.get("СтавкаНДС") or "БезНДС"),
                service=bool(line.product.fields.get("Услуга")),
                text=line.text,
            )
            for line in new.lines
        ]
        return invoice_of(objects.create_invoice(self._bas, header, lines, ref=new.ref))

    def post(self, ref: str) -> None:
        self._bas.post("invoice", ref)

    def pdf(self, ref: str) -> bytes | None:
        """BAS's own print form from an installed extension (`bas-extension`), or the one
        crmbridge draws from what OData gives (`render`, any BAS)."""
        if self._pdf == "bas-extension":
            return self._bas.invoice_pdf(ref)
        return documents.invoice_pdf(self._bas.client, self._bas.profile.name, ref)

    def product(self, ref: str) -> Product | None:
        found = self._bas.get("product", ref)
        if found is None:
            return None
        return Product(str(found["Ref_Key"]), str(found.get("Description") or ""), found)


class BasPayments:
    def __init__(self, bas: BasConnector) -> None:
        self._bas = bas

    def since(self, cursor: dict[str, Any] | None) -> tuple[list[PaidInvoice], dict[str, Any]]:
        state = dict(cursor or {})
        found: list[PaidInvoice] = []
        for kind, entity_set in RECEIPT_KINDS.items():
            page = self._bas.changes(kind, state.get(kind))
            for doc in page.records:
                found += [_paid(ref, doc) for ref in sorted(self._paid_by(entity_set, doc))]
            state[kind] = page.cursor
        return found, state

    def paying(self, invoice_refs: Sequence[str]) -> list[PaidInvoice]:
        pairs = receipts.receipts_paying(self._bas, list(invoice_refs))
        return [_paid(invoice, doc) for invoice, doc in pairs]

    def paid_amount(self, invoice_ref: str) -> Decimal:
        return receipts.paid_amount(self._bas, invoice_ref)

    def _paid_by(self, entity_set: str, doc: Record) -> set[str]:
        rows = doc.get(PAYMENT_ROWS)
        if not isinstance(rows, list):  # a server that does not inline tabular sections
            rows = self._bas.client.find(
                f"{entity_set}_{PAYMENT_ROWS}",
                query.Query(filter=query.ref_eq("Ref_Key", str(doc["Ref_Key"]))),
            )
        link = self._bas.profile.payment_link
        refs = set()
        for row in rows:
            candidate = str(row.get(link.fields[0]) or "")
            if candidate and link.links(row, candidate):
                refs.add(candidate)
        return refs


def _paid(invoice_ref: str, doc: Record) -> PaidInvoice:
    return PaidInvoice(invoice_ref, str(doc["Ref_Key"]), str(doc.get("DataVersion", "")))


class BasCatalog:
    def __init__(self, bas: BasConnector, constants: Constants) -> None:
        self._bas, self._constants = bas, constants

    def items(self) -> Iterator[CatalogItem]:
        return (CatalogItem(str(p["Ref_Key"]), p) for p in objects.products(self._bas))

    def prices(self) -> dict[str, Decimal]:
        return objects.prices(self._bas, self._constants.price_type())


class BasAccounting:
    system = "bas"

    def __init__(
        self,
        connector: BasConnector,
        *,
        organisation: str | None = None,
        price_type: str | None = None,
        pdf: PdfSource = "render",
    ) -> None:
        self.connector = connector
        self.tax_code_kind = connector.profile.tax_code_kind
        constants = Constants(connector, organisation, price_type)
        self.counterparties = BasCounterparties(connector, constants)
        self.invoices = BasInvoices(connector, constants, pdf)
        self.payments = BasPayments(connector)
        self.catalog = BasCatalog(connector, constants)

    def __repr__(self) -> str:
        return f"BasAccounting({self.connector.client!r}, profile {self.connector.profile.name})"
