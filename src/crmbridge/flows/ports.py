"""The two ports between the flows and the systems, in business verbs.

A flow asks the CRM for "the deal with its rows and client" and tells the accounting system to
"create the invoice"; it never names a REST method, an entity set or a field code. Each system
package implements a port (`connectors/bitrix24/crm.py`, `connectors/onec/accounting.py`, the
in-memory fakes in `connectors/memory.py`), and one contract suite (tests/contract/) holds them
all to the same behaviour.

Two things stay in the systems' own words on purpose, because the user writes them in the config:
the records a mapping reads (`Deal.fields`, `Client.inputs`, `Invoice.fields`,
`CatalogItem.fields`) and the fields a mapping writes (the keys given to `set_fields`,
`create_counterparty`, `update_counterparty`). The flows pass them through without looking in.

Who calls: the flows, reconciliation and the manual bridge, from worker threads, so an
implementation must be thread-safe. Errors: `crmbridge.errors.Retryable` for what a later attempt
may fix (outage, rate limit), `Permanent` for what a person must fix; "not there" is `None`, not
an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from crmbridge.connectors.base import ChangedEvent

Record = Mapping[str, Any]
# How the accounting system identifies a counterparty: a Ukrainian ЄДРПОУ (legal entity, 8
# digits) or РНОКПП (person, 10), or the ИНН of 1С:Бухгалтерия 3.0 (10 or 12 digits).
TaxCodeKind = Literal["edrpou", "inn"]
ChangedKind = Literal["deal", "company"]


# the CRM side ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deal:
    id: str
    title: str
    total: Decimal
    stage: str  # in the CRM's own vocabulary, as the config names it (e.g. "PREPAYMENT_INVOICE")
    responsible: str | None  # the user the rep's task goes to
    client_id: str | None
    fields: Record = field(default_factory=dict, compare=False)  # for mappings and owned fields


@dataclass(frozen=True)
class DealRow:
    product_id: str | None  # None: a free-text row, with no catalog product
    name: str
    quantity: Decimal
    price: Decimal
    discounted: bool  # the rep gave a discount by hand
    fields: Record = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Client:
    id: str
    title: str
    tax_code: str | None  # of the kind the accounting system asked for; None when not filled
    tax_field: str  # where a person fills it in the CRM, for messages ("RQ_EDRPOU", "ЄДРПОУ")
    inputs: Mapping[str, Record] = field(default_factory=dict, compare=False)  # for mappings

    @property
    def is_person(self) -> bool:  # a ФОП: identified by a 10-digit РНОКПП
        return self.tax_code is not None and len(self.tax_code) == 10


@dataclass(frozen=True)
class DealBundle:
    deal: Deal
    rows: list[DealRow]
    client: Client | None


@dataclass(frozen=True)
class Document:
    """A file for a deal: the invoice's PDF, with the note a person sees next to it. `tag` is
    the machine-readable part of the note (e.g. `[crm:invoice:<ref>]`), found again by
    `find_note` so a retry does not attach twice."""

    name: str
    content: bytes
    note: str
    tag: str


@dataclass(frozen=True)
class Task:
    title: str
    description: str  # carries the tag `find_task` looks for
    deadline: datetime
    tag: str


class CrmDeals(Protocol):
    def get(self, deal_id: str) -> Deal | None: ...

    def bundle(self, deal_id: str) -> DealBundle | None:
        """The deal, its product rows and its client (with the tax code), or None."""
        ...

    def rows(self, deal_id: str) -> list[DealRow]: ...

    def of_client(self, client_id: str) -> Iterator[Deal]: ...

    def open(self) -> Iterator[Deal]:
        """Deals not closed yet (won or lost)."""
        ...

    def set_fields(self, deal_id: str, values: Mapping[str, Any]) -> None:
        """Write the accounting-owned fields; keys as the `deal_invoice` mapping names them."""
        ...

    def move_to_stage(self, deal_id: str, stage: str) -> None: ...

    def set_rows(self, deal_id: str, rows: Sequence[DealRow]) -> None:
        """Replace the deal's product rows (prices changed by the catalog)."""
        ...

    def find_note(self, deal_id: str, tag: str) -> str | None:
        """The id of the deal's note (timeline comment) carrying `tag`, or None."""
        ...

    def attach(self, deal_id: str, document: Document) -> str:
        """Put the document on the deal card, with its note; returns the note's id. Not
        idempotent by itself: the flow's effect ledger and `find_note` make it once."""
        ...

    def find_task(self, deal_id: str, tag: str) -> str | None: ...

    def add_task(self, deal: Deal, task: Task) -> str:
        """A task bound to the deal for its responsible user; returns the task's id."""
        ...


class CrmClients(Protocol):
    def get(self, client_id: str) -> Client | None: ...


