from __future__ import annotations

from datetime import timedelta

from crmbridge.clock import FakeClock
from crmbridge.store import effects, inbox, journal, links, retention
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.inbox import Event
from crmbridge.store.jobs import NewJob

DAY = 24 * 3600


def _history(db: Database, clock: FakeClock, n: int, tag: str) -> list[int]:
    """n events with one job each, done, an exchange and a decision each."""
    ids = []
    for i in range(n):
        accepted = inbox.accept(
            db,
            Event("bitrix24", f"{tag}{i}", "ONCRMDEALUPDATE", "deal", str(i)),
            [NewJob("f")],
            clock.now(),
        )
        [job] = q.claim(db, "w", 1, clock.now(), timedelta(seconds=30))
        q.complete(db, job, clock.now())
        journal.record_exchange(db, journal.Exchange(at=clock.now(), system="bas", operation="get"))
        journal.record_decision(
            db, journal.Decision(at=clock.now(), flow="f", rule="r", inputs={}, result=True)
        )
        ids.extend(accepted.job_ids)
    return ids


def test_old_history_is_pruned_in_batches_and_the_rest_is_kept(
    db: Database, clock: FakeClock
) -> None:
    old_jobs = _history(db, clock, 5, "old")
    with db.write() as conn:
        dead_id = q.enqueue(conn, NewJob("f", {"n": "dead"}), clock.now()).id
    [job] = q.claim(db, "w", 1, clock.now(), timedelta(seconds=30))
    q.bury(db, job, clock.now(), "Permanent: no", "tb")
    links.put(db, "company", "1", "ref", clock.now())
    effects.record(db, "invoice:deal:1", "bas", clock.now())
    clock.advance(200 * DAY)
    recent_jobs = _history(db, clock, 2, "new")
    cutoff = clock.now() - timedelta(days=180)

    expected = {"inbox": 5, "exchanges": 5, "decisions": 5, "jobs": 5}
    assert retention.count_prunable(db, cutoff) == expected
    assert retention.prune(db, cutoff, batch=2) == expected
    assert retention.count_prunable(db, cutoff) == {name: 0 for name in expected}

    assert all(q.get(db, i) is None for i in old_jobs)
    assert all(q.get(db, i) is not None for i in recent_jobs)
    assert q.attempts_of(db, old_jobs[0]) == []
    dead_job = q.get(db, dead_id)
    assert dead_job is not None and dead_job.status == "dead"  # dead letters are never pruned
    assert links.bas_ref(db, "company", "1") == "ref"
    assert effects.get(db, "invoice:deal:1") is not None
