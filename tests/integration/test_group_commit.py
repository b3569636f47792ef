"""Group commit: concurrent intake shares commits, yet each caller's result means "committed",
a duplicate in the same batch is coalesced, and one bad event fails only its own caller."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from crmbridge.clock import FakeClock
from crmbridge.store import inbox
from crmbridge.store.database import Database, open_database
from crmbridge.store.group_commit import GroupCommit
from crmbridge.store.jobs import NewJob
from crmbridge.store.schema import jobs


def _event(n: int, payload: dict[str, object] | None = None) -> inbox.Event:
    return inbox.Event("bitrix24", f"e{n}", "ONCRMDEALUPDATE", "deal", str(n), payload or {})


def test_concurrent_deliveries_are_committed_once_each(
    db: Database, db_url: str, clock: FakeClock
) -> None:
    committer = GroupCommit(db)
    deliveries = [n % 100 for n in range(300)]  # every event delivered three times

    def deliver(n: int) -> inbox.Accepted:
        result = committer.accept(_event(n), [NewJob("issue-invoice")], clock.now())
        other = open_database(db_url)  # another connection sees it: it was committed
        try:
            assert [e["event_id"] for e in inbox.for_entity(other, "deal", str(n))] == [f"e{n}"]
        finally:
            other.dispose()
        return result

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(deliver, deliveries))
    assert sum(not r.duplicate for r in results) == 100
    assert sum(len(r.job_ids) for r in results) == 100
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 100


def test_a_bad_event_fails_alone(db: Database, clock: FakeClock) -> None:
    committer = GroupCommit(db)
    unstorable = _event(1, {"not json": object()})
    futures = [committer.submit(_event(n), [], clock.now()) for n in range(2, 40)]
    bad = committer.submit(unstorable, [], clock.now())
    good = [f.result(timeout=30) for f in futures]
    with pytest.raises((StatementError, TypeError), match="not JSON serializable"):
        bad.result(timeout=30)
    assert len({r.inbox_id for r in good}) == 38
    assert inbox.for_entity(db, "deal", "1") == []
