"""`--fix`: re-push from the owner, never the other way, through the flows' own writes.

Products: the stale fields of linked CRM products in `batch`es of 50 `crm.product.update`, the
missing ones through the catalog upsert (by `XML_ID`), then linked. Clients: the clients flow's
`ensure_counterparty` (updates what differs, creates what is missing, matched by tax code).
Invoices: the invoice flow's `write_deal_fields` (only what differs is sent). Every write is an
exchange in the log (the connectors record it) and each re-pushed record gets a `reconcile`
decision naming the fields, so `crmbridge trace deal 123` shows it. Orphans are only reported:
the owner has nothing to push.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge.connectors.bitrix24.batch import Command, chunks
from crmbridge.connectors.bitrix24.crm import client_of, deal_of
from crmbridge.connectors.onec.accounting import invoice_of
from crmbridge.errors import CrmbridgeError
from crmbridge.flows import clients, invoice
from crmbridge.flows.context import FlowContext
from crmbridge.reconcile.compare import Pair, Split, same

FLOW = "reconcile"


@dataclass(frozen=True)
class Fixed:
    records: int  # records re-pushed
    errors: list[str]


def stale_fields(pair: Pair, split: Split) -> dict[str, Any]:
    """The owner's values of the fields that differ (all of them when the record is missing)."""
    if pair.expected is None or (split(pair.entity, None) is None and pair.actual is None):
        return {}
    if pair.actual is None:
        return dict(pair.expected)
    return {
        k: v
        for k, v in pair.expected.items()
        if split(pair.entity, k) is not None and not same(v, pair.actual.get(k))
    }


def fix(ctx: FlowContext, pairs: list[Pair], split: Split) -> Fixed:
    todo = [(p, s) for p in pairs if (s := stale_fields(p, split))]
    errors: list[str] = []
    products = [(p, s) for p, s in todo if p.entity == "products"]
    done = _products(ctx, products, errors) if products else 0
    for pair, stale in todo:
        if pair.entity == "products":
            continue
        try:
            _one(ctx, pair, stale)
            done += 1
        except CrmbridgeError as exc:
            errors.append(f"{pair.entity} {pair.key}: {exc.message}")
    return Fixed(done, errors)


def _one(ctx: FlowContext, pair: Pair, stale: dict[str, Any]) -> None:
    if pair.entity == "clients":
        p = pair.payload
        client = client_of(p["company"], [p["requisite"]], ctx.accounting.tax_code_kind)
        clients.ensure_counterparty(ctx, client, deal_total=Decimal(str(p["deal_total"])))
        _decide(ctx, pair, stale, ("company", str(pair.crm_id)))
    elif pair.entity == "invoices" and pair.actual is not None:
        p = pair.payload
        invoice.write_deal_fields(
            ctx,
            deal_of(dict(pair.actual)),
            invoice_of(p["invoice"]),
            paid=p["paid"],
            state=str(p["state"]),
        )
        _decide(ctx, pair, stale, ("deal", str(pair.crm_id)))


def _products(ctx: FlowContext, todo: list[tuple[Pair, dict[str, Any]]], errors: list[str]) -> int:
    ctx.guard("product", "bas", sorted({k for _, s in todo for k in s}))
    updates = {f"u{n}": (p, s) for n, (p, s) in enumerate(todo) if p.crm_id is not None}
    commands = {
        name: Command("crm.product.update", {"id": p.crm_id, "fields": _wire(s)})
        for name, (p, s) in updates.items()
    }
    done = 0
    for part in chunks(commands):
        answer = ctx.bitrix24.rest.batch(part)
        for name in part:
            pair, stale = updates[name]
            if name in answer.errors:
                errors.append(f"product {pair.key}: {answer.errors[name].message}")
                continue
            _decide(ctx, pair, stale, ("product", str(pair.crm_id)))
            done += 1
    missing = [(p, s) for p, s in todo if p.crm_id is None]
    if missing:
        ids = ctx.crm.products.upsert([_wire(s) for _, s in missing])
        for (pair, stale), crm_id in zip(missing, ids, strict=True):
            ctx.link("product", crm_id, str(pair.bas_ref))
            _decide(ctx, pair, stale, ("product", crm_id))
            done += 1
    return done


def _wire(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal | float) else v for k, v in values.items()}


def _decide(ctx: FlowContext, pair: Pair, stale: dict[str, Any], entity: tuple[str, str]) -> None:
    before = {k: (pair.actual or {}).get(k) for k in stale}
    ctx.decide(
        FLOW,
        f"re-push {pair.entity} from {pair.owner}" + (" (missing)" if pair.actual is None else ""),
        {"key": pair.key, "bas_ref": pair.bas_ref, "owner": stale, "stale": before},
        sorted(stale),
        entity=entity,
    )
