"""Drift: a mirrored field changed on the side that does not own it.

The BAS-owned deal fields (invoice number, payment status) are compared with what BAS says
whenever the deal changes. A difference is recorded as a `drift` decision (field, CRM value,
owner's value) and, by the configured policy, either only reported or overwritten from the owner.
Our own writes make the values equal, so they never trigger another write: no loop.
"""

from __future__ import annotations

from typing import Any

from crmbridge.flows.context import FlowContext
from crmbridge.flows.invoice import deal_field_values, write_deal_fields
from crmbridge.flows.payments import payment_state
from crmbridge.flows.ports import Deal

FLOW = "drift"


def check_deal(ctx: FlowContext, deal: Deal, invoice_ref: str) -> dict[str, Any]:
    """The drifted fields as {field: {"crm": value, "bas": owner's value}} (empty: none)."""
    invoice = ctx.accounting.invoices.get(invoice_ref)
    if invoice is None:
        return {}
    deal_id = deal.id
    paid, state = payment_state(ctx, invoice, ("deal", deal_id))
    expected = deal_field_values(ctx, deal, invoice, paid=paid, state=state)
    drifted = {
        field: {"crm": deal.fields.get(field), "bas": value}
        for field, value in expected.items()
        if str(deal.fields.get(field) or "") != str(value)
    }
    if drifted:
        policy = ctx.config.flows.drift.policy
        ctx.decide(
            FLOW,
            f"BAS-owned deal fields (policy {policy})",
            drifted,
            policy,
            entity=("deal", deal_id),
        )
        if policy == "overwrite":
            write_deal_fields(ctx, deal, invoice, paid=paid, state=state)
    return drifted
