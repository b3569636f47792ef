"""Clients CRM → accounting: a CRM client with its tax code becomes (or updates) a counterparty.

Matched by tax code (ЄДРПОУ for a legal entity, РНОКПП for a ФОП; ИНН in 1С:БП 3.0), never
duplicated: a link is looked up first, then the tax code, and a counterparty crmbridge creates gets
a key derived from the CRM id, so a retry after a crash finds it instead of making another.
Where a head and its branch share a code, the head is the match.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmbridge.errors import Permanent
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Client, NewCounterparty
from crmbridge.markers import ref_for
from crmbridge.taxcodes import tax_code_problem

FLOW = "clients"


def checked(ctx: FlowContext, client: Client) -> str:
    """The client's tax code, once it is there and can be right; Permanent if not: a typo would
    make a counterparty that no bank statement or import ever matches."""
    entity = ("company", client.id)
    if client.tax_code is None:
        raise Permanent(
            f"company {client.id} «{client.title}» has no {client.tax_field} in the CRM: "
            "fill it in, then replay"
        )
    problem = tax_code_problem(client.tax_code, ctx.accounting.tax_code_kind)
    inputs = {"field": client.tax_field, "code": client.tax_code}
    ctx.decide(FLOW, "tax code", inputs, problem or "valid", entity=entity, matched=not problem)
    if problem:
        raise Permanent(
            f"{client.tax_field} of company {client.id}: {problem}; correct it in the CRM, "
            "then replay"
        )
    return client.tax_code


def ensure_counterparty(
    ctx: FlowContext, client: Client, *, deal_total: Decimal | None = None
) -> str | None:
    """The counterparty's key (found, created or updated), or None when a rule says skip."""
    tax_code = checked(ctx, client)
    entity = ("company", client.id)
    inputs = _inputs(client, deal_total)
    if not _allowed(
        ctx, inputs, {"deal_total": inputs["deal_total"], "company": client.title}, entity
    ):
        return None
    values = ctx.rules.values(ctx.rules.mapping(ctx.config.flows.mapping_of("clients")), inputs)
    counterparties = ctx.accounting.counterparties
    linked = ctx.bas_ref("client", client.id)
    if linked and counterparties.get(linked) is not None:
        _update(ctx, linked, values, entity)
        return linked
    found = counterparties.by_tax_code(tax_code)
    heads = [c for c in found if not c.branch] or found
    if heads:
        ref = heads[0].ref
        ctx.decide(FLOW, "match by tax code", {"tax_code": tax_code}, ref, entity=entity)
        _update(ctx, ref, values, entity)
    else:
        ref = _create(ctx, client, tax_code, values, entity)
    ctx.link("client", client.id, ref)
    return ref


def _inputs(client: Client, deal_total: Decimal | None) -> dict[str, Any]:
    total = deal_total if deal_total is not None else Decimal(0)
    return {**client.inputs, "deal_total": total}


def _allowed(
    ctx: FlowContext, inputs: dict[str, Any], shown: dict[str, Any], entity: tuple[str, str]
) -> bool:
    """The `clients` rules (the mapping's `when`, the flow's `when`); `shown` is what the
    decision records of the inputs (the total and the name, not whole records)."""
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("clients"))
    conditions = [mapping.when, ctx.rules.conditions.get(FLOW)]
    for condition in (c for c in conditions if c is not None):
        result = bool(ctx.rules.evaluate(condition, inputs))
        ctx.decide(FLOW, condition.source, shown, result, entity=entity, matched=result)
        if not result:
            return False
    return True


def _create(
    ctx: FlowContext, client: Client, tax_code: str, values: dict[str, Any], entity: tuple[str, str]
) -> str:
    new = NewCounterparty(
        name=client.title,
        tax_code=tax_code,
        person=client.is_person,
        values=values,
        ref=ref_for("client", client.id),
    )
    ref = ctx.accounting.counterparties.create(new)
    ctx.decide(FLOW, "create counterparty", {"tax_code": tax_code}, ref, entity=entity)
    flow = ctx.config.flows.clients
    if flow is None or flow.contract:
        ctx.accounting.counterparties.contract_for(ref)
    return ref


def _update(ctx: FlowContext, ref: str, values: dict[str, Any], entity: tuple[str, str]) -> None:
    """The CRM owns client data: the accounting system's mirror gets the CRM's values where they
    differ."""
    found = ctx.accounting.counterparties.get(ref)
    current = found.fields if found is not None else {}
    stale = {k: v for k, v in values.items() if current.get(k) != v and v not in (None, "")}
    if stale:
        ctx.guard("client", "crm", list(stale))
        ctx.decide(FLOW, "update counterparty", {"changed": sorted(stale)}, ref, entity=entity)
        ctx.accounting.counterparties.update(ref, stale)
