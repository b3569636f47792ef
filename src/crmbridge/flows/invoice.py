"""Issue invoice: a deal in the invoice stage becomes a posted BAS invoice, its PDF on the deal.

Steps, each recorded in the effect ledger so a retry resumes where the last attempt stopped:
1. re-read the deal, its rows, company and requisites (events carry only the id);
2. ensure the counterparty and its contract (clients flow);
3. find the invoice made for this deal, or create it (Ref_Key derived from the deal id, and
   `[crm:deal:<id>]` in `Комментарий` so a person can see and search the link in BAS);
4. post it; 5. make the PDF (rendered from OData, or BAS's own print form from an extension's
   HTTP service: `flows.issue_invoice.pdf`) and attach it to the deal (timeline comment and/or
   file field), once;
6. write the BAS-owned deal fields (number, payment status) from the `deal_invoice` mapping.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge import documents
from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import literals, objects, query
from crmbridge.connectors.onec.profile import INVOICES
from crmbridge.errors import Permanent
from crmbridge.flows import clients
from crmbridge.flows.context import FlowContext, ref_for

FLOW = "issue_invoice"


@dataclass(frozen=True)
class Issued:
    ref: str
    number: str
    total: Decimal


def marker(deal_id: str) -> str:
    return f"[crm:deal:{deal_id}]"


def issue_invoice(ctx: FlowContext, deal_id: str) -> Issued:
    bundle = ctx.crm.deals.bundle(deal_id)
    key = f"invoice:deal:{deal_id}"
    recorded = ctx.done(key)
    invoice = (
        ctx.bas.get("invoice", recorded.external_id) if recorded and recorded.external_id else None
    )
    if invoice is None:
        invoice = _find_or_create(ctx, bundle, deal_id)
        ctx.record(key, "bas", str(invoice["Ref_Key"]), number=invoice["Number"])
        ctx.link("invoice", deal_id, str(invoice["Ref_Key"]))
    ref, number = str(invoice["Ref_Key"]), str(invoice["Number"])
    if not invoice.get("Posted"):
        ctx.bas.post("invoice", ref)
        ctx.decide(FLOW, "post invoice", {"number": number}, True, entity=("deal", deal_id))
    _attach_once(ctx, deal_id, invoice)
    write_deal_fields(ctx, bundle["deal"], invoice, paid=Decimal(0), state="unpaid")
    return Issued(ref, number, Decimal(str(invoice.get("СуммаДокумента") or 0)))


def _find_or_create(ctx: FlowContext, bundle: Record, deal_id: str) -> Record:
    existing = find_existing(ctx, deal_id)
    entity = ("deal", deal_id)
    if existing is not None:
        ctx.decide(
            FLOW, "invoice exists", {"marker": marker(deal_id)}, existing["Number"], entity=entity
        )
        return existing
    deal, company = bundle["deal"], bundle["company"]
    if company is None:
        raise Permanent(f"deal {deal_id} has no company: BAS needs a counterparty to invoice")
    client = clients.client_of(ctx, company, bundle["requisites"])
    total = Decimal(str(deal.get("OPPORTUNITY") or 0))
    counterparty = clients.ensure_counterparty(ctx, client, deal_total=total)
    if counterparty is None:
        raise Permanent(
            f"a rule refused company {client.company_id}: no invoice for deal {deal_id}"
        )
    lines = [_line(ctx, row) for row in bundle["rows"]]
    if not lines:
        raise Permanent(f"deal {deal_id} has no product rows to invoice")
    header = invoice_header(ctx, deal_id, str(deal.get("TITLE", "")), counterparty)
    created = objects.create_invoice(ctx.bas, header, lines, ref=ref_for("invoice", deal_id))
    inputs = {"rows": len(lines), "deal_total": str(total), "counterparty": counterparty}
    ctx.decide(FLOW, "create invoice", inputs, created["Number"], entity=entity)
    return created


def find_existing(ctx: FlowContext, deal_id: str) -> Record | None:
    """The deal's invoice if BAS has it: by the Ref_Key we give it, then by the marker a person
    sees in Комментарий (an invoice made by hand for the deal)."""
    return ctx.bas.get("invoice", ref_for("invoice", deal_id)) or by_marker(ctx, deal_id)


def invoice_header(
    ctx: FlowContext, deal_id: str, title: str, counterparty: str
) -> objects.InvoiceHeader:
    """Our organisation, the counterparty's main contract, the currency, now, and the comment
    that carries the deal's marker (the natural key that makes creation idempotent)."""
    return objects.InvoiceHeader(
        organisation=clients.organisation(ctx),
        counterparty=counterparty,
        contract=clients.ensure_contract(ctx, counterparty),
        currency=clients.currency(ctx),
        date=ctx.clock.now().astimezone().replace(tzinfo=None, microsecond=0),
        comment=f"Угода CRM № {deal_id} «{title}» {marker(deal_id)}",
    )


def by_marker(ctx: FlowContext, deal_id: str) -> Record | None:
    condition = f"substringof({literals.string(marker(deal_id))}, Комментарий)"
    found = ctx.bas.client.find(
        INVOICES,
        query.Query(filter=query.all_of(condition, "DeletionMark eq false"), orderby=("Ref_Key",)),
    )
    return found[0] if found else None


