"""Payment → CRM: posted receipts in BAS move the deal to "Paid" and give the rep a task.

The poller reads posted bank and cash receipts by cursor and names the invoices they pay. The
cursor is the receipts' `Date` (1C keeps no modification time), so a statement entered today for
a payment dated two weeks ago would be behind it for good: the sweep asks BAS, for the invoices
crmbridge issued that are not paid yet (a bounded set: `sweep_days`), which receipts pay them,
whatever their date. Both hand the same paid invoices to the same job. For each, `apply_payment`
sums the invoice's posted payments (partial payments count), writes the payment status into the
deal, and on full payment moves the deal to the paid stage and creates a "ship the order" task
for the deal's responsible rep, due the next working day. Each step is in
the effect ledger, so a repeated or replayed job changes nothing twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from crmbridge.config.model import PaymentsFlow
from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import payments as bas_payments
from crmbridge.connectors.onec import query
from crmbridge.connectors.onec.profile import BANK_RECEIPTS, CASH_RECEIPTS, PAYMENT_ROWS
from crmbridge.flows.context import FlowContext
from crmbridge.flows.invoice import write_deal_fields

FLOW = "payments"
RECEIPT_KINDS = {"payment": BANK_RECEIPTS, "cash_payment": CASH_RECEIPTS}
_MARKER = re.compile(r"\[crm:deal:(\d+)\]")
# The effect marking an invoice's deal as moved to the paid stage: paid:deal:<id>:invoice:<ref>.
PAID = ("paid:deal:", ":invoice:")


@dataclass(frozen=True)
class PaidInvoice:
    invoice_ref: str
    payment_ref: str
    version: str  # the payment's DataVersion: a changed payment is a new event


def poll(
    ctx: FlowContext, cursor: dict[str, Any] | None
) -> tuple[list[PaidInvoice], dict[str, Any]]:
    """Invoices paid by receipts posted since `cursor`; returns them and the next cursor."""
    state = dict(cursor or {})
    found: list[PaidInvoice] = []
    for kind, entity_set in RECEIPT_KINDS.items():
        page = ctx.bas.changes(kind, state.get(kind))
        for doc in page.records:
            for invoice_ref in invoices_paid_by(ctx, entity_set, doc):
                found.append(
                    PaidInvoice(invoice_ref, str(doc["Ref_Key"]), str(doc.get("DataVersion", "")))
                )
        state[kind] = page.cursor
    return found, state


def sweep(ctx: FlowContext) -> list[PaidInvoice]:
    """Invoices crmbridge issued in the last `sweep_days`, not yet paid in full, that posted
    receipts pay, whatever the receipts' date."""
    flow = ctx.config.flows.payments
    days = flow.sweep_days if flow is not None else PaymentsFlow().sweep_days
    since = ctx.clock.now() - timedelta(days=days)
    open_refs = [ref for _deal, ref in ctx.links_without("invoice", since, PAID)]
    return [
        PaidInvoice(invoice_ref, str(doc["Ref_Key"]), str(doc.get("DataVersion", "")))
        for invoice_ref, doc in bas_payments.receipts_paying(ctx.bas, open_refs)
    ]


def invoices_paid_by(ctx: FlowContext, entity_set: str, doc: Record) -> set[str]:
    rows = doc.get(PAYMENT_ROWS)
    if not isinstance(rows, list):  # a server that does not inline tabular sections
        rows = ctx.bas.client.find(
            f"{entity_set}_{PAYMENT_ROWS}",
            query.Query(filter=query.ref_eq("Ref_Key", str(doc["Ref_Key"]))),
        )
    link = ctx.bas.profile.payment_link
    refs = set()
    for row in rows:
        candidate = str(row.get(link.fields[0]) or "")
        if candidate and link.links(row, candidate):
            refs.add(candidate)
    return refs


def deal_of(ctx: FlowContext, invoice_ref: str, invoice: Record | None = None) -> str | None:
    """The deal an invoice was issued for: our link, else the marker in its comment."""
    linked = ctx.crm_id("invoice", invoice_ref)
    if linked:
        return linked
    invoice = invoice or ctx.bas.get("invoice", invoice_ref) or {}
    found = _MARKER.search(str(invoice.get("Комментарий") or ""))
    return found.group(1) if found else None


