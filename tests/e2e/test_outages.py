"""BAS in maintenance for a while, then back: the backlog waits and drains; nothing is lost.
Events out of order: the flow re-reads the deal, so only its current stage counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.app import Application
from crmbridge.clock import FakeClock
from crmbridge.config.load import load_config
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"


@pytest.fixture
def app(sandbox: Sandbox, db: Database, clock: FakeClock) -> Iterator[Application]:
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    application = Application(load_config(EXAMPLE, env).config, db, clock=clock)
    yield application
    application.close()


def _deal_changed(db: Database, clock: FakeClock, deal: int) -> int:
    job = NewJob("deal-changed", {"id": str(deal)}, lock_key=f"deal:{deal}")
    with db.write() as conn:
        return q.enqueue(conn, job, clock.now()).id


def _drain(worker: Worker) -> None:
    for _ in range(20):
        if not worker.run_once(limit=10):
            return
    raise AssertionError("the queue did not drain")


def _invoices(sandbox: Sandbox, deal: int) -> list[dict[str, object]]:
    return [i for i in sandbox.bas.invoices() if f"[crm:deal:{deal}]" in str(i["Комментарий"])]


def test_bas_maintenance_delays_the_backlog_which_drains_when_bas_returns(
    sandbox: Sandbox, app: Application, db: Database, clock: FakeClock
) -> None:
    worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1), clock=clock)
    sandbox.control.set_fault("bas", "maintenance", rate=1.0)
    deals = [1, 2, 3, 4]
    for deal in deals:
        sandbox.bitrix24.set_deal_stage(deal, "PREPAYMENT_INVOICE")
        _deal_changed(db, clock, deal)
    for _ in range(3):  # an hour of nightly update: every attempt finds BAS closed
        outcomes = {outcome for _, outcome in worker.run_once(limit=10)}
        assert outcomes <= {"retry"}
        clock.advance(1200)
    assert q.counts_by_status(db) == {"waiting": 4}
    assert all(_invoices(sandbox, deal) == [] for deal in deals)

    sandbox.control.clear_faults()
    clock.advance(3600)
    _drain(worker)
    assert q.counts_by_status(db) == {"done": 4}
    assert all(len(_invoices(sandbox, deal)) == 1 for deal in deals)


def test_out_of_order_events_apply_the_current_state(
    sandbox: Sandbox, app: Application, db: Database, clock: FakeClock
) -> None:
    worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1), clock=clock)
    sandbox.bitrix24.set_deal_stage(2, "PREPAYMENT_INVOICE")
    sandbox.bitrix24.set_deal_stage(2, "PREPARATION")  # the rep moved it back at once
    _deal_changed(db, clock, 2)  # the "moved back" event arrives first …
    _deal_changed(db, clock, 2)  # … then the stale "entered the invoice stage" one
    _drain(worker)
    assert _invoices(sandbox, 2) == []
    sandbox.bitrix24.set_deal_stage(2, "PREPAYMENT_INVOICE")
    _deal_changed(db, clock, 2)
    _drain(worker)
    assert len(_invoices(sandbox, 2)) == 1
    assert q.counts_by_status(db) == {"done": 3}
