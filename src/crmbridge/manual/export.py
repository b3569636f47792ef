"""`crmbridge export`: the records the procedure transfers, as rows of the file the accountant
(or the rep) opens. Read-only on both systems.

- deals: deals in the invoice stage (`flows.issue_invoice.invoice_stage`), one row per product
  row, with the company, its tax code and the BAS code of each product;
- companies: CRM companies with their tax code;
- products: the BAS catalog with prices of `systems.bas.price_type`;
- invoices: BAS invoices issued for CRM deals (`[crm:deal:<id>]` in the comment), with what has
  been paid.

`since` narrows to records changed (deals, companies) or dated (invoices) on or after that day;
`where` is a CEL condition over the same inputs the mappings see (`deal`, `company`,
`requisite`; `product`, `price`; `invoice`, `paid`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmbridge import markers
from crmbridge.config.expressions import Expression
from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24.crm import tax_requisite
from crmbridge.connectors.onec import objects
from crmbridge.connectors.onec.payments import paid_amount
from crmbridge.errors import ConfigError
from crmbridge.flows.context import FlowContext
from crmbridge.manual.layouts import What
from crmbridge.manual.runlog import Run


def rows(
    ctx: FlowContext, what: What, run: Run, *, since: date | None, where: Expression | None
) -> list[list[Any]]:
    if what == "products" and since is not None:
        raise ConfigError("--since: BAS keeps no change date on products; export them all")
    make = {"deals": _deals, "companies": _companies, "products": _products, "invoices": _invoices}
    found = list(make[what](ctx, run, since, where))
    run.count("rows", len(found))
    return found


def _keep(ctx: FlowContext, where: Expression | None, inputs: dict[str, Any]) -> bool:
    return where is None or bool(ctx.rules.evaluate(where, inputs))


def _with_tax_code(ctx: FlowContext, requisites: list[Record]) -> tuple[Record, str]:
    """The requisite and tax code the clients flow would take (the same rule, so an export
    never shows another code than the flow matches by); the first requisite and "" if none."""
    found = tax_requisite(requisites, ctx.accounting.tax_code_kind)
    return found if found is not None else (next(iter(requisites), {}), "")


def _day(value: Any) -> date | None:
    try:
        return datetime.fromisoformat(str(value)).date() if value else None
    except ValueError:
        return None


def _modified_since(since: date | None) -> dict[str, Any]:
    return {} if since is None else {">=DATE_MODIFY": since.isoformat()}


def _deals(
    ctx: FlowContext, run: Run, since: date | None, where: Expression | None
) -> Iterator[list[Any]]:
    flow = ctx.config.flows.issue_invoice
    stage = flow.invoice_stage if flow is not None else "PREPAYMENT_INVOICE"
    codes = _bas_codes(ctx)
    for deal in ctx.bitrix24.iterate("deal", {"STAGE_ID": stage, **_modified_since(since)}):
        bundle = ctx.bitrix24.deals.bundle(str(deal["ID"]))
        company = bundle["company"] or {}
        requisite, tax_code = _with_tax_code(ctx, list(bundle["requisites"]))
        inputs = {"deal": bundle["deal"], "company": company, "requisite": requisite}
        if not _keep(ctx, where, inputs):
            continue
        run.touched("deal", str(deal["ID"]))
        run.count("deals")
        for row in bundle["rows"]:
            quantity = Decimal(str(row.get("QUANTITY") or 0))
            price = Decimal(str(row.get("PRICE") or 0))
            yield [
                int(deal["ID"]),
                _day(deal.get("DATE_CREATE")),
                deal.get("TITLE"),
                int(company["ID"]) if company else None,
                company.get("TITLE"),
                requisite.get("RQ_COMPANY_FULL_NAME") or company.get("TITLE"),
                tax_code,
                codes.get(str(row.get("PRODUCT_ID")), ""),
                row.get("PRODUCT_NAME"),
                quantity,
                price,
                (quantity * price).quantize(objects.CENT),
            ]


def _bas_codes(ctx: FlowContext) -> dict[str, str]:
    """CRM product id → the BAS product's code (through `XML_ID`, the BAS Ref_Key)."""
    by_ref = {str(p["Ref_Key"]): str(p.get("Code") or "") for p in objects.products(ctx.bas)}
    return {
        str(p["ID"]): by_ref[str(p["XML_ID"])]
        for p in ctx.bitrix24.iterate("product")
        if str(p.get("XML_ID") or "") in by_ref
    }


def _companies(
    ctx: FlowContext, run: Run, since: date | None, where: Expression | None
) -> Iterator[list[Any]]:
    for company in ctx.bitrix24.iterate("company", _modified_since(since)):
        full = ctx.bitrix24.companies.with_requisites(str(company["ID"]))
        requisite, tax_code = _with_tax_code(ctx, list(full["REQUISITES"]))
        if not _keep(ctx, where, {"company": full, "requisite": requisite}):
            continue
        run.touched("company", str(company["ID"]))
        yield [
            int(company["ID"]),
            full.get("TITLE"),
            requisite.get("RQ_COMPANY_FULL_NAME") or full.get("TITLE"),
            tax_code,
        ]


def _products(
    ctx: FlowContext, run: Run, since: date | None, where: Expression | None
) -> Iterator[list[Any]]:
    prices = ctx.accounting.catalog.prices()
    for product in objects.products(ctx.bas):
        price = prices.get(str(product["Ref_Key"]), Decimal(0))
        if product.get("DeletionMark") or not _keep(
            ctx, where, {"product": product, "price": price}
        ):
            continue
        yield [
            product.get("Code"),
            product.get("Description"),
            product.get("Артикул"),
            price,
            product.get("СтавкаНДС"),
        ]


def _invoices(
    ctx: FlowContext, run: Run, since: date | None, where: Expression | None
) -> Iterator[list[Any]]:
    parties: dict[str, Record] = {}
    for invoice in ctx.bas.iterate("invoice", {"DeletionMark": False}):
        found = markers.deal_in(str(invoice.get("Комментарий") or ""))
        day = _day(invoice.get("Date"))
        if found is None or (since is not None and (day is None or day < since)):
            continue
        paid = paid_amount(ctx.bas, str(invoice["Ref_Key"]))
        if not _keep(ctx, where, {"invoice": invoice, "paid": paid}):
            continue
        key = str(invoice.get("Контрагент_Key") or "")
        if key not in parties:
            parties[key] = ctx.bas.get("counterparty", key) or {}
        party = parties[key]
        run.touched("deal", found)
        yield [
            invoice.get("Number"),
            day,
            int(found),
            party.get("Description"),
            party.get(ctx.bas.profile.tax_code_field),
            Decimal(str(invoice.get("СуммаДокумента") or 0)),
            paid,
        ]
