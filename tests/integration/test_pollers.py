"""A poll asked for by a push (BAS's webhook) and by the schedule is one job: the pollers share
one lock key, so two polls never move the same cursor at once."""

from __future__ import annotations

from sqlalchemy import func, select

from crmbridge.clock import FakeClock
from crmbridge.connectors.base import ChangedEvent
from crmbridge.connectors.onec.hooks import bas_jobs
from crmbridge.queue.scheduler import Periodic, Scheduler
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.schema import jobs


def test_a_pushed_poll_and_a_scheduled_one_coalesce(db: Database, clock: FakeClock) -> None:
    push = ChangedEvent("bas", "e1", "payment", "payment", "ref-1")
    with db.write() as conn:
        for job in bas_jobs(push):
            q.enqueue(conn, job, clock.now())
    Scheduler(db, clock, [Periodic("poll-payments", 60)]).tick({})
    with db.read() as conn:
        waiting = conn.execute(select(func.count()).where(jobs.c.flow == "poll-payments"))
        assert waiting.scalar_one() == 1
