"""Queue throughput: enqueue + claim + complete of no-op jobs, in jobs per second.

Worker processes are started first and left idle, then N jobs are enqueued in batches while the
clock runs; the time ends when the last job is done. Median of 3 runs per configuration.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from tests.support.databases import create_database, drop_database, postgres_available

from crmbridge.clock import SystemClock
from crmbridge.store import jobs as q
from crmbridge.store.database import Database, open_database
from crmbridge.store.migrate import migrate
from crmbridge.store.schema import jobs

ROOT = Path(__file__).resolve().parents[1]
JOBS = 5000
BATCH = 250
RUNS = 3
REMOTE_JOBS, REMOTE_SECONDS = 2000, 0.02
# Jobs a worker claims ahead per thread (`crmbridge worker --prefetch`); no-op jobs take
# microseconds, so this is the setting for them.
PREFETCH = int(os.environ.get("CRMBRIDGE_BENCH_PREFETCH", "4"))


@dataclass(frozen=True)
class Result:
    backend: str
    workers: int
    concurrency: int
    rates: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def _done(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(jobs).where(jobs.c.status == "done")
            ).scalar_one()
        )


def _start_workers(url: str, workers: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "crmbridge", "worker", "--database", url]
    command += ["--concurrency", str(concurrency), "--prefetch", str(PREFETCH)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]


def _one_run(
    url: str, workers: int, concurrency: int, job: q.NewJob | None = None, jobs_n: int = JOBS
) -> float:
    db = open_database(url)
    migrate(db)
    procs = _start_workers(url, workers, concurrency)
    try:
        time.sleep(2.0)  # let the workers import, migrate-check and go idle
        clock = SystemClock()
        started = time.perf_counter()
        for first in range(0, jobs_n, BATCH):
            with db.write() as conn:
                for n in range(first, min(first + BATCH, jobs_n)):
                    q.enqueue(conn, job or q.NewJob("noop", {"n": n}), clock.now())
        while _done(db) < jobs_n:
            time.sleep(0.02)
        return jobs_n / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        db.dispose()


def _fresh_sqlite() -> str:
    folder = tempfile.mkdtemp(prefix="crmbridge-bench-")
    return f"sqlite:///{folder}/bench.db"


def _measure(
    backend: str, workers: int, concurrency: int, job: q.NewJob | None = None, jobs_n: int = JOBS
) -> Result:
    rates = []
    for _ in range(RUNS):
        url = _fresh_sqlite() if backend == "sqlite" else create_database()
        try:
            rates.append(_one_run(url, workers, concurrency, job, jobs_n))
        finally:
            if backend == "postgresql":
                drop_database(url)
    return Result(backend, workers, concurrency, rates)


def run() -> str:
    results = [_measure("sqlite", 1, 4)]
    if postgres_available():
        results += [_measure("postgresql", 1, 4), _measure("postgresql", 4, 4)]
    lines = [
        "## Queue: enqueue + claim + complete of no-op jobs",
        "",
        f"Command: `make bench` → `python -m bench queue` ({JOBS} jobs a run, enqueued in "
        f"transactions of {BATCH} while idle workers wait; workers run with "
        f"`--prefetch {PREFETCH}`; median of {RUNS} runs).",
        "",
        "| backend | worker processes × threads | jobs/s (median) | runs |",
        "|---|---|---:|---|",
    ]
    for r in results:
        runs = ", ".join(f"{rate:,.0f}" for rate in r.rates)
        lines.append(f"| {r.backend} | {r.workers} × {r.concurrency} | {r.median:,.0f} | {runs} |")
    if len(results) == 3:
        remote = q.NewJob("sleep", {"seconds": REMOTE_SECONDS})
        one = _measure("postgresql", 1, 4, remote, REMOTE_JOBS)
        four = _measure("postgresql", 4, 4, remote, REMOTE_JOBS)
    sqlite = results[0].median
    lines += ["", f"- SQLite, 1 worker: **{sqlite:,.0f} jobs/s** (target ≥ 1,000)."]
    if len(results) == 3:
        ratio = results[2].median / results[1].median
        lines.append(f"- PostgreSQL, 4 workers ÷ 1 worker: **{ratio:.2f}×** (target ≥ 2×).")
        lines += [
            "",
            f"Scale-out when the work waits on a remote side ({REMOTE_JOBS} jobs that each wait "
            f"{REMOTE_SECONDS * 1000:.0f} ms, as a remote call does; 4 threads per worker):",
            "",
            "| PostgreSQL | jobs/s (median) | runs |",
            "|---|---:|---|",
            f"| 1 worker | {one.median:,.0f} | {', '.join(f'{r:,.0f}' for r in one.rates)} |",
            f"| 4 workers | {four.median:,.0f} | {', '.join(f'{r:,.0f}' for r in four.rates)} |",
            "",
            f"- 4 workers ÷ 1 worker: **{four.median / one.median:.2f}×** (DESIGN: ≥ 3× when the "
            "remote side allows).",
        ]
    else:
        lines.append("- PostgreSQL was not reachable: its rows are missing.")
    return "\n".join(lines)
