"""Leader election on PostgreSQL: of two schedulers only the lock holder schedules; when its
connection dies the other takes over."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from crmbridge.clock import FakeClock
from crmbridge.queue.leader import LOCK_KEY, AdvisoryLock, Lease, leadership
from crmbridge.queue.scheduler import Chore, Periodic, Scheduler
from crmbridge.store import jobs as q
from crmbridge.store.database import Database, open_database
from crmbridge.store.migrate import migrate
from tests.support.waiting import wait_for


def _scheduler(db: Database, clock: FakeClock, name: str, ran: list[str]) -> Scheduler:
    return Scheduler(
        db,
        clock,
        [Periodic("poll-payments", 60)],
        chores=[Chore("mark", 60, lambda: ran.append(name))],
        leader=AdvisoryLock(db.engine.url),
    )


def _kill_lock_holder(db: Database) -> int:
    dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        row = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND objid = %s AND granted",
            (LOCK_KEY,),
        ).fetchall()
    return len(row)


@pytest.mark.postgres
def test_only_the_leader_schedules_and_another_takes_over(pg_db: Database) -> None:
    clock = FakeClock()
    ran: list[str] = []
    first, second = _scheduler(pg_db, clock, "first", ran), _scheduler(pg_db, clock, "second", ran)
    due_first: dict[str, float] = {}
    due_second: dict[str, float] = {}
    try:
        assert first.tick(due_first) is True
        assert second.tick(due_second) is False
        assert first.tick(due_first) is True  # still the leader; nothing due again yet
        assert ran == ["first"]
        assert q.counts_by_status(pg_db).get("waiting") == 1

        assert _kill_lock_holder(pg_db) == 1  # the leader's connection dies (as with its host)
        wait_for(lambda: second.tick(due_second), timeout=30, what="the second to take over")
        assert first.tick(due_first) is False  # reconnected, but the lock is taken
        assert ran == ["first", "second"]
    finally:
        first.stop()
        second.stop()


@pytest.mark.postgres
def test_a_stopped_leader_hands_over_at_once(pg_db: Database) -> None:
    clock = FakeClock()
    ran: list[str] = []
    first, second = _scheduler(pg_db, clock, "first", ran), _scheduler(pg_db, clock, "second", ran)
    try:
        assert first.tick({}) is True
        first.stop()
        assert second.tick({}) is True
        assert ran == ["first", "second"]
    finally:
        second.stop()


def test_on_sqlite_a_lease_elects_one_process_and_expires_when_it_stops(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'lease.db'}")
    migrate(db)
    clock = FakeClock()
    first, second = leadership(db, clock), leadership(db, clock)
    assert isinstance(first, Lease)
    assert first.is_leader() and not second.is_leader()
    clock.advance(10)
    assert first.is_leader() and not second.is_leader()  # renewed: still first's
    clock.advance(16)  # the first stopped checking (died): its lease ran out
    assert second.is_leader() and not first.is_leader()
    second.close()  # a clean stop hands over at once
    assert first.is_leader()
    db.dispose()
