"""/metrics over real HTTP: queue state counted from the database, in-process call and attempt
counters, and no secret in any label."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from crmbridge.clock import FakeClock
from crmbridge.connectors.http import JournalRecorder
from crmbridge.errors import Permanent
from crmbridge.metrics import Metrics
from crmbridge.queue.waiting import LocalWaiter
from crmbridge.queue.worker import JobContext, Worker
from crmbridge.store import inbox
from crmbridge.store import jobs as q
from crmbridge.store.database import Database, open_database
from crmbridge.store.journal import Exchange
from crmbridge.web.metrics import metrics_router
from tests.support.servers import serve_app

SECRET = "s3cr3tc0de"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _broken(_job: JobContext) -> None:
    raise Permanent("the record is gone")


def test_metrics_report_queue_calls_and_attempts(db: Database, clock: FakeClock) -> None:
    metrics = Metrics()
    metrics.watch(db, clock)
    with db.write() as conn:
        q.enqueue(conn, q.NewJob("broken"), clock.now())
    waiter = LocalWaiter(db.local_wakeup)
    worker = Worker(db, {"broken": _broken}, clock=clock, waiter=waiter, metrics=metrics)
    assert [outcome for _, outcome in worker.run_once(limit=1)] == ["dead"]
    for i in range(3):
        inbox.accept(
            db,
            inbox.Event("bitrix24", f"e{i}", "ONCRMDEALUPDATE", "deal", str(i)),
            [q.NewJob("issue-invoice", {"deal": i})],
            clock.now(),
        )
    recorder = JournalRecorder(db, metrics)
    recorder.record(
        Exchange(
            at=clock.now(),
            system="bitrix24",
            operation="crm.deal.get",
            url=f"https://portal/rest/1/{SECRET}/crm.deal.get",
            status=503,
            duration_ms=120.0,
        )
    )
    recorder.record(Exchange(at=clock.now(), system="bas", operation="odata.get", error="timeout"))
    clock.advance(90)

    web = FastAPI()
    web.include_router(metrics_router(metrics))
    with serve_app(web) as base:
        response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert SECRET not in response.text
    got = _samples(response.text)

    assert got[("crmbridge_database_up", ())] == 1
    waiting = got[("crmbridge_jobs", (("flow", "issue-invoice"), ("status", "waiting")))]
    assert waiting == 3
    assert got[("crmbridge_dead_letters", ())] == 1
    assert got[("crmbridge_lag_seconds", ())] >= 90
    assert got[("crmbridge_events", (("source", "bitrix24"),))] == 3
    calls = (("operation", "crm.deal.get"), ("status", "5xx"), ("system", "bitrix24"))
    assert got[("crmbridge_external_calls_total", calls)] == 1
    failed = (("operation", "odata.get"), ("status", "error"), ("system", "bas"))
    assert got[("crmbridge_external_calls_total", failed)] == 1
    bucket = (("le", "0.25"), ("operation", "crm.deal.get"), ("system", "bitrix24"))
    assert got[("crmbridge_external_call_seconds_bucket", bucket)] == 1
    assert got[("crmbridge_job_attempts_total", (("flow", "broken"), ("outcome", "dead")))] == 1


def test_a_database_failure_is_reported_not_raised(tmp_path: Path, clock: FakeClock) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables: every count fails
    metrics = Metrics()
    metrics.watch(db, clock)
    web = FastAPI()
    web.include_router(metrics_router(metrics))
    with serve_app(web) as base:
        response = httpx.get(f"{base}/metrics", timeout=10)
    db.dispose()
    assert response.status_code == 200
    assert _samples(response.text)[("crmbridge_database_up", ())] == 0
