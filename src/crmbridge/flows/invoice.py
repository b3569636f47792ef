"""Issue invoice: a deal in the invoice stage becomes a posted invoice, its PDF on the deal.

Steps, each recorded in the effect ledger so a retry resumes where the last attempt stopped:
1. re-read the deal, its rows and client (events carry only the id);
2. ensure the counterparty (clients flow);
3. find the invoice made for this deal, or create it (its key derived from the deal id, and
   the deal's marker in its comment so a person can see and search the link);
4. post it; 5. get its printed form and attach it to the deal with a note, once;
6. write the accounting-owned deal fields (number, payment status) from the `deal_invoice`
   mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge import markers
from crmbridge.errors import Permanent
from crmbridge.flows import clients
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import (
    Deal,
    DealBundle,
    DealRow,
    Document,
    Invoice,
    InvoiceLine,
    NewInvoice,
)
from crmbridge.markers import ref_for

FLOW = "issue_invoice"


@dataclass(frozen=True)
class Issued:
    ref: str
    number: str
    total: Decimal


def issue_invoice(ctx: FlowContext, deal_id: str) -> Issued:
    bundle = ctx.crm.deals.bundle(deal_id)
    if bundle is None:
        raise Permanent(f"{ctx.crm.system}: no deal {deal_id}")
    key = f"invoice:deal:{deal_id}"
    recorded = ctx.done(key)
    invoices = ctx.accounting.invoices
    invoice = invoices.get(recorded.external_id) if recorded and recorded.external_id else None
    if invoice is None:
        invoice = _find_or_create(ctx, bundle)
        ctx.record(key, ctx.accounting.system, invoice.ref, number=invoice.number)
        ctx.link("invoice", deal_id, invoice.ref)
    if not invoice.posted:
        invoices.post(invoice.ref)
        ctx.decide(FLOW, "post invoice", {"number": invoice.number}, True, entity=("deal", deal_id))
    _attach_once(ctx, deal_id, invoice)
    write_deal_fields(ctx, bundle.deal, invoice, paid=Decimal(0), state="unpaid")
    return Issued(invoice.ref, invoice.number, invoice.total)


def _find_or_create(ctx: FlowContext, bundle: DealBundle) -> Invoice:
    deal = bundle.deal
    existing = find_existing(ctx, deal.id)
    entity = ("deal", deal.id)
    if existing is not None:
        marker = {"marker": markers.deal(deal.id)}
        ctx.decide(FLOW, "invoice exists", marker, existing.number, entity=entity)
        return existing
    if bundle.client is None:
        raise Permanent(f"deal {deal.id} has no company: BAS needs a counterparty to invoice")
    counterparty = clients.ensure_counterparty(ctx, bundle.client, deal_total=deal.total)
    if counterparty is None:
        raise Permanent(f"a rule refused company {bundle.client.id}: no invoice for deal {deal.id}")
    lines = [_line(ctx, row) for row in bundle.rows]
    if not lines:
        raise Permanent(f"deal {deal.id} has no product rows to invoice")
    created = ctx.accounting.invoices.create(new_invoice(ctx, deal, counterparty, lines))
    inputs: dict[str, Any] = {"rows": len(lines), "deal_total": str(deal.total)}
    inputs["counterparty"] = counterparty
    ctx.decide(FLOW, "create invoice", inputs, created.number, entity=entity)
    return created


def new_invoice(
    ctx: FlowContext, deal: Deal, counterparty: str, lines: list[InvoiceLine]
) -> NewInvoice:
    """Dated now, keyed by the deal, with the comment that carries the deal's marker (the
    natural key that makes creation idempotent)."""
    return NewInvoice(
        counterparty=counterparty,
        date=ctx.clock.now().astimezone().replace(tzinfo=None, microsecond=0),
        comment=f"Угода CRM № {deal.id} «{deal.title}» {markers.deal(deal.id)}",
        lines=lines,
        ref=ref_for("invoice", deal.id),
    )


def find_existing(ctx: FlowContext, deal_id: str) -> Invoice | None:
    """The deal's invoice if the accounting system has it: by the key we give it, then by the
    marker a person sees in its comment (an invoice made by hand for the deal)."""
    invoices = ctx.accounting.invoices
    return invoices.get(ref_for("invoice", deal_id)) or invoices.by_marker(markers.deal(deal_id))


def _line(ctx: FlowContext, row: DealRow) -> InvoiceLine:
    if row.product_id is None:
        raise Permanent(f"deal row «{row.name}» is free text: BAS needs a catalog product")
    ref = _product_ref(ctx, row.product_id)
    product = ctx.accounting.invoices.product(ref)
    if product is None:
        raise Permanent(f"CRM product {row.product_id} points at BAS product {ref}, which is gone")
    return InvoiceLine(product, row.quantity, row.price, row.name or product.name)


def _product_ref(ctx: FlowContext, product_id: str) -> str:
    linked = ctx.bas_ref("product", product_id)
    if linked:
        return linked
    external = ctx.crm.products.external_id(product_id)
    if not external:
        raise Permanent(
            f"CRM product {product_id} is not linked to BAS (no external id): run the catalog sync"
        )
    ctx.link("product", product_id, external)
    return external


def _attach_once(ctx: FlowContext, deal_id: str, invoice: Invoice) -> None:
    key = f"invoice:deal:{deal_id}:pdf:{invoice.ref}"
    if ctx.done(key):
        return
    tag = markers.invoice(invoice.ref)
    found = ctx.crm.deals.find_note(deal_id, tag)
    if found is not None:
        ctx.record(key, ctx.crm.system, found, found=True)
        return
    pdf = ctx.accounting.invoices.pdf(invoice.ref)
    if pdf is None:
        raise Permanent(f"invoice {invoice.ref} is no longer in BAS: nothing to print")
    date = invoice.date.strftime("%d.%m.%Y") if invoice.date else ""
    document = Document(
        name=f"rakhunok-{invoice.number}.pdf",
        content=pdf,
        note=f"Рахунок № {invoice.number} від {date} з BAS {tag}",
        tag=tag,
    )
    note_id = ctx.crm.deals.attach(deal_id, document)
    ctx.record(key, ctx.crm.system, note_id, file=document.name, bytes=len(pdf))
    flow = ctx.config.flows.issue_invoice
    inputs = {"file": document.name, "bytes": len(pdf), "pdf": flow.pdf if flow else "render"}
    ctx.decide(FLOW, "attach PDF", inputs, note_id, entity=("deal", deal_id))


def write_deal_fields(
    ctx: FlowContext, deal: Deal, invoice: Invoice, *, paid: Decimal, state: str
) -> dict[str, Any]:
    """The accounting-owned deal fields, from the `deal_invoice` mapping; only what differs is
    sent."""
    name = ctx.config.flows.mapping_of("issue_invoice")
    values = deal_field_values(ctx, deal, invoice, paid=paid, state=state)
    changed = {k: v for k, v in values.items() if str(deal.fields.get(k) or "") != str(v)}
    if changed:
        ctx.guard("deal", "bas", list(changed))
        ctx.crm.deals.set_fields(deal.id, changed)
        ctx.decide(
            FLOW if state == "unpaid" else "payments",
            f"mapping {name}",
            {"number": invoice.number, "paid": str(paid), "state": state},
            changed,
            entity=("deal", deal.id),
        )
    return changed


def deal_field_values(
    ctx: FlowContext, deal: Deal, invoice: Invoice, *, paid: Decimal, state: str
) -> dict[str, Any]:
    """What the accounting-owned deal fields should hold for this invoice (the owner's values):
    what the payments flow writes, drift checks and reconciliation compares."""
    inputs = {
        "invoice": invoice.fields,
        "paid": paid,
        "status": status_label(ctx, state),
        "deal": deal.fields,
    }
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("issue_invoice"))
    return ctx.rules.values(mapping, inputs)


def status_label(ctx: FlowContext, state: str) -> str:
    """The label the config gives a payment state (`flows.payments.statuses`), else the state."""
    flow = ctx.config.flows.payments
    statuses = {str(k): v for k, v in (flow.statuses if flow else {}).items()}
    return statuses.get(state, state)
