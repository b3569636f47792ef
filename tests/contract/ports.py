"""The contract of the two ports (flows/ports.py) that every implementation passes: Bitrix24,
Kommo, BAS and the in-memory fakes alike.

How to plug an implementation in (test_memory.py is the shortest example):

1. Write a world: an object with the attributes and methods of `CrmWorld` or
   `AccountingWorld`. It holds the port wired to a running system (the sandbox over real HTTP,
   or the fake) and the few facts the contract cannot guess: a deal it may change, a field the
   accounting system owns on the deal, how mapped product values look, how a payment is entered.
2. Subclass `CrmContract` / `AccountingContract` in `test_<system>.py` and give it a `world`
   fixture. Every test below then runs for that implementation.

The checks are on what the port reads back, never on which calls it made.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from crmbridge.flows.ports import (
    Accounting,
    Crm,
    Document,
    InvoiceLine,
    NewCounterparty,
    NewInvoice,
    Product,
    Task,
)
from crmbridge.markers import ref_for

PDF = b"%PDF-1.4\n% contract test\n%%EOF\n"


class CrmWorld(Protocol):
    crm: Crm
    deal_id: str  # a deal with product rows and a client whose tax code is filled
    missing_id: str  # no deal, client or product has this id
    stage: str  # a stage the deal is not in, that it may be moved to
    owned_field: str  # a deal field the accounting system owns (a `deal_invoice` mapping key)
    external_key: str  # the key of a product's accounting id in mapped product values
    # Whether a deal row keeps a price of its own (Bitrix24), or takes the catalog's (Kommo:
    # the new catalog price reaches open deals through the catalog itself)
    row_prices: bool

    def product_values(self, n: int) -> dict[str, Any]:
        """Mapped values of a new product (as the `catalog` mapping makes them), unique by n."""
        ...

    def touch(self) -> None:
        """Change the deal as a person in the CRM would (its title or a comment)."""
        ...


class AccountingWorld(Protocol):
    accounting: Accounting
    missing_ref: str

    def product(self) -> Product:
        """A product of the catalog that can be invoiced."""
        ...

    def tax_code(self, n: int) -> str:
        """A valid tax code of the accounting system's kind that no counterparty has yet."""
        ...

    def counterparty_values(self, n: int) -> dict[str, Any]:
        """Mapped values of a counterparty (as the `clients` mapping makes them)."""
        ...

    def pay(self, invoice_ref: str, amount: Decimal) -> None:
        """Enter and post a receipt paying `amount` of the invoice, as the accountant does."""
        ...


def stamp() -> str:
    return datetime.now(UTC).strftime("%H%M%S%f")


class CrmContract:
    def test_what_is_not_there_is_none(self, world: CrmWorld) -> None:
        crm = world.crm
        assert crm.deals.get(world.missing_id) is None
        assert crm.deals.bundle(world.missing_id) is None
        assert crm.clients.get(world.missing_id) is None

    def test_a_deal_comes_with_its_rows_and_its_client_and_tax_code(self, world: CrmWorld) -> None:
        bundle = world.crm.deals.bundle(world.deal_id)
        assert bundle is not None and bundle.deal.id == world.deal_id
        assert bundle.rows and all(r.quantity > 0 for r in bundle.rows)
        assert all(r.product_id for r in bundle.rows)
        assert bundle.client is not None and bundle.client.tax_code
        assert bundle.deal.client_id == bundle.client.id
        assert world.crm.deals.rows(world.deal_id) == bundle.rows
        client = world.crm.clients.get(bundle.client.id)
        assert client is not None and client.tax_code == bundle.client.tax_code

    def test_the_deal_is_among_its_clients_deals_and_the_open_ones(self, world: CrmWorld) -> None:
        deal = world.crm.deals.get(world.deal_id)
        assert deal is not None and deal.client_id is not None
        assert world.deal_id in {d.id for d in world.crm.deals.of_client(deal.client_id)}
        assert world.deal_id in {d.id for d in world.crm.deals.open()}

    def test_owned_fields_are_written_and_read_back(self, world: CrmWorld) -> None:
        value = f"РН-{stamp()}"
        world.crm.deals.set_fields(world.deal_id, {world.owned_field: value})
        deal = world.crm.deals.get(world.deal_id)
        assert deal is not None and str(deal.fields.get(world.owned_field)) == value

    def test_a_deal_moves_to_a_stage(self, world: CrmWorld) -> None:
        world.crm.deals.move_to_stage(world.deal_id, world.stage)
        deal = world.crm.deals.get(world.deal_id)
        assert deal is not None and deal.stage == world.stage

    def test_a_document_attached_is_found_by_its_tag(self, world: CrmWorld) -> None:
        tag = f"[crm:invoice:contract-{stamp()}]"
        assert world.crm.deals.find_note(world.deal_id, tag) is None
        document = Document("rakhunok-1.pdf", PDF, f"Рахунок № 1 {tag}", tag)
        note = world.crm.deals.attach(world.deal_id, document)
        assert world.crm.deals.find_note(world.deal_id, tag) == note

    def test_a_task_for_the_responsible_user_is_found_by_its_tag(self, world: CrmWorld) -> None:
        deal = world.crm.deals.get(world.deal_id)
        assert deal is not None
        tag = f"[crm:invoice:task-{stamp()}]"
        assert world.crm.deals.find_task(world.deal_id, tag) is None
        deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        task = Task("Відвантажити", f"Оплачено. {tag}", deadline, tag)
        made = world.crm.deals.add_task(deal, task)
        assert world.crm.deals.find_task(world.deal_id, tag) == made

    def test_rows_set_are_read_back(self, world: CrmWorld) -> None:
        rows = world.crm.deals.rows(world.deal_id)
        price = Decimal("123.45") if world.row_prices else rows[0].price
        changed = replace(rows[0], quantity=rows[0].quantity + 1, price=price)
        world.crm.deals.set_rows(world.deal_id, [changed, *rows[1:]])
        found = [(r.product_id, r.quantity, r.price) for r in world.crm.deals.rows(world.deal_id)]
        wanted = (changed.product_id, changed.quantity, price)
        assert wanted in found, (wanted, found)

    def test_a_changed_deal_is_in_the_next_poll(self, world: CrmWorld) -> None:
        since = datetime.now(UTC) - timedelta(hours=1)
        _, cursor = world.crm.changed("deal", None, since=since)
        world.touch()
        ids, after = world.crm.changed("deal", cursor, since=since)
        assert world.deal_id in ids
        assert isinstance(after, dict)

    def test_products_are_upserted_by_their_external_id(self, world: CrmWorld) -> None:
        values = [world.product_values(n) for n in (1, 2)]
        ids = world.crm.products.upsert(values)
        assert len(set(ids)) == 2
        again = world.crm.products.upsert([{**values[0]}, {**values[1]}])
        assert again == ids
        assert world.crm.products.external_id(ids[0]) == str(values[0][world.external_key])


