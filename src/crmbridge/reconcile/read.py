"""Both sides of each entity as `Pair`s: read in bulk, joined, mapped through the config.

What the stale side *should* hold is computed by the flows' own mappings, with the flows'
inputs: products `{"product", "price"}` (catalog), clients `{"company", "requisite",
"deal_total"}` (clients), deals `{"invoice", "paid", "status", "deal"}` (issue_invoice and
payments). Records are joined through the links table first, then by natural key: the tax code
for clients, `XML_ID` = Ref_Key then the product code (`CODE` = `Артикул`) for products, the
`[crm:deal:<id>]` marker of the invoice's `Комментарий` for invoices.
"""

from __future__ import annotations

import contextvars
import re
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge import markers
from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24.crm import deal_of as deal_of_record
from crmbridge.connectors.bitrix24.crm import tax_requisite
from crmbridge.connectors.onec.accounting import invoice_of
from crmbridge.connectors.onec.profile import (
    COUNTERPARTIES,
    INVOICES,
    PAYMENT_ROWS,
    PRODUCTS,
    RECEIPTS,
)
from crmbridge.flows import payments
from crmbridge.flows.context import FlowContext
from crmbridge.flows.invoice import deal_field_values
from crmbridge.flows.rules import CompiledMapping
from crmbridge.reconcile.bulk import bas_all, crm_list, rows_of
from crmbridge.reconcile.compare import Pair
from crmbridge.store import links

_PRICE = re.compile(r"\bprice\b")


@dataclass
class Reader:
    """Reads each list once per run (deals serve both clients and invoices)."""

    ctx: FlowContext
    notes: list[str]
    _deals: list[Record] | None = None

    def deals(self) -> list[Record]:
        if self._deals is None:
            self._deals = crm_list(self.ctx.bitrix24.rest, "crm.deal.list", select=("*", "UF_*"))
        return self._deals

    def mapping(self, name: str) -> CompiledMapping | None:
        found = self.ctx.rules.mappings.get(name)
        if found is None:
            self.notes.append(f"no mapping {name!r} in the config: nothing to compare")
        return found


# products and prices -----------------------------------------------------------------------
def price_fields(mapping: CompiledMapping) -> set[str]:
    """The product fields whose expression uses the `price` input: reported as `prices`."""
    return {name for name, expr in mapping.fields.items() if _PRICE.search(expr.source)}


def products(reader: Reader) -> list[Pair]:
    ctx = reader.ctx
    mapping = reader.mapping(ctx.config.flows.mapping_of("catalog"))
    if mapping is None:
        return []
    select = ("ID", "XML_ID", "CODE", "NAME", *mapping.fields)
    with ThreadPoolExecutor(1, thread_name_prefix="reconcile-crm") as pool:
        # The portal's list and BAS's catalog are read at the same time.
        call = contextvars.copy_context()  # the run's correlation id names these exchanges too
        listed = pool.submit(
            call.run, crm_list, ctx.bitrix24.rest, "crm.product.list", select=select
        )
        prices = _prices(ctx)
        owned = [p for p in bas_all(ctx.bas, PRODUCTS) if not p.get("IsFolder")]
        crm = {str(r["ID"]): r for r in listed.result()}
    by_xml = {str(r.get("XML_ID")): i for i, r in crm.items() if r.get("XML_ID")}
    by_code = {str(r.get("CODE")): i for i, r in crm.items() if r.get("CODE")}
    linked = {ref: crm_id for crm_id, ref in links.all_for(ctx.db, "product").items()}
    pairs, matched = [], set()
    for product in owned:
        if product.get("DeletionMark"):
            continue
        ref = str(product["Ref_Key"])
        inputs = {"product": product, "price": prices.get(ref, Decimal(0))}
        code = str(product.get("Артикул") or product.get("Code") or "")
        crm_id = _first_known(crm, linked.get(ref), by_xml.get(ref), by_code.get(code))
        matched.add(crm_id)
        pairs.append(
            Pair(
                "products", code or ref, "bas", crm_id, ref,
                ctx.rules.values(mapping, inputs), crm.get(crm_id) if crm_id else None,
                label=str(product.get("Description") or ""), payload={"product": product},
            )
        )  # fmt: skip
    pairs += [
        Pair("products", str(r.get("CODE") or r.get("XML_ID") or i), "bas", i, None, None, r,
             label=str(r.get("NAME") or ""))
        for i, r in crm.items() if i not in matched
    ]  # fmt: skip
    return pairs


def _prices(ctx: FlowContext) -> dict[str, Decimal]:
    return ctx.accounting.catalog.prices()


def _first_known(records: dict[str, Record], *candidates: str | None) -> str | None:
    return next((c for c in candidates if c is not None and c in records), None)


