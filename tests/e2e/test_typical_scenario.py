"""The typical scenario end to end against the sandbox, on SQLite and PostgreSQL.

Rep moves a deal to the invoice stage → invoice created and posted in BAS, PDF on the deal, number
and status in the deal's fields → accountant records a partial, then the full payment → the
deal's status follows, the deal moves to "Paid" and the rep gets a "ship the order" task.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from crmbridge.app import Application
from crmbridge.queue.scheduler import poller_job
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store import journal
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 1


def drain(app: Application, db: Database) -> None:
    worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1))
    for _ in range(50):
        if not worker.run_once(limit=10):
            return
    raise AssertionError("the queue did not drain")


def enqueue(db: Database, job: NewJob) -> int:
    with db.write() as conn:
        return q.enqueue(conn, job, app_now()).id


def app_now():  # type: ignore[no-untyped-def]
    from crmbridge.clock import SystemClock

    return SystemClock().now()


def test_invoice_pdf_payment_paid_stage_and_task(
    sandbox: Sandbox, app: Application, db: Database
) -> None:
    sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
    enqueue(db, NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}", coalesce=True))
    drain(app, db)

    assert q.counts_by_status(db) == {"done": 1}, q.find(db, q.JobFilter(status="dead"))
    [invoice] = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
    assert invoice["Posted"] is True
    deal = sandbox.bitrix24.deal(DEAL)
    assert deal["UF_CRM_INVOICE_NUMBER"] == invoice["Number"]
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Очікує оплати"
    assert len(deal["UF_CRM_INVOICE_PDF"]) == 1
    [comment] = sandbox.bitrix24.comments(DEAL)
    assert invoice["Number"] in comment["COMMENT"] and comment["FILES"]

    total = Decimal(str(invoice["СуммаДокумента"]))
    sandbox.bas.record_payment(invoice["Ref_Key"], total - Decimal("100.00"))
    enqueue(db, poller_job("poll-payments"))
    drain(app, db)
    deal = sandbox.bitrix24.deal(DEAL)
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Частково оплачено"
    assert deal["STAGE_ID"] == "PREPAYMENT_INVOICE"

    sandbox.bas.record_payment(invoice["Ref_Key"], Decimal("100.00"))
    enqueue(db, poller_job("poll-payments"))
    drain(app, db)
    deal = sandbox.bitrix24.deal(DEAL)
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Оплачено"
    assert deal["STAGE_ID"] == "UC_PAID"
    tasks = sandbox.bitrix24.call("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{DEAL}"}})
    [task] = tasks["tasks"]
    assert task["responsibleId"] == deal["ASSIGNED_BY_ID"]

    rules = [d["rule"] for d in journal.decisions_for(db, "deal", str(DEAL))]
    assert "create invoice" in rules and "move to paid stage" in rules
    assert q.counts_by_status(db) == {"done": 5}


def test_the_same_event_three_times_makes_one_invoice(
    sandbox: Sandbox, app: Application, db: Database
) -> None:
    sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
    for _ in range(3):
        enqueue(db, NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}"))
        drain(app, db)
    mine = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
    assert len(mine) == 1
    assert len(sandbox.bitrix24.comments(DEAL)) == 1


def test_trace_answers_for_the_deal_and_for_its_invoice_number(
    sandbox: Sandbox, app: Application, db: Database, db_url: str
) -> None:
    import json

    from tests.e2e.test_cli_database import crmbridge

    sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
    enqueue(db, NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}", coalesce=True))
    drain(app, db)
    number = sandbox.bitrix24.deal(DEAL)["UF_CRM_INVOICE_NUMBER"]

    by_deal = crmbridge("trace", "deal", str(DEAL), "--database", db_url, "--json")
    assert by_deal.returncode == 0, by_deal.stderr
    timeline = json.loads(by_deal.stdout)["timeline"]
    kinds = {entry["kind"] for entry in timeline}
    assert kinds == {"job", "attempt", "decision", "call", "effect"}
    whats = [entry["what"] for entry in timeline]
    assert "issue_invoice: create invoice" in whats and "bas odata.create" in whats
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)

    by_number = crmbridge("trace", "invoice", number, "--database", db_url, "--json")
    assert json.loads(by_number.stdout)["id"] == str(DEAL)
    table = crmbridge("trace", "deal", str(DEAL), "--database", db_url)
    assert "create invoice" in table.stdout and "sandbox" not in table.stdout  # no webhook code
