"""Workers as real processes: graceful SIGTERM, SIGKILL mid-job, per-key order across processes."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.clock import SystemClock
from crmbridge.queue.handlers import builtin_handlers
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.store import effects
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob
from tests.support import plugin
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CLOCK = SystemClock()


def enqueue(db: Database, job: NewJob) -> int:
    with db.write() as conn:
        created = q.enqueue(conn, job, CLOCK.now())
    db.local_wakeup.set()
    return created.id


def status(db: Database, job_id: int) -> str | None:
    job = q.get(db, job_id)
    return job.status if job else None


class Processes:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.started: list[subprocess.Popen[bytes]] = []

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "crmbridge", "worker", "--database", self.db_url]
        command += ["--plugin", "tests.support.plugin", *args]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            assert proc.stderr is not None
            proc.stderr.close()


@pytest.fixture
def processes(db_url: str) -> Iterator[Processes]:
    procs = Processes(db_url)
    yield procs
    procs.stop_all()


def test_a_worker_runs_jobs_in_threads_until_stopped(db: Database) -> None:
    handlers = builtin_handlers()
    plugin.register(handlers)
    worker = Worker(db, handlers, WorkerSettings(concurrency=4, poll_max=0.05))
    thread = threading.Thread(target=worker.run)
    thread.start()
    ids = [
        enqueue(db, NewJob("ordered", {"key": f"k{n % 5}", "seq": n}, lock_key=f"k{n % 5}"))
        for n in range(40)
    ]
    try:
        wait_for(lambda: all(status(db, i) == "done" for i in ids), what="40 jobs done")
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert q.counts_by_status(db) == {"done": 40}


@pytest.mark.postgres
def test_an_idle_postgres_worker_is_woken_by_notify_not_by_polling(pg_db: Database) -> None:
    db = pg_db
    handlers = builtin_handlers()
    # With an hour between polls, only the notification can start the job within the deadline.
    settings = WorkerSettings(concurrency=1, poll_min=3600, poll_max=3600, reclaim_every=3600)
    worker = Worker(db, handlers, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        first = enqueue(db, NewJob("noop"))
        wait_for(lambda: status(db, first) == "done", timeout=20, what="first job")
        db.local_wakeup.clear()
        with db.write() as conn:  # an enqueue that sets no in-process wakeup, as another host's
            second = q.enqueue(conn, NewJob("noop"), CLOCK.now()).id
        wait_for(lambda: status(db, second) == "done", timeout=20, what="notified job")
    finally:
        worker.stop()
        thread.join(timeout=30)


@pytest.mark.slow
def test_sigterm_lets_the_in_flight_job_finish(db: Database, processes: Processes) -> None:
    job_id = enqueue(db, NewJob("slow", {"seconds": 1.0}))
    proc = processes.worker("--concurrency", "2")
    wait_for(lambda: effects.get(db, f"started:{job_id}:1"), what="job start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert status(db, job_id) == "done"
    assert effects.get(db, f"finished:{job_id}:1") is not None


@pytest.mark.slow
def test_sigterm_releases_a_job_that_outlives_the_grace(db: Database, processes: Processes) -> None:
    job_id = enqueue(db, NewJob("slow", {"seconds": 600}))
    proc = processes.worker("--grace", "0.2")
    wait_for(lambda: effects.get(db, f"started:{job_id}:1"), what="job start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    job = q.get(db, job_id)
    assert job is not None and job.status == "waiting" and job.attempts == 0
    assert [a["outcome"] for a in q.attempts_of(db, job_id)] == ["released"]


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", ["before", "after"])
def test_a_job_whose_worker_was_killed_completes_exactly_once(
    db: Database, processes: Processes, kill_point: str
) -> None:
    job_id = enqueue(db, NewJob("crashable", {"kill_point": kill_point}, lock_key="deal:1"))
    first = processes.worker("--lease", "2")
    wait_for(lambda: effects.get(db, f"inflight:{job_id}"), what="job in flight")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    processes.worker("--lease", "2")
    wait_for(lambda: status(db, job_id) == "done", timeout=60, what="job done by the 2nd worker")
    effect = effects.get(db, f"effect:{job_id}")
    assert effect is not None
    assert effect.result["pid"] == (first.pid if kill_point == "after" else effect.result["pid"])
    assert effect.result["attempt"] == (1 if kill_point == "after" else 2)
    with db.read() as conn:
        from sqlalchemy import func, select

        from crmbridge.store.schema import effects as effects_table

        count = conn.execute(
            select(func.count())
            .select_from(effects_table)
            .where(effects_table.c.key == f"effect:{job_id}")
        ).scalar()
    assert count == 1
    assert [a["outcome"] for a in q.attempts_of(db, job_id)] == ["lost", "done"]


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_keep_per_key_order_and_never_overlap(
    pg_db: Database, postgres_url: str
) -> None:
    db = pg_db
    processes = Processes(postgres_url)
    try:
        _run_ordering(db, processes)
    finally:
        processes.stop_all()


def _run_ordering(db: Database, processes: Processes) -> None:
    for _ in range(4):
        processes.worker("--concurrency", "3")
    rng = random.Random(7)
    keys = [f"deal:{k}" for k in range(20)]
    sequence = {key: 0 for key in keys}
    ids = []
    for _ in range(8):  # 8 shuffled bursts of 25 events = 200 events over 20 keys
        burst = [rng.choice(keys) for _ in range(25)]
        for key in burst:
            ids.append(
                enqueue(db, NewJob("ordered", {"key": key, "seq": sequence[key]}, lock_key=key))
            )
            sequence[key] += 1
    assert len(ids) == 200
    wait_for(lambda: q.counts_by_status(db) == {"done": 200}, timeout=120, what="200 jobs done")

    runs = _ordered_runs(db)
    assert len(runs) == 200
    assert len({run["pid"] for run in runs}) > 1, "the load should spread over processes"
    for key in keys:
        mine = sorted((r for r in runs if r["key"] == key), key=lambda r: r["start"])
        assert [r["seq"] for r in mine] == list(range(sequence[key])), key
        for before, after in itertools.pairwise(mine):
            assert before["end"] <= after["start"], f"{key}: {before} overlaps {after}"


def _ordered_runs(db: Database) -> list[dict[str, object]]:
    from sqlalchemy import select

    from crmbridge.store.schema import effects as effects_table

    with db.read() as conn:
        rows = conn.execute(
            select(effects_table.c.result).where(effects_table.c.key.like("ordered:%"))
        )
        return [row[0] for row in rows]


def test_jobs_claimed_ahead_are_handed_back_unstarted_on_a_stop(db: Database) -> None:
    handlers = builtin_handlers()
    plugin.register(handlers)
    worker = Worker(db, handlers, WorkerSettings(concurrency=1, prefetch=4, poll_max=0.05))
    ids = [enqueue(db, NewJob("slow", {"seconds": 0.5})) for _ in range(4)]
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: effects.get(db, f"started:{ids[0]}:1"), what="first job started")
    assert q.counts_by_status(db) == {"running": 4}  # one running, three claimed ahead
    worker.stop()
    thread.join(timeout=30)
    assert [status(db, i) for i in ids] == ["done", "waiting", "waiting", "waiting"]
    assert all(q.get(db, i).attempts == 0 for i in ids[1:])  # type: ignore[union-attr]
