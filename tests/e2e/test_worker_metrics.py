"""`crmbridge worker --metrics-port`: a worker process serves its metrics over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

from crmbridge.store import jobs as q
from crmbridge.store.database import open_database
from crmbridge.store.migrate import migrate
from tests.support.servers import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _scrape(url: str) -> str | None:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


def test_a_worker_serves_metrics_of_the_queue_and_of_its_attempts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    db = open_database(url)
    migrate(db)
    port = free_port()
    command = [sys.executable, "-m", "crmbridge", "worker", "--database", url]
    command += ["--metrics-port", str(port), "--concurrency", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        with db.write() as conn:
            q.enqueue(conn, q.NewJob("noop"), datetime.now(UTC))
        scrape = f"http://127.0.0.1:{port}/metrics"
        text = wait_for(
            lambda: (t := _scrape(scrape)) and 'status="done"' in t and t,
            timeout=60,
            what="the worker's metrics to show the noop job done",
        )
        assert 'crmbridge_job_attempts_total{flow="noop",outcome="done"} 1.0' in text
        assert 'crmbridge_jobs{flow="noop",status="done"} 1.0' in text
        assert "crmbridge_database_up 1.0" in text
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        db.dispose()
