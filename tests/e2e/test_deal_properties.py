"""Property: whatever the interleaving of a rep's stage changes, duplicate or late events,
worker runs and (partial) payments for one deal, the end state is what the latest state says,
there is never a second invoice, and crmbridge never writes a field the CRM owns."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmbridge.app import Application
from crmbridge.clock import FakeClock
from crmbridge.config.load import load_config
from crmbridge.queue.scheduler import poller_job
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.store import jobs as q
from crmbridge.store.database import open_database
from crmbridge.store.jobs import NewJob
from crmbridge.store.migrate import migrate
from tests.support.sandbox import running_sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 1
CRM_OWNED = ("TITLE", "OPPORTUNITY", "COMPANY_ID", "ASSIGNED_BY_ID", "CATEGORY_ID")
STATUS = {"unpaid": "Очікує оплати", "partial": "Частково оплачено", "paid": "Оплачено"}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("stage"), st.sampled_from(["NEW", "PREPARATION", "PREPAYMENT_INVOICE"])),
        st.tuples(st.just("event"), st.integers(1, 3)),  # delivered once, twice or thrice
        st.tuples(st.just("run"), st.integers(1, 3)),
        st.tuples(st.just("pay"), st.sampled_from([Decimal("0.3"), Decimal("0.5"), Decimal(1)])),
        st.tuples(st.just("poll"), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_any_interleaving_for_one_deal_ends_consistent(plan: list[tuple[str, Any]]) -> None:
    folder = tempfile.mkdtemp(prefix="crmbridge-prop-")
    db = open_database(f"sqlite:///{folder}/p.db")
    migrate(db)
    clock = FakeClock()
    with running_sandbox() as sandbox:
        config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}).config
        app = Application(config, db, clock=clock)
        worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1), clock=clock)
        owned_before = {f: sandbox.bitrix24.deal(DEAL)[f] for f in CRM_OWNED}
        last_stage = sandbox.bitrix24.deal(DEAL)["STAGE_ID"]

        def enqueue(job: NewJob) -> None:
            with db.write() as conn:
                q.enqueue(conn, job, clock.now())

        for kind, arg in plan:
            if kind == "stage":
                sandbox.bitrix24.set_deal_stage(DEAL, arg)
                last_stage = arg
            elif kind == "event":
                for _ in range(arg):
                    enqueue(
                        NewJob(
                            "deal-changed",
                            {"id": str(DEAL)},
                            lock_key=f"deal:{DEAL}",
                            coalesce=True,
                        )
                    )
            elif kind == "run":
                worker.run_once(limit=arg)
            elif kind == "pay":
                mine = _invoices(sandbox)
                if mine:
                    ref = str(mine[0]["Ref_Key"])
                    due = Decimal(str(mine[0]["СуммаДокумента"])) - sandbox.bas.paid(ref)
                    if due > 0:
                        sandbox.bas.record_payment(ref, (due * arg).quantize(Decimal("0.01")))
            else:
                enqueue(poller_job("poll-payments"))
        # Quiet at last: the latest state is delivered and everything is processed.
        enqueue(NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}", coalesce=True))
        enqueue(poller_job("poll-payments"))
        for _ in range(30):
            if not worker.run_once(limit=10):
                break
        app.close()

        assert q.count(db, q.JobFilter(status="dead")) == 0
        invoices = _invoices(sandbox)
        deal = sandbox.bitrix24.deal(DEAL)
        assert len(invoices) <= 1
        if last_stage == "PREPAYMENT_INVOICE":
            assert len(invoices) == 1
        if invoices:
            invoice = invoices[0]
            paid, total = (
                sandbox.bas.paid(str(invoice["Ref_Key"])),
                Decimal(str(invoice["СуммаДокумента"])),
            )
            state = "paid" if paid >= total else ("partial" if paid > 0 else "unpaid")
            assert deal["UF_CRM_INVOICE_NUMBER"] == invoice["Number"]
            assert deal["UF_CRM_PAYMENT_STATUS"] == STATUS[state]
            tasks = sandbox.bitrix24.call(
                "tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{DEAL}"}}
            )["tasks"]
            assert len(tasks) == (1 if state == "paid" else 0)
        assert {f: deal[f] for f in CRM_OWNED} == owned_before
    db.dispose()


def _invoices(sandbox: Any) -> list[dict[str, Any]]:
    return [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in str(i["Комментарий"])]
