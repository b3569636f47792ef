"""Queue contract on SQLite and PostgreSQL: ordering, coalescing, leases, retries, dead letter.

Time is a FakeClock; nothing here sleeps.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from crmbridge.clock import FakeClock
from crmbridge.errors import Permanent, Retryable
from crmbridge.queue.retry import RetryPolicy
from crmbridge.queue.worker import Handler, JobContext, Worker, WorkerSettings
from crmbridge.store import effects
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.store.jobs import JobFilter, NewJob

LEASE = timedelta(seconds=30)


def put(db: Database, clock: FakeClock, job: NewJob) -> q.Enqueued:
    with db.write() as conn:
        return q.enqueue(conn, job, clock.now())


def claim(db: Database, clock: FakeClock, worker: str = "w1", limit: int = 10) -> list[q.Job]:
    return q.claim(db, worker, limit, clock.now(), LEASE)


def test_dedupe_key_makes_a_second_enqueue_a_no_op(db: Database, clock: FakeClock) -> None:
    first = put(db, clock, NewJob("sync", {"n": 1}, dedupe_key="b24:evt-9:sync"))
    second = put(db, clock, NewJob("sync", {"n": 2}, dedupe_key="b24:evt-9:sync"))
    assert first.created and not second.created and second.id == first.id
    assert [j.payload for j in claim(db, clock)] == [{"n": 1}]


def test_a_waiting_job_absorbs_new_changes_of_its_entity(db: Database, clock: FakeClock) -> None:
    first = put(db, clock, NewJob("sync", lock_key="deal:1", coalesce=True))
    again = put(db, clock, NewJob("sync", lock_key="deal:1", coalesce=True))
    other = put(db, clock, NewJob("sync", lock_key="deal:2", coalesce=True))
    assert again.id == first.id and not again.created and other.created
    [running, _] = claim(db, clock)
    assert running.id == first.id
    # Once it started, a change may have come too late for it: one more job is queued.
    later = put(db, clock, NewJob("sync", lock_key="deal:1", coalesce=True))
    assert later.created and later.id != first.id


def test_jobs_of_one_key_run_one_at_a_time_in_enqueue_order(db: Database, clock: FakeClock) -> None:
    a1 = put(db, clock, NewJob("sync", {"v": 1}, lock_key="deal:1")).id
    b1 = put(db, clock, NewJob("sync", {"v": 1}, lock_key="deal:2")).id
    a2 = put(db, clock, NewJob("sync", {"v": 2}, lock_key="deal:1")).id
    free = put(db, clock, NewJob("sync")).id
    first = claim(db, clock)
    assert [j.id for j in first] == [a1, b1, free]
    assert claim(db, clock, "w2") == []  # a2 waits for a1, even for another worker
    assert q.complete(db, first[0], clock.now())
    assert [j.id for j in claim(db, clock, "w2")] == [a2]


def test_a_retrying_job_keeps_later_jobs_of_its_key_waiting(db: Database, clock: FakeClock) -> None:
    head = put(db, clock, NewJob("sync", lock_key="deal:1")).id
    tail = put(db, clock, NewJob("sync", lock_key="deal:1")).id
    [job] = claim(db, clock)
    q.retry_later(db, job, clock.now(), clock.now() + timedelta(seconds=60), "Retryable: x", "tb")
    assert claim(db, clock) == []
    clock.advance(60)
    assert [j.id for j in claim(db, clock)] == [head]
    assert tail != head


def test_a_dead_worker_s_job_is_reclaimed_when_its_lease_expires(
    db: Database, clock: FakeClock
) -> None:
    put(db, clock, NewJob("sync", lock_key="deal:1"))
    [job] = claim(db, clock, "dead-worker")
    clock.advance(29)
    assert q.reclaim_expired(db, clock.now()) == 0
    clock.advance(2)
    assert q.reclaim_expired(db, clock.now()) == 1
    [again] = claim(db, clock, "w2")
    assert again.id == job.id and again.attempts == 2
    assert not q.complete(db, job, clock.now())  # the late first worker is fenced off
    assert q.complete(db, again, clock.now())
    outcomes = [a["outcome"] for a in q.attempts_of(db, job.id)]
    assert outcomes == ["lost", "done"]


def test_a_heartbeat_keeps_the_lease(db: Database, clock: FakeClock) -> None:
    put(db, clock, NewJob("sync"))
    [job] = claim(db, clock)
    for _ in range(5):
        clock.advance(20)
        assert q.heartbeat(db, "w1", [job.id], clock.now() + LEASE) == 1
        assert q.reclaim_expired(db, clock.now()) == 0
    assert q.heartbeat(db, "someone-else", [job.id], clock.now() + LEASE) == 0


def test_a_released_job_runs_again_without_losing_an_attempt(
    db: Database, clock: FakeClock
) -> None:
    put(db, clock, NewJob("sync"))
    [job] = claim(db, clock)
    assert q.release(db, job, clock.now())
    [again] = claim(db, clock)
    assert again.id == job.id and again.attempts == 1


def _worker(
    db: Database, clock: FakeClock, handlers: dict[str, Handler], **policy: object
) -> Worker:
    settings = WorkerSettings(concurrency=1, lease=LEASE, policy=RetryPolicy(**policy))  # type: ignore[arg-type]
    return Worker(db, handlers, settings, clock=clock, rng=random.Random(0))


def test_retryable_failures_back_off_then_succeed(db: Database, clock: FakeClock) -> None:
    calls: list[int] = []

    def flaky(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        if len(calls) < 3:
            raise Retryable("BAS is in maintenance")

    worker = _worker(db, clock, {"flaky": flaky}, base=10, jitter=0)
    job_id = put(db, clock, NewJob("flaky")).id
    assert worker.run_once() == [(job_id, "retry")]
    clock.advance(9.9)
    assert worker.run_once() == []
    clock.advance(0.1)
    assert worker.run_once() == [(job_id, "retry")]
    clock.advance(20)
    assert worker.run_once() == [(job_id, "done")]
    assert calls == [1, 2, 3]
    final = q.get(db, job_id)
    assert final is not None and final.status == "done"


def test_retry_after_from_the_error_wins(db: Database, clock: FakeClock) -> None:
    def limited(ctx: JobContext) -> None:
        raise Retryable("QUERY_LIMIT_EXCEEDED", retry_after=120)

    worker = _worker(db, clock, {"limited": limited}, base=1, jitter=0)
    job_id = put(db, clock, NewJob("limited")).id
    worker.run_once()
    job = q.get(db, job_id)
    assert job is not None and job.run_at == clock.now() + timedelta(seconds=120)


def test_permanent_errors_go_to_the_dead_letter_with_their_traceback(
    db: Database, clock: FakeClock
) -> None:
    def invalid(ctx: JobContext) -> None:
        raise Permanent("Поле ЄДРПОУ має містити 8 цифр")

    worker = _worker(db, clock, {"invalid": invalid})
    job_id = put(db, clock, NewJob("invalid")).id
    assert worker.run_once() == [(job_id, "dead")]
    job = q.get(db, job_id)
    assert job is not None and job.status == "dead"
    assert job.last_error == "Permanent: Поле ЄДРПОУ має містити 8 цифр"
    assert job.last_traceback is not None and "def invalid" not in job.last_traceback
    assert "in invalid" in job.last_traceback


def test_exhausted_attempts_and_unknown_flows_are_dead(db: Database, clock: FakeClock) -> None:
    def down(ctx: JobContext) -> None:
        raise ConnectionError("connection refused")

    worker = _worker(db, clock, {"down": down}, base=1, jitter=0, max_attempts=3)
    job_id = put(db, clock, NewJob("down")).id
    outcomes = []
    for _ in range(3):
        outcomes += [outcome for _, outcome in worker.run_once()]
        clock.advance(10)
    assert outcomes == ["retry", "retry", "dead"]
    nobody = put(db, clock, NewJob("no-such-flow")).id
    assert worker.run_once() == [(nobody, "dead")]
    job = q.get(db, nobody)
    assert job is not None and job.last_error == "Permanent: no handler for flow 'no-such-flow'"
    assert q.get(db, job_id) is not None


def test_replay_one_job_or_all_matching_a_filter(db: Database, clock: FakeClock) -> None:
    fail = {"on": True}

    def picky(ctx: JobContext) -> None:
        if fail["on"]:
            raise Permanent(f"bad input {ctx.payload['n']}")

    handlers: dict[str, Handler] = {"a": picky, "b": picky}
    worker = _worker(db, clock, handlers)
    ids = [put(db, clock, NewJob(flow, {"n": n})).id for n, flow in enumerate("aaab")]
    worker.run_once(limit=10)
    clock.advance(3600)
    late = put(db, clock, NewJob("a", {"n": 9})).id
    worker.run_once()
    assert {j.id for j in q.find(db, JobFilter())} == {*ids, late}

    flt = JobFilter(flow="a", error_contains="input 1", until=clock.now() - timedelta(seconds=1))
    assert [j.id for j in q.find(db, flt)] == [ids[1]]
    fail["on"] = False
    assert q.replay_matching(db, flt, clock.now()) == 1
    assert q.replay(db, [ids[3]], clock.now()) == 1
    assert sorted(worker.run_once(limit=10)) == [(ids[1], "done"), (ids[3], "done")]
    since = JobFilter(status="dead", flow="a", since=clock.now() - timedelta(seconds=1))
    assert [j.id for j in q.find(db, since)] == [late]
    assert q.replay(db, [ids[1]], clock.now()) == 1  # a done job can be run again on purpose
    assert q.replay(db, [ids[1]], clock.now()) == 0  # but not while it is already waiting


def test_an_effect_survives_a_retry_exactly_once(db: Database, clock: FakeClock) -> None:
    def pays_then_fails(ctx: JobContext) -> None:
        if effects.record(ctx.db, f"payment:{ctx.job.id}", "bas", ctx.clock.now()):
            raise Retryable("timeout after the write")

    worker = _worker(db, clock, {"pay": pays_then_fails}, base=1, jitter=0)
    job_id = put(db, clock, NewJob("pay")).id
    worker.run_once()
    clock.advance(5)
    assert worker.run_once() == [(job_id, "done")]
    assert effects.get(db, f"payment:{job_id}") is not None


def test_naive_datetimes_are_refused(db: Database) -> None:
    from datetime import datetime

    with pytest.raises(Exception, match="naive datetimes"), db.write() as conn:
        q.enqueue(conn, NewJob("x"), datetime(2026, 1, 1))