def _line(ctx: FlowContext, row: Record) -> objects.Line:
    product_id = str(row.get("PRODUCT_ID") or "0")
    if product_id == "0":
        raise Permanent(
            f"deal row «{row.get('PRODUCT_NAME')}» is free text: BAS needs a catalog product"
        )
    ref = _product_ref(ctx, product_id)
    product = ctx.bas.get("product", ref)
    if product is None:
        raise Permanent(f"CRM product {product_id} points at BAS product {ref}, which is gone")
    return objects.Line(
        product=ref,
        quantity=Decimal(str(row.get("QUANTITY") or 0)),
        price=Decimal(str(row.get("PRICE") or 0)),
        vat_rate=str(product.get("СтавкаНДС") or "БезНДС"),
        service=bool(product.get("Услуга")),
        text=str(row.get("PRODUCT_NAME") or product.get("Description") or ""),
    )


def _product_ref(ctx: FlowContext, product_id: str) -> str:
    linked = ctx.bas_ref("product", product_id)
    if linked:
        return linked
    product = ctx.crm.get("product", product_id)
    xml_id = str((product or {}).get("XML_ID") or "")
    if not xml_id:
        raise Permanent(
            f"CRM product {product_id} is not linked to BAS (no XML_ID): run the catalog sync"
        )
    ctx.link("product", product_id, xml_id)
    return xml_id


def _attach_once(ctx: FlowContext, deal_id: str, invoice: Record) -> None:
    key = f"invoice:deal:{deal_id}:pdf:{invoice['Ref_Key']}"
    if ctx.done(key):
        return
    flow = ctx.config.flows.issue_invoice
    number, ref = str(invoice["Number"]), str(invoice["Ref_Key"])
    tag = f"[crm:invoice:{ref}]"
    if _already_commented(ctx, deal_id, tag):
        ctx.record(key, "bitrix24", None, found=True)
        return
    pdf = invoice_pdf(ctx, ref)
    name = f"rakhunok-{number}.pdf"
    comment = f"Рахунок № {number} від {_date(invoice)} з BAS {tag}"
    if flow is None or "field" in flow.attach:
        field = flow.pdf_field if flow is not None else "UF_CRM_INVOICE_PDF"
        attached = ctx.crm.deals.attach_pdf(deal_id, name, pdf, comment=comment, field=field)
        comment_id = attached.comment_id
    else:
        data = base64.b64encode(pdf).decode("ascii")
        fields: dict[str, Any] = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": comment}
        fields["FILES"] = [[name, data]]
        comment_id = str(ctx.crm.rest.result("crm.timeline.comment.add", {"fields": fields}))
    ctx.record(key, "bitrix24", comment_id, file=name, bytes=len(pdf))
    made = flow.pdf if flow is not None else "render"
    inputs = {"file": name, "bytes": len(pdf), "pdf": made}
    ctx.decide(FLOW, "attach PDF", inputs, comment_id, entity=("deal", deal_id))


def invoice_pdf(ctx: FlowContext, ref: str) -> bytes:
    """The invoice's «Рахунок на оплату»: drawn by crmbridge from what OData gives (the default,
    any BAS), or BAS's own print form from an installed extension's HTTP service."""
    flow = ctx.config.flows.issue_invoice
    if flow is not None and flow.pdf == "bas-extension":
        return ctx.bas.invoice_pdf(ref)
    pdf = documents.invoice_pdf(ctx.bas.client, ctx.bas.profile.name, ref)
    if pdf is None:
        raise Permanent(f"invoice {ref} is no longer in BAS: nothing to print")
    return pdf


def _already_commented(ctx: FlowContext, deal_id: str, tag: str) -> bool:
    params = {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}, "select": ["ID", "COMMENT"]}
    comments = ctx.crm.rest.result("crm.timeline.comment.list", params) or []
    return any(tag in str(c.get("COMMENT") or "") for c in comments)


def write_deal_fields(
    ctx: FlowContext, deal: Record, invoice: Record, *, paid: Decimal, state: str
) -> dict[str, Any]:
    """The BAS-owned deal fields, from the `deal_invoice` mapping; only what differs is sent."""
    name = ctx.config.flows.mapping_of("issue_invoice")
    values = deal_field_values(ctx, deal, invoice, paid=paid, state=state)
    changed = {k: v for k, v in values.items() if str(deal.get(k) or "") != str(v)}
    if changed:
        ctx.guard("deal", "bas", list(changed))
        ctx.crm.put("deal", changed, key=str(deal["ID"]))
        ctx.decide(
            FLOW if state == "unpaid" else "payments",
            f"mapping {name}",
            {"number": invoice.get("Number"), "paid": str(paid), "state": state},
            changed,
            entity=("deal", str(deal["ID"])),
        )
    return changed


def deal_field_values(
    ctx: FlowContext, deal: Record, invoice: Record, *, paid: Decimal, state: str
) -> dict[str, Any]:
    """What the BAS-owned deal fields should hold for this invoice (the owner's values): what
    the payments flow writes, drift checks and reconciliation compares."""
    inputs = {"invoice": invoice, "paid": paid, "status": status_label(ctx, state), "deal": deal}
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("issue_invoice"))
    return ctx.rules.values(mapping, inputs)


def status_label(ctx: FlowContext, state: str) -> str:
    """The label the config gives a payment state (`flows.payments.statuses`), else the state."""
    flow = ctx.config.flows.payments
    statuses = {str(k): v for k, v in (flow.statuses if flow else {}).items()}
    return statuses.get(state, state)


def _date(invoice: Record) -> str:
    raw = str(invoice.get("Date") or "")
    try:
        return datetime.fromisoformat(raw).strftime("%d.%m.%Y")
    except ValueError:
        return raw
