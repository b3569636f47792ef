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

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from crmbridge import markers
from crmbridge.config.model import PaymentsFlow
from crmbridge.flows.context import FlowContext
from crmbridge.flows.invoice import write_deal_fields
from crmbridge.flows.ports import Deal, Invoice, PaidInvoice, Task

FLOW = "payments"
# The effect marking an invoice's deal as moved to the paid stage: paid:deal:<id>:invoice:<ref>.
PAID = ("paid:deal:", ":invoice:")
__all__ = ["PaidInvoice", "apply_payment", "deal_of", "poll", "state_of", "sweep"]


def poll(
    ctx: FlowContext, cursor: dict[str, object] | None
) -> tuple[list[PaidInvoice], dict[str, object]]:
    """Invoices paid by receipts posted since `cursor`; returns them and the next cursor."""
    return ctx.accounting.payments.since(cursor)


def sweep(ctx: FlowContext) -> list[PaidInvoice]:
    """Invoices crmbridge issued in the last `sweep_days`, not yet paid in full, that posted
    receipts pay, whatever the receipts' date."""
    flow = ctx.config.flows.payments
    days = flow.sweep_days if flow is not None else PaymentsFlow().sweep_days
    since = ctx.clock.now() - timedelta(days=days)
    open_refs = [ref for _deal, ref in ctx.links_without("invoice", since, PAID)]
    return ctx.accounting.payments.paying(open_refs)


def deal_of(ctx: FlowContext, invoice_ref: str, invoice: Invoice | None = None) -> str | None:
    """The deal an invoice was issued for: our link, else the marker in its comment."""
    linked = ctx.crm_id("invoice", invoice_ref)
    if linked:
        return linked
    invoice = invoice or ctx.accounting.invoices.get(invoice_ref)
    return markers.deal_in(invoice.comment) if invoice is not None else None


def apply_payment(ctx: FlowContext, invoice_ref: str) -> str:
    """Bring the deal up to date with the invoice's payments; returns the payment state."""
    invoice = ctx.accounting.invoices.get(invoice_ref)
    if invoice is None:
        return "gone"
    deal_id = deal_of(ctx, invoice_ref, invoice)
    if deal_id is None:
        return "not from the CRM"
    paid, state = payment_state(ctx, invoice, ("deal", deal_id))
    deal = ctx.crm.deals.get(deal_id)
    if deal is None:
        return "deal gone"
    write_deal_fields(ctx, deal, invoice, paid=paid, state=state)
    if state == "paid":
        _on_paid(ctx, deal, invoice)
    return state


def state_of(invoice: Invoice, paid: Decimal) -> str:
    """unpaid / partial / paid: the rule, on its own (reconciliation uses it too)."""
    total = invoice.total
    return "paid" if total > 0 and paid >= total else ("partial" if paid > 0 else "unpaid")


def payment_state(
    ctx: FlowContext, invoice: Invoice, entity: tuple[str, str]
) -> tuple[Decimal, str]:
    """The sum of the invoice's posted payments, and unpaid / partial / paid."""
    paid = ctx.accounting.payments.paid_amount(invoice.ref)
    state = state_of(invoice, paid)
    inputs = {"invoice": invoice.number, "total": str(invoice.total), "paid": str(paid)}
    ctx.decide(FLOW, "paid amount vs invoice total", inputs, state, entity=entity)
    return paid, state


def _on_paid(ctx: FlowContext, deal: Deal, invoice: Invoice) -> None:
    flow = ctx.config.flows.payments
    entity = ("deal", deal.id)
    stage_key = f"{PAID[0]}{deal.id}{PAID[1]}{invoice.ref}"
    if flow is not None and not ctx.done(stage_key):
        if deal.stage != flow.paid_stage:
            ctx.crm.deals.move_to_stage(deal.id, flow.paid_stage)
            inputs = {"from": deal.stage}
            ctx.decide(FLOW, "move to paid stage", inputs, flow.paid_stage, entity=entity)
        ctx.record(stage_key, ctx.crm.system, deal.id, stage=flow.paid_stage)
    if flow is not None and flow.task is not None:
        _task_once(ctx, deal, invoice, flow.task.title, flow.task.due)


def _task_once(ctx: FlowContext, deal: Deal, invoice: Invoice, title: str, due: str) -> None:
    key = f"task:deal:{deal.id}:invoice:{invoice.ref}"
    if ctx.done(key):
        return
    tag = markers.invoice(invoice.ref)
    existing = ctx.crm.deals.find_task(deal.id, tag)
    if existing is not None:
        ctx.record(key, ctx.crm.system, existing, found=True)
        return
    task = Task(
        title=title.format(number=invoice.number, deal=deal.id),
        description=f"Рахунок № {invoice.number} оплачено повністю. {tag}",
        deadline=deadline_for(ctx.clock.now(), due),
        tag=tag,
    )
    task_id = ctx.crm.deals.add_task(deal, task)
    deadline = task.deadline.isoformat()
    ctx.record(key, ctx.crm.system, task_id, deadline=deadline)
    inputs = {"responsible": deal.responsible, "deadline": deadline}
    ctx.decide(FLOW, "task for the rep", inputs, task_id, entity=("deal", deal.id))


def deadline_for(now: datetime, due: str) -> datetime:
    """18:00 UTC of the same or the next working day (Saturday and Sunday are not working
    days)."""
    day = now.date()
    if due == "next_working_day":
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(18, 0), tzinfo=UTC)
