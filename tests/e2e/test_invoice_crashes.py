"""The worker dies at each step of the invoice flow; the next worker finishes it, once.

A crash is simulated where a SIGKILL would hit: right after an external write succeeded, before
anything after it is recorded. `Crash` is a BaseException, so the worker's error handling does not
see it (as it would not see a killed process); the job is left running with its lease, a fresh
application (no in-memory state) reclaims it after the lease, and the end state must be exactly
one counterparty, one invoice, one PDF comment, one file and the right deal fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crmbridge.app import Application
from crmbridge.clock import FakeClock
from crmbridge.config.load import load_config
from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
from crmbridge.connectors.bitrix24.deals import Deals
from crmbridge.connectors.onec import objects
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 5  # company 5 is new to BAS: the flow creates its counterparty and contract too
LEASE = timedelta(seconds=30)


class Crash(BaseException):
    """The process died here."""


STEPS: dict[str, tuple[Any, str]] = {
    "counterparty created": (objects, "create_counterparty"),
    "contract created": (objects, "create_contract"),
    "invoice created": (objects, "create_invoice"),
    "invoice posted": (BasConnector, "post"),
    "PDF attached": (Deals, "attach_pdf"),
    "deal fields written": (Bitrix24Connector, "put"),
}


def _crash_after(owner: Any, name: str) -> Callable[..., Any]:
    original = getattr(owner, name)

    def crashing(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise Crash(name)

    return crashing


def _app(sandbox: Sandbox, db: Database, clock: FakeClock) -> Application:
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    return Application(load_config(EXAMPLE, env).config, db, clock=clock)


@pytest.mark.parametrize("step", list(STEPS))
def test_a_crash_at_each_step_still_gives_one_of_everything(
    step: str, sandbox: Sandbox, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
    with db.write() as conn:
        job_id = q.enqueue(
            conn, NewJob("issue-invoice", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}"), clock.now()
        ).id
    owner, name = STEPS[step]
    first = _app(sandbox, db, clock)
    with monkeypatch.context() as patch:
        patch.setattr(owner, name, _crash_after(owner, name))
        worker = Worker(
            db, first.handlers(), WorkerSettings(concurrency=1, lease=LEASE), clock=clock
        )
        with pytest.raises(Crash):
            worker.run_once()
    first.close()
    assert q.get(db, job_id).status == "running"  # type: ignore[union-attr]

    clock.advance(LEASE.total_seconds() + 1)
    assert q.reclaim_expired(db, clock.now()) == 1
    second = _app(sandbox, db, clock)
    worker = Worker(db, second.handlers(), WorkerSettings(concurrency=1, lease=LEASE), clock=clock)
    assert worker.run_once() == [(job_id, "done")]
    second.close()

    company = sandbox.bitrix24.call("crm.company.get", {"id": DEAL})
    parties = [
        p
        for p in sandbox.bas.service.store.rows("Catalog_Контрагенты")
        if p["Description"] == company["TITLE"]
    ]
    invoices = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
    deal = sandbox.bitrix24.deal(DEAL)
    assert len(parties) == 1, parties
    assert len(invoices) == 1 and invoices[0]["Posted"] is True
    assert len(sandbox.bitrix24.comments(DEAL)) == 1
    assert len(deal["UF_CRM_INVOICE_PDF"]) == 1
    assert deal["UF_CRM_INVOICE_NUMBER"] == invoices[0]["Number"]
