"""The flows as queue jobs: which event makes which job, and the handler of each job.

Events are "entity changed": the handler re-reads the entity, so a stale or repeated event is
harmless, and a waiting job for the same entity absorbs the next event (coalescing). Jobs that
touch one deal share the lock key `deal:<id>` and so never run at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from crmbridge import reconcile
from crmbridge.connectors.base import ChangedEvent
from crmbridge.flows import catalog, clients, drift, invoice, payments
from crmbridge.flows.context import FlowContext
from crmbridge.queue.worker import Handler, JobContext
from crmbridge.store import cursors
from crmbridge.store import jobs as job_sql
from crmbridge.store.jobs import NewJob

log = logging.getLogger("crmbridge.flows")
PAYMENTS_CURSOR = "bas:payments"

# event entity kind → (job flow, lock key prefix)
EVENT_JOBS: dict[str, tuple[str, str]] = {
    "deal": ("deal-changed", "deal"),
    "company": ("company-changed", "company"),
}
ACTIONS: dict[str, str] = {"issue-invoice": "issue-invoice"}


def jobs_for(event: ChangedEvent) -> list[NewJob]:
    """The jobs an event causes (none for kinds no flow follows)."""
    target = EVENT_JOBS.get(event.entity_kind)
    if target is None:
        log.info("%s %s %s: no flow follows it", event.source, event.event_type, event.entity_id)
        return []
    flow, prefix = target
    payload = {"id": event.entity_id, "event": event.event_type}
    return [NewJob(flow, payload, lock_key=f"{prefix}:{event.entity_id}", coalesce=True)]


def action_job(action: str, deal_id: str) -> NewJob | None:
    flow = ACTIONS.get(action)
    if flow is None:
        return None
    return NewJob(flow, {"id": deal_id, "action": action}, lock_key=f"deal:{deal_id}")


def handlers(context: Callable[[], FlowContext]) -> dict[str, Handler]:
    """Handlers bound to a lazily built context (connectors read $metadata once, on first use)."""

    def on_deal_changed(job: JobContext) -> None:
        deal_changed(context(), str(job.payload["id"]))

    def on_issue_invoice(job: JobContext) -> None:
        invoice.issue_invoice(context(), str(job.payload["id"]))

    def on_company_changed(job: JobContext) -> None:
        company_changed(context(), str(job.payload["id"]))

    def on_poll_payments(job: JobContext) -> None:
        poll_payments(context(), job)

    def on_sweep_payments(job: JobContext) -> None:
        sweep_payments(context(), job)

    def on_invoice_payment(job: JobContext) -> None:
        payments.apply_payment(context(), str(job.payload["invoice"]))

    def on_sync_catalog(job: JobContext) -> None:
        sync_catalog(context(), job, full=bool(job.payload.get("full")))

    def on_reconcile(_job: JobContext) -> None:
        scheduled_reconcile(context())

    def on_poll_crm(job: JobContext) -> None:
        poll_crm(context(), job)

    return {
        "reconcile": on_reconcile,
        "deal-changed": on_deal_changed,
        "issue-invoice": on_issue_invoice,
        "company-changed": on_company_changed,
        "poll-payments": on_poll_payments,
        "sweep-payments": on_sweep_payments,
        "invoice-payment": on_invoice_payment,
        "sync-catalog": on_sync_catalog,
        "poll-crm": on_poll_crm,
    }


def deal_changed(ctx: FlowContext, deal_id: str) -> str:
    """A deal changed: issue its invoice when it entered the invoice stage; else watch drift."""
    flow = ctx.config.flows.issue_invoice
    deal = ctx.crm.deals.get(deal_id)
    if deal is None:
        return "deal gone"
    invoice_ref = ctx.bas_ref("invoice", deal_id)
    if invoice_ref is not None and ctx.done(f"invoice:deal:{deal_id}:pdf:{invoice_ref}"):
        # Issued already: this is our own write's echo, a repeat, or someone editing the deal.
        drifted = drift.check_deal(ctx, deal, invoice_ref)
        return f"drift in {', '.join(drifted)}" if drifted else "in sync"
    if flow is None or not flow.enabled:
        return "issue_invoice is off"
    stage = deal.stage
    wanted = stage == flow.invoice_stage
    ctx.decide(
        "issue_invoice",
        f"stage == {flow.invoice_stage!r}",
        {"stage": stage},
        wanted,
        entity=("deal", deal_id),
        matched=wanted,
    )
    if not wanted:
        return "not in the invoice stage"
    invoice.issue_invoice(ctx, deal_id)
    return "issued"


def company_changed(ctx: FlowContext, company_id: str) -> str:
    flow = ctx.config.flows.clients
    if flow is None or not flow.enabled:
        return "clients is off"
    client = ctx.crm.clients.get(company_id)
    if client is None:
        return "company gone"
    total = sum((d.total for d in ctx.crm.deals.of_client(company_id)), Decimal(0))
    ref = clients.ensure_counterparty(ctx, client, deal_total=total)
    return "skipped by a rule" if ref is None else ref


def poll_payments(ctx: FlowContext, job: JobContext) -> int:
    """Read new posted receipts; enqueue one job per paid invoice; then move the cursor."""
    found, cursor = payments.poll(ctx, cursors.get(job.db, PAYMENTS_CURSOR))
    _enqueue_paid(ctx, job, found)
    cursors.put(job.db, PAYMENTS_CURSOR, cursor, ctx.clock.now())
    return len(found)


def sweep_payments(ctx: FlowContext, job: JobContext) -> int:
    """Receipts paying open invoices, whatever their date: the same jobs as the poll's, and a
    receipt the poll handed out already is the same job (its dedupe key), so nothing twice."""
    found = payments.sweep(ctx)
    _enqueue_paid(ctx, job, found)
    return len(found)


def _enqueue_paid(ctx: FlowContext, job: JobContext, found: list[payments.PaidInvoice]) -> None:
    with job.db.write() as conn:
        for paid in found:
            deal_id = payments.deal_of(ctx, paid.invoice_ref)
            lock = f"deal:{deal_id}" if deal_id else f"invoice:{paid.invoice_ref}"
            new = NewJob(
                "invoice-payment",
                {"invoice": paid.invoice_ref, "payment": paid.payment_ref},
                lock_key=lock,
                dedupe_key=f"payment:{paid.payment_ref}:{paid.version}:{paid.invoice_ref}",
                correlation_id=job.job.correlation_id,
            )
            job_sql.enqueue(conn, new, ctx.clock.now())


CATALOG_CURSOR = "catalog:sync"
# A first poll of the CRM looks this far back: changes older than the install are not events.
CRM_LOOKBACK = timedelta(hours=1)


def poll_crm(ctx: FlowContext, job: JobContext) -> int:
    """The safety net under lost webhooks: deals and clients changed since the last poll get
    the same jobs their events would (a waiting one absorbs them: coalescing), then the cursors
    move."""
    since = ctx.clock.now() - CRM_LOOKBACK
    found = 0
    for kind in ("deal", "company"):
        name = f"{ctx.crm.system}:{kind}"
        ids, cursor = ctx.crm.changed(kind, cursors.get(job.db, name), since=since)
        flow, prefix = EVENT_JOBS[kind]
        with job.db.write() as conn:
            for entity_id in ids:
                payload = {"id": entity_id, "event": "poll"}
                new = NewJob(flow, payload, lock_key=f"{prefix}:{entity_id}", coalesce=True)
                job_sql.enqueue(conn, new, ctx.clock.now())
        cursors.put(job.db, name, cursor, ctx.clock.now())
        found += len(ids)
    return found


def sync_catalog(ctx: FlowContext, job: JobContext, *, full: bool) -> catalog.Synced:
    def save(state: dict[str, object]) -> None:
        cursors.put(job.db, CATALOG_CURSOR, state, ctx.clock.now())

    return catalog.sync(ctx, full=full, state=cursors.get(job.db, CATALOG_CURSOR), save=save)


def scheduled_reconcile(ctx: FlowContext) -> int:
    """The scheduled reconciliation (report only): its counts become a decision of the entity
    `reconcile/scheduled` and, when anything differs, a WARNING. Returns the discrepancies."""
    flow = ctx.config.flows.reconcile
    entities = list(flow.entities) if flow is not None else list(reconcile.ENTITIES)
    result = reconcile.run(ctx, entities)
    found = len(result.summary.discrepancies)
    ctx.decide(
        "reconcile",
        "scheduled reconciliation",
        {"entities": entities, "counts": result.summary.counts(), "run": result.correlation_id},
        found,
        entity=("reconcile", "scheduled"),
        matched=found == 0,
    )
    if found:
        # The decision above is what the alert check (crmbridge.alerts) picks up on the leader.
        log.warning(
            "reconciliation found %d discrepancies (%s); run `crmbridge reconcile --report "
            "FILE.html` to see them, --fix to re-push from the owner",
            found,
            ", ".join(
                f"{e}: {sum(v for k, v in c.items() if k != 'compared')}"
                for e, c in result.summary.counts().items()
            ),
        )
    return found