# clients -----------------------------------------------------------------------------------
def clients(reader: Reader) -> list[Pair]:
    ctx = reader.ctx
    mapping = reader.mapping(ctx.config.flows.mapping_of("clients"))
    if mapping is None:
        return []
    code_field = ctx.bas.profile.tax_code_field
    parties = [p for p in bas_all(ctx.bas, COUNTERPARTIES) if not p.get("DeletionMark")]
    by_ref = {str(p["Ref_Key"]): p for p in parties}
    by_code: dict[str, Record] = {}
    for one in sorted(parties, key=lambda r: bool(r.get("ОбособленноеПодразделение"))):
        by_code.setdefault(str(one.get(code_field) or ""), one)  # heads first
    linked = links.all_for(ctx.db, "client")
    totals = _deal_totals(reader.deals())
    requisites = _requisites(ctx)
    companies = crm_list(ctx.bitrix24.rest, "crm.company.list", select=("*", "UF_*"))
    pairs, skipped = [], 0
    for company in companies:
        company_id = str(company["ID"])
        found = tax_requisite(requisites.get(company_id, []), ctx.accounting.tax_code_kind)
        if found is None:
            skipped += 1
            continue
        requisite, code = found
        inputs = {"company": company, "requisite": requisite, "deal_total": totals[company_id]}
        if not _allowed(ctx, mapping, inputs):
            continue
        expected = {
            k: v for k, v in ctx.rules.values(mapping, inputs).items() if v not in (None, "")
        }  # the flow never writes an empty value, so an empty one is not mirrored
        party = by_ref.get(linked.get(company_id, "")) or by_code.get(code)
        pairs.append(
            Pair(
                "clients", code, "crm", company_id, str(party["Ref_Key"]) if party else None,
                expected, party, label=str(company.get("TITLE") or ""),
                payload={"company": company, "requisite": requisite, "tax_code": code,
                         "deal_total": totals[company_id]},
            )
        )  # fmt: skip
    if skipped:
        reader.notes.append(f"{skipped} CRM companies have no tax code: not mirrored to BAS")
    known = {str(c["ID"]) for c in companies}
    pairs += [
        Pair("clients", str(by_ref[ref].get(code_field) or ref), "crm", crm_id, ref, None,
             by_ref[ref], label=str(by_ref[ref].get("Description") or ""))
        for crm_id, ref in linked.items() if crm_id not in known and ref in by_ref
    ]  # fmt: skip
    return pairs


def _requisites(ctx: FlowContext) -> dict[str, list[Record]]:
    found: dict[str, list[Record]] = defaultdict(list)
    for r in crm_list(ctx.bitrix24.rest, "crm.requisite.list", filters={"ENTITY_TYPE_ID": 4}):
        found[str(r.get("ENTITY_ID"))].append(r)
    return dict(found)


def _deal_totals(deals: list[Record]) -> defaultdict[str, Decimal]:
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for deal in deals:
        totals[str(deal.get("COMPANY_ID"))] += Decimal(str(deal.get("OPPORTUNITY") or 0))
    return totals


def _allowed(ctx: FlowContext, mapping: CompiledMapping, inputs: dict[str, Any]) -> bool:
    conditions = [mapping.when, ctx.rules.conditions.get("clients")]
    return all(bool(ctx.rules.evaluate(c, inputs)) for c in conditions if c is not None)


# invoices → the deal's BAS-owned fields ----------------------------------------------------
def invoices(reader: Reader) -> list[Pair]:
    ctx = reader.ctx
    if reader.mapping(ctx.config.flows.mapping_of("issue_invoice")) is None:
        return []
    linked = links.all_for(ctx.db, "invoice")  # deal id → invoice Ref_Key
    deal_of = {ref: deal for deal, ref in linked.items()}
    deals = {str(d["ID"]): d for d in reader.deals()}
    paid = paid_amounts(ctx)
    pairs, seen = [], set()
    for invoice in bas_all(ctx.bas, INVOICES, where="DeletionMark eq false"):
        ref = str(invoice["Ref_Key"])
        deal_id = deal_of.get(ref) or markers.deal_in(str(invoice.get("Комментарий") or ""))
        if deal_id is None:
            continue  # not issued from the CRM
        seen.add(deal_id)
        amount = paid.get(ref, Decimal(0))
        state = payments.state_of(invoice_of(invoice), amount)
        deal = deals.get(deal_id)
        expected = deal_field_values(
            ctx,
            deal_of_record(deal or {"ID": deal_id}),
            invoice_of(invoice),
            paid=amount,
            state=state,
        )
        pairs.append(
            Pair(
                "invoices", str(invoice.get("Number") or ref), "bas", deal_id, ref,
                expected, deal, label=f"deal {deal_id}",
                payload={"invoice": invoice, "paid": amount, "state": state},
            )
        )  # fmt: skip
    pairs += [
        Pair("invoices", f"deal {d}", "bas", d, ref, None, deals[d],
             label=str(deals[d].get("TITLE")))
        for d, ref in linked.items() if d not in seen and d in deals
    ]  # fmt: skip
    return pairs


def paid_amounts(ctx: FlowContext) -> dict[str, Decimal]:
    """Invoice Ref_Key → the sum of its posted, not deleted payments, from two bulk reads per
    receipt kind (its payment rows, its documents' heads)."""
    link = ctx.bas.profile.payment_link
    paid: defaultdict[str, Decimal] = defaultdict(Decimal)
    for entity_set in RECEIPTS:
        heads = bas_all(ctx.bas, entity_set, select=("Ref_Key", "Posted", "DeletionMark"))
        counted = {
            str(h["Ref_Key"]) for h in heads if h.get("Posted") and not h.get("DeletionMark")
        }
        select = ("Ref_Key", "LineNumber", "СуммаПлатежа", *link.fields)
        for row in rows_of(ctx.bas, f"{entity_set}_{PAYMENT_ROWS}", select=select):
            invoice = str(row.get(link.fields[0]) or "")
            if str(row["Ref_Key"]) in counted and invoice and link.links(row, invoice):
                paid[invoice] += Decimal(str(row.get("СуммаПлатежа") or 0))
    return dict(paid)


READERS: dict[str, Callable[[Reader], list[Pair]]] = {
    "clients": clients,
    "products": products,
    "invoices": invoices,
}