def apply_payment(ctx: FlowContext, invoice_ref: str) -> str:
    """Bring the deal up to date with the invoice's payments; returns the payment state."""
    invoice = ctx.bas.get("invoice", invoice_ref)
    if invoice is None:
        return "gone"
    deal_id = deal_of(ctx, invoice_ref, invoice)
    if deal_id is None:
        return "not from the CRM"
    paid, state = payment_state(ctx, invoice, ("deal", deal_id))
    deal = ctx.crm.get("deal", deal_id)
    if deal is None:
        return "deal gone"
    write_deal_fields(ctx, deal, invoice, paid=paid, state=state)
    if state == "paid":
        _on_paid(ctx, deal, invoice)
    return state


def state_of(invoice: Record, paid: Decimal) -> str:
    """unpaid / partial / paid: the rule, on its own (reconciliation uses it too)."""
    total = Decimal(str(invoice.get("СуммаДокумента") or 0))
    return "paid" if total > 0 and paid >= total else ("partial" if paid > 0 else "unpaid")


def payment_state(
    ctx: FlowContext, invoice: Record, entity: tuple[str, str]
) -> tuple[Decimal, str]:
    """The sum of the invoice's posted payments, and unpaid / partial / paid."""
    total = Decimal(str(invoice.get("СуммаДокумента") or 0))
    paid = bas_payments.paid_amount(ctx.bas, str(invoice["Ref_Key"]))
    state = state_of(invoice, paid)
    inputs = {"invoice": invoice.get("Number"), "total": str(total), "paid": str(paid)}
    ctx.decide(FLOW, "paid amount vs invoice total", inputs, state, entity=entity)
    return paid, state


def _on_paid(ctx: FlowContext, deal: Record, invoice: Record) -> None:
    flow = ctx.config.flows.payments
    deal_id, ref = str(deal["ID"]), str(invoice["Ref_Key"])
    entity = ("deal", deal_id)
    stage_key = f"{PAID[0]}{deal_id}{PAID[1]}{ref}"
    if flow is not None and not ctx.done(stage_key):
        if deal.get("STAGE_ID") != flow.paid_stage:
            ctx.crm.put("deal", {"STAGE_ID": flow.paid_stage}, key=deal_id)
            ctx.decide(
                FLOW,
                "move to paid stage",
                {"from": deal.get("STAGE_ID")},
                flow.paid_stage,
                entity=entity,
            )
        ctx.record(stage_key, "bitrix24", deal_id, stage=flow.paid_stage)
    if flow is not None and flow.task is not None:
        _task_once(ctx, deal, invoice, flow.task.title, flow.task.due)


def _task_once(ctx: FlowContext, deal: Record, invoice: Record, title: str, due: str) -> None:
    deal_id, ref = str(deal["ID"]), str(invoice["Ref_Key"])
    key = f"task:deal:{deal_id}:invoice:{ref}"
    if ctx.done(key):
        return
    tag = f"[crm:invoice:{ref}]"
    existing = [
        t
        for t in ctx.crm.deals.tasks(deal_id)
        if tag in str(t.get("description") or t.get("DESCRIPTION") or "")
    ]
    if existing:
        ctx.record(key, "bitrix24", str(existing[0].get("id") or existing[0].get("ID")), found=True)
        return
    deadline = deadline_for(ctx.clock.now(), due)
    task_id = ctx.crm.deals.add_task(
        deal_id,
        title.format(number=invoice.get("Number"), deal=deal_id),
        deal.get("ASSIGNED_BY_ID") or 1,
        description=f"Рахунок № {invoice.get('Number')} оплачено повністю. {tag}",
        deadline=deadline,
    )
    ctx.record(key, "bitrix24", task_id, deadline=deadline)
    ctx.decide(
        FLOW,
        "task for the rep",
        {"responsible": deal.get("ASSIGNED_BY_ID"), "deadline": deadline},
        task_id,
        entity=("deal", deal_id),
    )


def deadline_for(now: datetime, due: str) -> str:
    """18:00 of the same or the next working day (Saturday and Sunday are not working days)."""
    day = now.date()
    if due == "next_working_day":
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return f"{day.isoformat()}T18:00:00+00:00"
