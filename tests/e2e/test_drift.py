"""Drift and echo: a BAS-owned deal field edited in the CRM is caught; our own writes loop not."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.app import Application
from crmbridge.clock import FakeClock
from crmbridge.config.load import load_config
from crmbridge.config.model import Config, DriftPolicy
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store import journal
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 4


def _config(sandbox: Sandbox, policy: str) -> Config:
    config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}).config
    flows = config.flows.model_copy(update={"drift": DriftPolicy(policy=policy)})  # type: ignore[arg-type]
    return config.model_copy(update={"flows": flows})


def _changed(db: Database, clock: FakeClock, worker: Worker) -> None:
    with db.write() as conn:
        q.enqueue(
            conn, NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}"), clock.now()
        )
    while worker.run_once(limit=10):
        pass


@pytest.mark.parametrize("policy", ["report", "overwrite"])
def test_a_crm_edit_of_a_bas_owned_field_is_drift(
    policy: str, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    app = Application(_config(sandbox, policy), db, clock=clock)
    worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1), clock=clock)
    sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
    _changed(db, clock, worker)
    issued = sandbox.bitrix24.deal(DEAL)
    updates = sandbox.control.stats()["bitrix24"]["by_method"].get("crm.deal.update", 0)

    _changed(db, clock, worker)  # the echo of our own writes: nothing to do
    assert sandbox.control.stats()["bitrix24"]["by_method"].get("crm.deal.update", 0) == updates

    sandbox.bitrix24.update_deal(DEAL, {"UF_CRM_PAYMENT_STATUS": "Оплачено"})  # a rep's wish
    _changed(db, clock, worker)
    [drift] = [d for d in journal.decisions_for(db, "deal", str(DEAL)) if d["flow"] == "drift"]
    assert drift["inputs"] == {
        "UF_CRM_PAYMENT_STATUS": {"crm": "Оплачено", "bas": issued["UF_CRM_PAYMENT_STATUS"]}
    }
    now = sandbox.bitrix24.deal(DEAL)["UF_CRM_PAYMENT_STATUS"]
    assert now == ("Оплачено" if policy == "report" else issued["UF_CRM_PAYMENT_STATUS"])
    app.close()