class CrmProducts(Protocol):
    def external_id(self, product_id: str) -> str | None:
        """The accounting system's key the CRM product carries (Bitrix24's `XML_ID`)."""
        ...

    def upsert(self, values: Sequence[Record]) -> list[str]:
        """Create or update products by their external id (in the mapped values); returns the
        CRM ids in the same order. Written in bulk: the initial load is thousands."""
        ...


class Crm(Protocol):
    system: str  # "bitrix24", "kommo": the name in the exchange log and the config's `type`

    @property
    def deals(self) -> CrmDeals: ...

    @property
    def clients(self) -> CrmClients: ...

    @property
    def products(self) -> CrmProducts: ...

    def parse_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        """Verify and decode one webhook delivery (WebhookRejected when not authentic)."""
        ...

    def changed(
        self, kind: ChangedKind, cursor: dict[str, Any] | None, *, since: datetime
    ) -> tuple[list[str], dict[str, Any]]:
        """The ids of the deals or clients changed since the cursor (with no cursor yet: since
        `since`), and the next cursor (opaque, JSON-able): the safety net under lost webhooks.
        Consecutive reads may report an id again; never miss one."""
        ...


# the accounting side ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Counterparty:
    ref: str
    branch: bool  # a separate division sharing its head's tax code
    fields: Record = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class NewCounterparty:
    name: str
    tax_code: str
    person: bool  # a ФОП rather than a legal entity
    values: Record  # the `clients` mapping's other fields
    ref: str  # the key to create it under: derived from the CRM id, so a retry finds it


@dataclass(frozen=True)
class Invoice:
    ref: str
    number: str
    date: datetime | None
    total: Decimal
    posted: bool
    comment: str  # where a person sees the deal's marker
    fields: Record = field(default_factory=dict, compare=False)  # for the `deal_invoice` mapping


@dataclass(frozen=True)
class Product:
    ref: str
    name: str
    fields: Record = field(default_factory=dict, compare=False)  # what the invoice line needs


@dataclass(frozen=True)
class InvoiceLine:
    product: Product
    quantity: Decimal
    price: Decimal
    text: str


@dataclass(frozen=True)
class NewInvoice:
    counterparty: str
    date: datetime
    comment: str
    lines: list[InvoiceLine]
    ref: str  # derived from the deal id, so a retry after a crash creates nothing new


@dataclass(frozen=True)
class CatalogItem:
    ref: str
    fields: Record = field(default_factory=dict, compare=False)  # for the `catalog` mapping


@dataclass(frozen=True)
class PaidInvoice:
    """An invoice a receipt pays (in part or in full); `version` changes when the receipt
    does, so a changed receipt is a new event."""

    invoice_ref: str
    payment_ref: str
    version: str


class Counterparties(Protocol):
    def get(self, ref: str) -> Counterparty | None: ...

    def by_tax_code(self, code: str) -> list[Counterparty]:
        """Not deleted, heads before branches."""
        ...

    def create(self, new: NewCounterparty) -> str: ...

    def update(self, ref: str, values: Mapping[str, Any]) -> None: ...

    def contract_for(self, ref: str) -> str:
        """The counterparty's sales contract: its main one, else one created for it."""
        ...


class Invoices(Protocol):
    def get(self, ref: str) -> Invoice | None: ...

    def by_marker(self, marker: str) -> Invoice | None:
        """An invoice not marked for deletion whose comment carries the marker."""
        ...

    def create(self, new: NewInvoice) -> Invoice:
        """Our organisation, the contract, the currency are the implementation's to fill."""
        ...

    def post(self, ref: str) -> None: ...

    def pdf(self, ref: str) -> bytes | None:
        """The invoice's printed form, or None when the invoice is gone."""
        ...

    def product(self, ref: str) -> Product | None: ...


class Payments(Protocol):
    def since(self, cursor: dict[str, Any] | None) -> tuple[list[PaidInvoice], dict[str, Any]]:
        """Invoices paid by receipts posted since the cursor, and the next cursor."""
        ...

    def paying(self, invoice_refs: Sequence[str]) -> list[PaidInvoice]:
        """Posted receipts paying any of these invoices, whatever their date."""
        ...

    def paid_amount(self, invoice_ref: str) -> Decimal:
        """The sum of posted payments on the invoice (partial payments count)."""
        ...


class AccountingCatalog(Protocol):
    def items(self) -> Iterator[CatalogItem]: ...

    def prices(self) -> dict[str, Decimal]:
        """Product key → price of the configured price type (Permanent if there is none)."""
        ...


class Accounting(Protocol):
    system: str  # "bas"
    tax_code_kind: TaxCodeKind

    @property
    def counterparties(self) -> Counterparties: ...

    @property
    def invoices(self) -> Invoices: ...

    @property
    def payments(self) -> Payments: ...

    @property
    def catalog(self) -> AccountingCatalog: ...
