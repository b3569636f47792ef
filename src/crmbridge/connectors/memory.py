"""In-memory implementations of both ports, for fast tests of flows and plugins.

`FakeCrm` and `FakeAccounting` keep plain dicts and behave as the port contract says (the same
suite that holds Bitrix24, Kommo and BAS to it runs over them: tests/contract/). They are not
mocks: a flow's effects are read back from their state. `fail` makes the next call of a named
operation raise, to test what a flow does when a system fails at a given step.

    crm, accounting = FakeCrm(), FakeAccounting()
    crm.add_client(Client("7", "Альфа", "31000000", "ЄДРПОУ"))
    crm.add_deal(Deal("1", "Папір", Decimal(380), "INVOICE", "5", "7"), rows=[...])
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.connectors.base import ChangedEvent
from crmbridge.errors import Permanent
from crmbridge.flows.ports import (
    CatalogItem,
    ChangedKind,
    Client,
    Counterparty,
    Deal,
    DealBundle,
    DealRow,
    Document,
    Invoice,
    NewCounterparty,
    NewInvoice,
    PaidInvoice,
    Product,
    Task,
    TaxCodeKind,
)


class Faults:
    """Operations told to fail once: `fail("invoices.create", SomeError())`."""

    def __init__(self) -> None:
        self._next: dict[str, BaseException] = {}
        self._lock = threading.Lock()

    def fail(self, operation: str, error: BaseException) -> None:
        with self._lock:
            self._next[operation] = error

    def check(self, operation: str) -> None:
        with self._lock:
            error = self._next.pop(operation, None)
        if error is not None:
            raise error


# the CRM ---------------------------------------------------------------------------------------
@dataclass
class FakeCrmState:
    deals: dict[str, Deal] = field(default_factory=dict)
    rows: dict[str, list[DealRow]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    notes: dict[str, list[tuple[str, Document]]] = field(default_factory=dict)
    tasks: dict[str, list[tuple[str, Task, str | None]]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → mapped values
    changes: list[tuple[ChangedKind, str]] = field(default_factory=list)  # what `changed` reads
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))


class FakeDeals:
    def __init__(self, state: FakeCrmState, faults: Faults) -> None:
        self._s, self._faults = state, faults

    def get(self, deal_id: str) -> Deal | None:
        return self._s.deals.get(deal_id)

    def bundle(self, deal_id: str) -> DealBundle | None:
        deal = self._s.deals.get(deal_id)
        if deal is None:
            return None
        client = self._s.clients.get(deal.client_id) if deal.client_id else None
        return DealBundle(deal, list(self._s.rows.get(deal_id, [])), client)

    def rows(self, deal_id: str) -> list[DealRow]:
        return list(self._s.rows.get(deal_id, []))

    def of_client(self, client_id: str) -> Iterator[Deal]:
        return iter([d for d in self._s.deals.values() if d.client_id == client_id])

    def open(self) -> Iterator[Deal]:
        return iter([d for d in self._s.deals.values() if d.stage not in ("WON", "LOSE")])

    def set_fields(self, deal_id: str, values: Mapping[str, Any]) -> None:
        self._faults.check("deals.set_fields")
        deal = self._existing(deal_id)
        self._s.deals[deal_id] = replace(deal, fields={**deal.fields, **values})

    def move_to_stage(self, deal_id: str, stage: str) -> None:
        self._faults.check("deals.move_to_stage")
        self._s.deals[deal_id] = replace(self._existing(deal_id), stage=stage)

    def set_rows(self, deal_id: str, rows: Sequence[DealRow]) -> None:
        self._existing(deal_id)
        self._s.rows[deal_id] = list(rows)

    def find_note(self, deal_id: str, tag: str) -> str | None:
        found = [i for i, d in self._s.notes.get(deal_id, []) if tag in d.note]
        return found[0] if found else None

    def attach(self, deal_id: str, document: Document) -> str:
        self._faults.check("deals.attach")
        self._existing(deal_id)
        note_id = str(next(self._s.ids))
        self._s.notes.setdefault(deal_id, []).append((note_id, document))
        return note_id

    def find_task(self, deal_id: str, tag: str) -> str | None:
        found = [i for i, t, _ in self._s.tasks.get(deal_id, []) if tag in t.description]
        return found[0] if found else None

    def add_task(self, deal: Deal, task: Task) -> str:
        self._faults.check("deals.add_task")
        task_id = str(next(self._s.ids))
        self._s.tasks.setdefault(deal.id, []).append((task_id, task, deal.responsible))
        return task_id

    def _existing(self, deal_id: str) -> Deal:
        if deal_id not in self._s.deals:
            raise Permanent(f"fake CRM: no deal {deal_id}")
        return self._s.deals[deal_id]


class FakeClients:
    def __init__(self, state: FakeCrmState) -> None:
        self._s = state

    def get(self, client_id: str) -> Client | None:
        return self._s.clients.get(client_id)


class FakeProducts:
    """Products keyed by the external id in the mapped values (`external_key`)."""

    def __init__(self, state: FakeCrmState, faults: Faults, external_key: str) -> None:
        self._s, self._faults, self._key = state, faults, external_key

    def external_id(self, product_id: str) -> str | None:
        found = self._s.products.get(product_id)
        return str(found.get(self._key) or "") or None if found else None

    def upsert(self, values: Sequence[Mapping[str, Any]]) -> list[str]:
        self._faults.check("products.upsert")
        by_external = {str(v.get(self._key)): i for i, v in self._s.products.items()}
        ids = []
        for value in values:
            product_id = by_external.get(str(value.get(self._key))) or str(next(self._s.ids))
            self._s.products[product_id] = {**self._s.products.get(product_id, {}), **value}
            by_external[str(value.get(self._key))] = product_id
            ids.append(product_id)
        return ids


class FakeCrm:
    system = "fakecrm"

    def __init__(self, *, external_key: str = "XML_ID") -> None:
        self.state = FakeCrmState()
        self.faults = Faults()
        self.deals = FakeDeals(self.state, self.faults)
        self.clients = FakeClients(self.state)
        self.products = FakeProducts(self.state, self.faults, external_key)

    def add_client(self, client: Client) -> Client:
        self.state.clients[client.id] = client
        return client

    def add_deal(self, deal: Deal, rows: Sequence[DealRow] = ()) -> Deal:
        self.state.deals[deal.id] = deal
        self.state.rows[deal.id] = list(rows)
        return deal

    def parse_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        return []  # the fake has no webhooks: tests start jobs directly

    def changed(
        self, kind: ChangedKind, cursor: dict[str, Any] | None, *, since: datetime
    ) -> tuple[list[str], dict[str, Any]]:
        """Every deal or client changed since the cursor (the fake tracks changes by a
        counter: `touch` marks one changed)."""
        seen = int((cursor or {}).get("seen", 0))
        return [i for kk, i in self.state.changes[seen:] if kk == kind], {
            "seen": len(self.state.changes)
        }

    def touch(self, kind: ChangedKind, entity_id: str) -> None:
        """Mark a deal or client changed, as a person editing it in the CRM would."""
        self.state.changes.append((kind, entity_id))


# the accounting system ------------------------------------------------------------------------
@dataclass
class Receipt:
    ref: str
    pays: dict[str, Decimal]  # invoice ref → amount
    posted: bool = True
    version: str = "1"


@dataclass
class FakeAccountingState:
    counterparties: dict[str, Counterparty] = field(default_factory=dict)
    contracts: dict[str, str] = field(default_factory=dict)  # counterparty → contract
    invoices: dict[str, Invoice] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class FakeCounterparties:
    def __init__(self, state: FakeAccountingState, faults: Faults) -> None:
        self._s, self._faults = state, faults

    def get(self, ref: str) -> Counterparty | None:
        return self._s.counterparties.get(ref)

    def by_tax_code(self, code: str) -> list[Counterparty]:
        found = [c for c in self._s.counterparties.values() if c.fields.get("tax_code") == code]
        return sorted(found, key=lambda c: c.branch)

    def create(self, new: NewCounterparty) -> str:
        self._faults.check("counterparties.create")
        if new.ref not in self._s.counterparties:  # the key exists: a retry, not a second one
            fields = {**new.values, "name": new.name, "tax_code": new.tax_code}
            self._s.counterparties[new.ref] = Counterparty(new.ref, False, fields)
        return new.ref

    def update(self, ref: str, values: Mapping[str, Any]) -> None:
        found = self._s.counterparties[ref]
        self._s.counterparties[ref] = replace(found, fields={**found.fields, **values})

    def contract_for(self, ref: str) -> str:
        return self._s.contracts.setdefault(ref, f"contract-{ref}")


class FakeInvoices:
    def __init__(self, state: FakeAccountingState, faults: Faults) -> None:
        self._s, self._faults = state, faults

    def get(self, ref: str) -> Invoice | None:
        return self._s.invoices.get(ref)

    def by_marker(self, marker: str) -> Invoice | None:
        found = [i for i in self._s.invoices.values() if marker in i.comment]
        return found[0] if found else None

    def create(self, new: NewInvoice) -> Invoice:
        self._faults.check("invoices.create")
        if new.ref in self._s.invoices:
            return self._s.invoices[new.ref]
        number = f"FK-{next(self._s.numbers):06d}"
        total = sum((line.quantity * line.price for line in new.lines), Decimal(0))
        fields = {"Number": number, "counterparty": new.counterparty, "lines": len(new.lines)}
        made = Invoice(new.ref, number, new.date, total, False, new.comment, fields)
        self._s.invoices[new.ref] = made
        return made

    def post(self, ref: str) -> None:
        self._faults.check("invoices.post")
        self._s.invoices[ref] = replace(self._s.invoices[ref], posted=True)

    def pdf(self, ref: str) -> bytes | None:
        self._faults.check("invoices.pdf")
        found = self._s.invoices.get(ref)
        return f"%PDF-1.4 fake invoice {found.number}".encode() if found else None

    def product(self, ref: str) -> Product | None:
        return self._s.products.get(ref)


class FakePayments:
    def __init__(self, state: FakeAccountingState) -> None:
        self._s = state

    def since(self, cursor: dict[str, Any] | None) -> tuple[list[PaidInvoice], dict[str, Any]]:
        seen = int((cursor or {}).get("seen", 0))
        new = self._s.receipts[seen:]
        return self._paid(r for r in new if r.posted), {"seen": seen + len(new)}

    def paying(self, invoice_refs: Sequence[str]) -> list[PaidInvoice]:
        wanted = set(invoice_refs)
        paid = self._paid(r for r in self._s.receipts if r.posted)
        return [p for p in paid if p.invoice_ref in wanted]

    def paid_amount(self, invoice_ref: str) -> Decimal:
        posted = (r.pays.get(invoice_ref, Decimal(0)) for r in self._s.receipts if r.posted)
        return sum(posted, Decimal(0))

    @staticmethod
    def _paid(receipts: Iterator[Receipt] | Any) -> list[PaidInvoice]:
        return [PaidInvoice(i, r.ref, r.version) for r in receipts for i in sorted(r.pays)]


class FakeCatalog:
    def __init__(self, state: FakeAccountingState) -> None:
        self._s = state

    def items(self) -> Iterator[CatalogItem]:
        return iter([CatalogItem(p.ref, p.fields) for p in self._s.products.values()])

    def prices(self) -> dict[str, Decimal]:
        return dict(self._s.prices)


class FakeAccounting:
    system = "fakebas"

    def __init__(self, *, tax_code_kind: TaxCodeKind = "edrpou") -> None:
        self.tax_code_kind = tax_code_kind
        self.state = FakeAccountingState()
        self.faults = Faults()
        self.counterparties = FakeCounterparties(self.state, self.faults)
        self.invoices = FakeInvoices(self.state, self.faults)
        self.payments = FakePayments(self.state)
        self.catalog = FakeCatalog(self.state)

    def add_product(self, product: Product, price: Decimal) -> Product:
        self.state.products[product.ref] = product
        self.state.prices[product.ref] = price
        return product

    def add_counterparty(self, ref: str, tax_code: str, *, branch: bool = False) -> None:
        self.state.counterparties[ref] = Counterparty(ref, branch, {"tax_code": tax_code})

    def record_payment(self, invoice_ref: str, amount: Decimal, *, posted: bool = True) -> str:
        """A receipt paying `amount` of the invoice, as the accountant enters it."""
        ref = f"receipt-{len(self.state.receipts) + 1}"
        self.state.receipts.append(Receipt(ref, {invoice_ref: amount}, posted))
        return ref
