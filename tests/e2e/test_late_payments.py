"""A payment entered today with a date ten days back (month-end catch-up) is still found.

The payments poll reads receipts by `Date` from its cursor minus a lag window of days, so such a
receipt is behind the cursor for good; the sweep of the open invoices crmbridge issued finds it by
the invoice it pays, whatever its date, and the deal moves to "Paid" with one task for the rep.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx

from crmbridge.app import Application
from crmbridge.queue.scheduler import poller_job
from crmbridge.sandbox.bas.sandbox import PASSWORD, USER
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import cursors
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob
from tests.e2e.test_typical_scenario import drain, enqueue

DEAL, OTHER = 2, 3
RECEIPTS = "Document_ПоступлениеНаРасчетныйСчет"


def _issue(sandbox: Sandbox, app: Application, db: Database, deal: int) -> dict[str, object]:
    sandbox.bitrix24.set_deal_stage(deal, "PREPAYMENT_INVOICE")
    enqueue(db, NewJob("deal-changed", {"id": str(deal)}, lock_key=f"deal:{deal}"))
    drain(app, db)
    [invoice] = [i for i in sandbox.bas.invoices() if f"[crm:deal:{deal}]" in i["Комментарий"]]
    return invoice


def _enter_bank_statement(sandbox: Sandbox, invoice: dict[str, object], dated: datetime) -> str:
    """What the accountant does over the same OData interface: a bank receipt with the date of
    the statement line, then posting it."""
    body = sandbox.bas.accounting.payment_body(invoice, Decimal(str(invoice["СуммаДокумента"])))
    body["Date"] = dated.strftime("%Y-%m-%dT%H:%M:%S")
    auth = (USER, PASSWORD)
    created = httpx.post(f"{sandbox.odata_url}{RECEIPTS}?$format=json", json=body, auth=auth)
    assert created.status_code == 201, created.text
    ref = created.json()["Ref_Key"]
    posted = httpx.post(
        f"{sandbox.odata_url}{RECEIPTS}(guid'{ref}')/Post?PostingModeOperational=false", auth=auth
    )
    assert posted.status_code == 200, posted.text
    return str(ref)


def _tasks(sandbox: Sandbox) -> list[dict[str, object]]:
    found = sandbox.bitrix24.call("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{DEAL}"}})
    return list(found["tasks"])


def test_a_payment_dated_ten_days_back_moves_the_deal_to_paid_with_one_task(
    sandbox: Sandbox, app: Application, db: Database
) -> None:
    invoice = _issue(sandbox, app, db, DEAL)
    other = _issue(sandbox, app, db, OTHER)
    sandbox.bas.record_payment(str(other["Ref_Key"]))  # today's statement: the poll moves on
    enqueue(db, poller_job("poll-payments"))
    drain(app, db)
    assert sandbox.bitrix24.deal(OTHER)["STAGE_ID"] == "UC_PAID"
    since = datetime.fromisoformat(cursors.get(db, "bas:payments")["payment"]["since"])
    assert since.date() == datetime.now().date()

    _enter_bank_statement(sandbox, invoice, datetime.now() - timedelta(days=10))
    enqueue(db, poller_job("poll-payments"))
    drain(app, db)
    assert sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "PREPAYMENT_INVOICE"  # the poll missed it

    enqueue(db, poller_job("sweep-payments"))
    drain(app, db)
    deal = sandbox.bitrix24.deal(DEAL)
    assert deal["STAGE_ID"] == "UC_PAID"
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Оплачено"
    assert len(_tasks(sandbox)) == 1

    for flow in ("sweep-payments", "poll-payments", "sweep-payments"):
        enqueue(db, NewJob(flow, lock_key=f"poller:{flow}", coalesce=True))
        drain(app, db)
    assert len(_tasks(sandbox)) == 1  # seen again, done once


def test_the_sweep_reads_only_the_open_invoices(
    sandbox: Sandbox, app: Application, db: Database
) -> None:
    invoice = _issue(sandbox, app, db, DEAL)
    sandbox.bas.record_payment(str(invoice["Ref_Key"]))
    for flow in ("poll-payments", "sweep-payments"):
        enqueue(db, NewJob(flow, lock_key=f"poller:{flow}", coalesce=True))
        drain(app, db)
    assert sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "UC_PAID"
    sandbox.control.reset_stats()
    enqueue(db, poller_job("sweep-payments"))
    drain(app, db)
    # The paid invoice left the open set: the sweep asks BAS nothing.
    assert sandbox.control.stats()["bas"]["requests"] == 0
