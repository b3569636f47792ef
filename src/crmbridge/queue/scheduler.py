"""Periodic jobs (pollers): enqueue a job every N seconds, coalesced so a slow poll never piles up.

Every worker process may run the scheduler: the coalescing key makes a second waiting poll a
no-op, so several processes together still queue one poll at a time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from crmbridge.clock import Clock
from crmbridge.store import jobs as job_sql
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

log = logging.getLogger("crmbridge.scheduler")


@dataclass(frozen=True)
class Periodic:
    flow: str
    every: float  # seconds

    def job(self) -> NewJob:
        return NewJob(self.flow, lock_key=f"poller:{self.flow}", coalesce=True)


class Scheduler:
    def __init__(self, db: Database, clock: Clock, periodic: list[Periodic]) -> None:
        self._db, self._clock, self._periodic = db, clock, periodic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, due: dict[str, float]) -> None:
        """Enqueue what is due at clock.monotonic(); `due` holds each flow's next time."""
        now = self._clock.monotonic()
        for item in self._periodic:
            if now >= due.get(item.flow, 0.0):
                with self._db.write() as conn:
                    job_sql.enqueue(conn, item.job(), self._clock.now())
                self._db.local_wakeup.set()
                due[item.flow] = now + item.every

    def start(self) -> None:
        if not self._periodic:
            return
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due: dict[str, float] = {}
        step = min(item.every for item in self._periodic) / 4
        while not self._stop.wait(step):
            try:
                self.tick(due)
            except Exception:
                log.exception("could not enqueue a periodic job")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def periodic_jobs(
    poll_payments: float | None, sync_catalog: float | None = None, reconcile: float | None = None
) -> list[Periodic]:
    jobs = [Periodic("poll-payments", poll_payments)] if poll_payments else []
    jobs += [Periodic("sync-catalog", sync_catalog)] if sync_catalog else []
    return jobs + ([Periodic("reconcile", reconcile)] if reconcile else [])
