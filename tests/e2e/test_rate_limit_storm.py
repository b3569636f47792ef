"""A rate-limit storm: crmbridge believes the portal allows 100 req/s, it allows 5 (burst 3).

The portal's 503 QUERY_LIMIT_EXCEEDED slows the connector down and retries the job later; the
work completes, nothing goes to the dead letter and nothing is done twice.
"""

from __future__ import annotations

import threading
from pathlib import Path

from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.queue.retry import RetryPolicy
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.store import jobs as q
from crmbridge.store.database import open_database
from crmbridge.store.jobs import NewJob
from crmbridge.store.migrate import migrate
from tests.support.sandbox import running_sandbox
from tests.support.waiting import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEALS = [1, 2, 3, 4]


def test_query_limit_exceeded_slows_down_and_the_work_completes(tmp_path: Path) -> None:
    # The storm is between the connector and the portal; one backend is enough to show it.
    db = open_database(f"sqlite:///{tmp_path / 'storm.db'}")
    migrate(db)
    with running_sandbox(b24_rate=5.0, b24_burst=3) as sandbox:
        config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}).config
        crm = config.systems.crm.model_copy(update={"rate": 100.0, "burst": 100})
        config = config.model_copy(
            update={"systems": config.systems.model_copy(update={"crm": crm})}
        )
        app = Application(config, db)
        policy = RetryPolicy(base=0.2, cap=2.0, max_attempts=30)
        worker = Worker(
            db, app.handlers(), WorkerSettings(concurrency=4, policy=policy, poll_max=0.1)
        )
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            for deal in DEALS:
                sandbox.bitrix24.set_deal_stage(deal, "PREPAYMENT_INVOICE")
                with db.write() as conn:
                    job = NewJob("deal-changed", {"id": str(deal)}, lock_key=f"deal:{deal}")
                    q.enqueue(conn, job, app.clock.now())
            db.local_wakeup.set()
            wait_for(
                lambda: q.counts_by_status(db) == {"done": len(DEALS)},
                timeout=120,
                what=f"{len(DEALS)} invoices issued",
            )
        finally:
            worker.stop()
            thread.join(timeout=60)
            app.close()
        stats = sandbox.control.stats()["bitrix24"]
        assert stats["rate_limited"] > 0, "the storm should have happened"
        for deal in DEALS:
            mine = [i for i in sandbox.bas.invoices() if f"[crm:deal:{deal}]" in i["Комментарий"]]
            assert len(mine) == 1
            assert len(sandbox.bitrix24.comments(deal)) == 1
    db.dispose()