class AccountingContract:
    def _counterparty(self, world: AccountingWorld, n: int) -> tuple[str, str]:
        code = world.tax_code(n)
        new = NewCounterparty(
            f"Контракт {n}", code, False, world.counterparty_values(n), ref_for("contract", code)
        )
        return world.accounting.counterparties.create(new), code

    def test_what_is_not_there_is_none(self, world: AccountingWorld) -> None:
        assert world.accounting.counterparties.get(world.missing_ref) is None
        assert world.accounting.invoices.get(world.missing_ref) is None
        assert world.accounting.invoices.product(world.missing_ref) is None
        assert world.accounting.invoices.pdf(world.missing_ref) is None

    def test_a_counterparty_is_created_once_and_found_by_tax_code(
        self, world: AccountingWorld
    ) -> None:
        ref, code = self._counterparty(world, 1)
        assert self._counterparty(world, 1)[0] == ref  # the same key: a retry finds it
        assert [c.ref for c in world.accounting.counterparties.by_tax_code(code)] == [ref]
        found = world.accounting.counterparties.get(ref)
        assert found is not None and not found.branch

    def test_a_counterparty_is_updated(self, world: AccountingWorld) -> None:
        ref, _ = self._counterparty(world, 2)
        values = world.counterparty_values(3)
        world.accounting.counterparties.update(ref, values)
        found = world.accounting.counterparties.get(ref)
        assert found is not None
        assert all(str(found.fields.get(k)) == str(v) for k, v in values.items())

    def test_a_contract_is_made_once(self, world: AccountingWorld) -> None:
        ref, _ = self._counterparty(world, 4)
        contract = world.accounting.counterparties.contract_for(ref)
        assert world.accounting.counterparties.contract_for(ref) == contract

    def test_an_invoice_is_created_once_posted_found_and_printed(
        self, world: AccountingWorld
    ) -> None:
        counterparty, _ = self._counterparty(world, 5)
        marker = f"[crm:deal:{stamp()}]"
        line = InvoiceLine(world.product(), Decimal(2), Decimal("150.50"), "Рядок")
        new = NewInvoice(
            counterparty, datetime(2026, 3, 2, 10, 0), f"Угода {marker}", [line], ref_for(marker)
        )
        made = world.accounting.invoices.create(new)
        assert made.ref == new.ref and made.number and not made.posted
        assert made.total == Decimal("301.00")
        assert world.accounting.invoices.create(new).ref == made.ref
        found = world.accounting.invoices.by_marker(marker)
        assert found is not None and found.ref == made.ref
        world.accounting.invoices.post(made.ref)
        posted = world.accounting.invoices.get(made.ref)
        assert posted is not None and posted.posted and posted.number == made.number
        pdf = world.accounting.invoices.pdf(made.ref)
        assert pdf is not None and pdf.startswith(b"%PDF")

    def test_payments_are_found_by_cursor_and_by_invoice_and_summed(
        self, world: AccountingWorld
    ) -> None:
        counterparty, _ = self._counterparty(world, 6)
        line = InvoiceLine(world.product(), Decimal(1), Decimal("1000.00"), "Рядок")
        marker = f"[crm:deal:{stamp()}]"
        now = datetime.now(UTC).astimezone().replace(tzinfo=None, microsecond=0)
        new = NewInvoice(counterparty, now, marker, [line], ref_for(marker))
        invoice = world.accounting.invoices.create(new)
        world.accounting.invoices.post(invoice.ref)
        _, cursor = world.accounting.payments.since(None)
        world.pay(invoice.ref, Decimal("400.00"))
        found, _ = world.accounting.payments.since(cursor)
        assert invoice.ref in {p.invoice_ref for p in found}
        assert invoice.ref in {
            p.invoice_ref for p in world.accounting.payments.paying([invoice.ref])
        }
        assert world.accounting.payments.paid_amount(invoice.ref) == Decimal("400.00")
        world.pay(invoice.ref, Decimal("600.00"))
        assert world.accounting.payments.paid_amount(invoice.ref) == Decimal("1000.00")

    def test_the_catalog_has_products_with_prices(self, world: AccountingWorld) -> None:
        items = list(world.accounting.catalog.items())
        prices = world.accounting.catalog.prices()
        assert items and any(i.ref in prices for i in items)
        assert all(p >= 0 for p in prices.values())
