"""An example plugin: a reminder task for the rep when an invoice is still unpaid after N days.

Configured as

    plugins:
      overdue:
        module: overdue_invoices:plugin   # this file, on PYTHONPATH
        every: 3600
        settings: {days: 7}

It uses only the ports (no system's words, so it works with Bitrix24 or Kommo, and any BAS), the
links crmbridge keeps, the effect ledger (one reminder per invoice, whatever the retries) and the
decision log (it shows in `crmbridge trace deal <id>`).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from crmbridge import markers
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Task
from crmbridge.plugins import Plugin, Trigger

PAID = ("paid:deal:", ":invoice:")  # the payments flow's effect: the deal moved to paid


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=7, ge=1, description="Unpaid this many days after its date.")
    title: str = "Нагадати клієнту про оплату рахунку {number}"


def remind(ctx: FlowContext, settings: Settings, trigger: Trigger) -> int:
    """Tasks for the reps of invoices issued more than `days` ago and not paid in full."""
    now = ctx.clock.now()
    made = 0
    for deal_id, ref in ctx.links_without("invoice", now - timedelta(days=365), PAID):
        invoice = ctx.accounting.invoices.get(ref)
        key = f"overdue:deal:{deal_id}:invoice:{ref}"
        if invoice is None or invoice.date is None or ctx.done(key):
            continue
        if invoice.date.date() > (now - timedelta(days=settings.days)).date():
            continue
        if ctx.accounting.payments.paid_amount(ref) >= invoice.total:
            continue
        deal = ctx.crm.deals.get(deal_id)
        if deal is None:
            continue
        tag = markers.invoice(ref)
        deadline = now.replace(hour=18, minute=0, second=0, microsecond=0)
        task = Task(
            settings.title.format(number=invoice.number),
            f"Рахунок № {invoice.number} не оплачено {settings.days} днів. {tag}",
            deadline if deadline.time() > now.time() else deadline + timedelta(days=1),
            tag,
        )
        task_id = ctx.crm.deals.add_task(deal, task)
        ctx.record(key, ctx.crm.system, task_id)
        inputs = {"invoice": invoice.number, "days": settings.days}
        rule = "remind about an unpaid invoice"
        ctx.decide("plugin:overdue", rule, inputs, task_id, entity=("deal", deal_id))
        made += 1
    return made


plugin = Plugin(run=remind, settings=Settings, description=__doc__.splitlines()[0])
