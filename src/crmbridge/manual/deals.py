"""Deals → BAS invoices, with the middleware's steps and keys: counterparty by tax code
(`flows.clients`), invoice by the effect key `invoice:deal:<id>`, the Ref_Key derived from the
deal id, or the `[crm:deal:<id>]` marker (`flows.invoice`). An existing invoice is never changed:
BAS owns it; a different total is reported."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import objects
from crmbridge.connectors.onec.objects import CENT
from crmbridge.flows import clients, invoice
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Deal, Invoice, InvoiceLine, Product
from crmbridge.manual.items import FLOW, Found, Item, client_of, noted
from crmbridge.manual.layouts import Problem, Row
from crmbridge.manual.runlog import Run
from crmbridge.taxcodes import tax_code_problem


# checks ---------------------------------------------------------------------------------
def check_deals(ctx: FlowContext, rows: list[Row]) -> Found:
    catalog = {str(p.get("Code") or ""): p for p in objects.products(ctx.bas)}
    profile = ctx.accounting.tax_code_kind
    problems: list[Problem] = []
    groups: dict[int, Item] = {}
    for row in rows:
        v = row.values
        why = tax_code_problem(v["tax_code"], profile)
        if why:
            problems.append(Problem(row.number, "ЄДРПОУ", why))
        if v["product_code"] not in catalog:
            message = f"unknown product: BAS has no product with code {v['product_code']}"
            problems.append(Problem(row.number, "Код товару", message))
        amount = v.get("amount")
        if amount is not None and abs(amount - v["quantity"] * v["price"]) > Decimal("0.01"):
            shown = f"{amount} is not Кількість × Ціна = {v['quantity'] * v['price']}"
            problems.append(Problem(row.number, "Сума", shown))
        item = groups.setdefault(
            v["deal_id"], Item(f"deal {v['deal_id']}", [], group=str(v["deal_id"]))
        )
        first = item.rows[0].values if item.rows else v
        for key, header in (("company_id", "Компанія №"), ("tax_code", "ЄДРПОУ")):
            if v[key] != first[key]:
                earlier = item.rows[0].number
                message = f"{v[key]}, but deal {v['deal_id']} has {first[key]} on row {earlier}"
                problems.append(Problem(row.number, header, message))
        item.rows.append(row)
        item.data["catalog"] = catalog
    return Found(list(groups.values()), problems)


def write_deals(ctx: FlowContext, items: list[Item], run: Run) -> None:
    for item in items:
        deal_id = str(item.rows[0].values["deal_id"])
        existing = _existing_invoice(ctx, deal_id)
        if existing is not None:
            run.count("invoices found")
            _compare(run, deal_id, item, existing)
        made = existing or _create_invoice(ctx, deal_id, item)
        if made is None:
            run.count("refused by a rule")
            run.errors.append(f"deal {deal_id}: a clients rule refused its company: no invoice")
            noted(ctx, run, ("deal", deal_id), item, {"invoice": None})
            continue
        if existing is None:
            run.count("invoices created")
        if not made.posted:
            ctx.accounting.invoices.post(made.ref)
        result = {"invoice": made.number, "new": existing is None}
        noted(ctx, run, ("deal", deal_id), item, result)


def _compare(run: Run, deal_id: str, item: Item, existing: Invoice) -> None:
    """An invoice is never changed from a file (BAS owns it); a different total is reported."""
    total = sum((r.values["quantity"] * r.values["price"] for r in item.rows), Decimal(0))
    have = existing.total
    if have != total.quantize(CENT):
        run.count("invoices differing")
        run.errors.append(
            f"deal {deal_id}: invoice {existing.number} exists with total {have}, the "
            f"file's rows {', '.join(map(str, item.numbers))} total {total}; the invoice is "
            "not changed (BAS owns it): correct it in BAS or the deal in the CRM"
        )


def _existing_invoice(ctx: FlowContext, deal_id: str) -> Invoice | None:
    recorded = ctx.done(f"invoice:deal:{deal_id}")
    invoices = ctx.accounting.invoices
    found = invoices.get(recorded.external_id) if recorded and recorded.external_id else None
    return found or invoice.find_existing(ctx, deal_id)  # the middleware's own lookups


def _create_invoice(ctx: FlowContext, deal_id: str, item: Item) -> Invoice | None:
    first = item.rows[0].values
    total = sum((r.values["quantity"] * r.values["price"] for r in item.rows), Decimal(0))
    counterparty = clients.ensure_counterparty(ctx, client_of(ctx, first), deal_total=total)
    if counterparty is None:
        return None  # a rule of the clients flow said no (its decision is in the trace)
    catalog: dict[str, Record] = item.data["catalog"]
    lines = [_line(catalog[r.values["product_code"]], r.values) for r in item.rows]
    deal = Deal(deal_id, str(first.get("title") or ""), total, "", None, None)
    created = ctx.accounting.invoices.create(invoice.new_invoice(ctx, deal, counterparty, lines))
    ctx.record(f"invoice:deal:{deal_id}", ctx.accounting.system, created.ref, number=created.number)
    ctx.link("invoice", deal_id, created.ref)
    inputs = {"rows": len(lines), "deal_total": str(total), "counterparty": counterparty}
    ctx.decide(FLOW, "create invoice", inputs, created.number, entity=("deal", deal_id))
    return created


def _line(product: Record, values: dict[str, Any]) -> InvoiceLine:
    name = str(product.get("Description") or "")
    return InvoiceLine(
        Product(str(product["Ref_Key"]), name, product),
        values["quantity"],
        values["price"],
        str(values.get("product") or name),
    )
