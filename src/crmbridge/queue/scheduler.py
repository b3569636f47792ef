"""Periodic work: pollers (a job every N seconds, coalesced so a slow poll never piles up) and
chores (a function every N seconds in the scheduler's own thread: alerts).

Only the leader schedules (see `crmbridge.queue.leader`): on PostgreSQL the process holding the
advisory lock, on SQLite every process (the coalescing key makes a second waiting poll a no-op).
Leadership is checked before every tick, so a process that loses its database connection stops
scheduling, and another one takes over when the leader dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmbridge.clock import Clock
from crmbridge.queue.leader import Always, Leadership
from crmbridge.store import jobs as job_sql
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

log = logging.getLogger("crmbridge.scheduler")


def poller_job(flow: str, payload: Mapping[str, Any] | None = None) -> NewJob:
    """The job of a poller, whoever asks for it (the schedule, a push, a person): one lock key
    per poller, so two polls never move the same cursor at once, and a waiting poll absorbs the
    next request."""
    return NewJob(flow, dict(payload or {}), lock_key=f"poller:{flow}", coalesce=True)


@dataclass(frozen=True)
class Periodic:
    flow: str
    every: float  # seconds
    payload: dict[str, Any] = field(default_factory=dict)

    def job(self) -> NewJob:
        return poller_job(self.flow, self.payload)


@dataclass(frozen=True)
class Chore:
    name: str
    every: float  # seconds
    run: Callable[[], None]


class Scheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        periodic: list[Periodic],
        *,
        chores: list[Chore] | None = None,
        leader: Leadership | None = None,
    ) -> None:
        self._db, self._clock, self._periodic = db, clock, periodic
        self._chores = chores or []
        self._leader = leader or Always()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, due: dict[str, float]) -> bool:
        """Run what is due at clock.monotonic() if this process leads; `due` holds each item's
        next time. Returns whether this process is the leader."""
        if not self._leader.is_leader():
            due.clear()  # a new leader starts with a poll, as a fresh process does
            return False
        now = self._clock.monotonic()
        for item in self._periodic:
            if now >= due.get(item.flow, 0.0):
                with self._db.write() as conn:
                    job_sql.enqueue(conn, item.job(), self._clock.now())
                self._db.local_wakeup.set()
                due[item.flow] = now + item.every
        for chore in self._chores:
            key = f"chore:{chore.name}"
            if now >= due.get(key, 0.0):
                due[key] = now + chore.every
                self._run_chore(chore)
        return True

    def _run_chore(self, chore: Chore) -> None:
        try:
            chore.run()
        except Exception:
            log.exception("chore %s failed", chore.name)

    def start(self) -> None:
        if not self._periodic and not self._chores:
            return
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due: dict[str, float] = {}
        everies = [p.every for p in self._periodic] + [c.every for c in self._chores]
        step = min(1.0, min(everies) / 4)
        while not self._stop.wait(step):
            try:
                self.tick(due)
            except Exception:
                log.exception("could not enqueue a periodic job")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._leader.close()


def periodic_jobs(
    poll_payments: float | None,
    sync_catalog: float | None = None,
    reconcile: float | None = None,
    sweep_payments: float | None = None,
    poll_crm: float | None = None,
) -> list[Periodic]:
    every = {
        "poll-payments": poll_payments,
        "sweep-payments": sweep_payments,
        "sync-catalog": sync_catalog,
        "reconcile": reconcile,
        "poll-crm": poll_crm,
    }
    return [Periodic(flow, seconds) for flow, seconds in every.items() if seconds]
