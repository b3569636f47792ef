"""The job queue's SQL: enqueue, claim with a lease, heartbeat, finish, release, replay.

Ordering rule: jobs that share a `lock_key` run one at a time in id (enqueue) order. A job may be
claimed only when no job of its key is running and no earlier job of its key is still active.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import job_attempts, jobs

Status = Literal["waiting", "running", "done", "dead"]
WAITING: Status = "waiting"
RUNNING: Status = "running"
DONE: Status = "done"
DEAD: Status = "dead"
ACTIVE = (WAITING, RUNNING)
NOTIFY_CHANNEL = "crmbridge_jobs"


@dataclass(frozen=True)
class NewJob:
    flow: str
    payload: dict[str, Any] = field(default_factory=dict)
    lock_key: str | None = None
    dedupe_key: str | None = None
    coalesce: bool = False  # an "entity changed" job: a waiting one for the same key suffices
    run_at: datetime | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Job:
    id: int
    flow: str
    payload: dict[str, Any]
    lock_key: str | None
    status: str
    attempts: int
    run_at: datetime
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_until: datetime | None
    worker_id: str | None
    last_error: str | None
    last_traceback: str | None
    correlation_id: str
    dedupe_key: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Enqueued:
    id: int
    created: bool  # False: deduplicated or coalesced into an existing job


@dataclass(frozen=True)
class JobFilter:
    """Which jobs: by status, flow, text in the last error, and finish time [since, until)."""

    status: Status | None = None
    flow: str | None = None
    error_contains: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@functools.cache
def _insert_job(dialect: str) -> Any:
    # Statements are built once and reused: SQLAlchemy then reuses their compiled form, which
    # is most of the cost of a small statement.
    return upsert_insert(dialect, jobs).on_conflict_do_nothing().returning(jobs.c.id)


@functools.cache
def _find_duplicate() -> Any:
    return select(jobs.c.id).where(
        or_(
            and_(jobs.c.dedupe_key.is_not(None), jobs.c.dedupe_key == bindparam("dedupe_key")),
            and_(jobs.c.coalesce_key.is_not(None), jobs.c.coalesce_key == bindparam("coalesce")),
        )
    )


def enqueue(
    conn: Connection, job: NewJob, now: datetime, *, inbox_id: int | None = None
) -> Enqueued:
    """Add a job inside the caller's transaction; a duplicate or coalesced one adds nothing."""
    coalesce_key = f"{job.flow}|{job.lock_key}" if job.coalesce and job.lock_key else None
    values = {
        "flow": job.flow,
        "payload": job.payload,
        "lock_key": job.lock_key,
        "dedupe_key": job.dedupe_key,
        "coalesce_key": coalesce_key,
        "status": WAITING,
        "attempts": 0,
        "run_at": job.run_at or now,
        "enqueued_at": now,
        "correlation_id": job.correlation_id or uuid.uuid4().hex,
        "inbox_id": inbox_id,
    }
    new_id = conn.execute(_insert_job(conn.dialect.name), values).scalar()
    if new_id is not None:
        _notify(conn)
        return Enqueued(int(new_id), True)
    existing = conn.execute(
        _find_duplicate(), {"dedupe_key": job.dedupe_key, "coalesce": coalesce_key}
    ).scalar_one()
    return Enqueued(int(existing), False)


def _notify(conn: Connection) -> None:
    """Wake idle PostgreSQL workers when this transaction commits (once per transaction)."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_transaction()
    if conn.info.get("crmbridge_notified") is transaction:
        return
    conn.info["crmbridge_notified"] = transaction
    conn.exec_driver_sql(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')")


@functools.cache
def _claim_statement() -> Any:
    earlier = jobs.alias("earlier")
    # Literal statuses, not bound parameters: only then can the planner (SQLite, and PostgreSQL
    # with a generic plan) prove the partial index ix_jobs_active_lock_key applies; with
    # parameters it scanned every job per candidate (6 s per claim with 5,000 waiting).
    active: list[Any] = [literal_column(f"'{status}'") for status in ACTIVE]
    blocked = exists().where(
        earlier.c.lock_key == jobs.c.lock_key,
        earlier.c.status.in_(active),
        or_(earlier.c.id < jobs.c.id, earlier.c.status == RUNNING),
    )
    runnable = (
        select(jobs.c.id)
        .where(
            jobs.c.status == WAITING,
            jobs.c.run_at <= bindparam("now"),
            or_(jobs.c.lock_key.is_(None), ~blocked),
        )
        .order_by(jobs.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=jobs)
    )
    return (
        update(jobs)
        .where(jobs.c.id.in_(runnable.scalar_subquery()))
        .values(
            status=RUNNING,
            attempts=jobs.c.attempts + 1,
            started_at=bindparam("now"),
            lease_until=bindparam("lease_until"),
            worker_id=bindparam("worker_id"),
            coalesce_key=None,
        )
        .returning(*jobs.c)
    )


@functools.cache
def _complete_statement() -> Any:
    return (
        update(jobs)
        # (id, attempt) pairs: an attempt whose lease was lost and re-claimed is not ours.
        .where(
            tuple_(jobs.c.id, jobs.c.attempts).in_(bindparam("held", expanding=True)),
            jobs.c.status == RUNNING,
        )
        .values(status=DONE, finished_at=bindparam("now"), lease_until=None, worker_id=None)
        .returning(jobs.c.id)
    )


@functools.cache
def _close_attempt_statement() -> Any:
    return (
        update(job_attempts)
        .where(
            job_attempts.c.job_id == bindparam("b_job_id"),
            job_attempts.c.attempt == bindparam("b_attempt"),
            job_attempts.c.finished_at.is_(None),
        )
        .values(
            finished_at=bindparam("b_now"),
            outcome=bindparam("b_outcome"),
            error=bindparam("b_error"),
        )
    )


def claim(db: Database, worker_id: str, limit: int, now: datetime, lease: timedelta) -> list[Job]:
    """Take up to `limit` runnable jobs for `worker_id`, leased until now + lease."""
    return complete_and_claim(db, worker_id, [], limit, now, lease)[1]


def complete_and_claim(
    db: Database,
    worker_id: str,
    finished: Sequence[Job],
    limit: int,
    now: datetime,
    lease: timedelta,
) -> tuple[list[bool], list[Job]]:
    """Mark `finished` jobs done and claim up to `limit` more, in one transaction.

    One transaction instead of one per job is what lets a worker keep up with tiny jobs; the
    next job of a key is claimable in the same statement that records its predecessor done.
    Returns, for each finished job, whether it was still ours, and the claimed jobs.
    """
    with db.write() as conn:
        held = _complete(conn, finished, now)
        claimed: list[Job] = []
        if limit > 0:
            params = {
                "now": now,
                "limit": limit,
                "lease_until": now + lease,
                "worker_id": worker_id,
            }
            rows = conn.execute(_claim_statement(), params).all()
            claimed = sorted((Job.from_row(r) for r in rows), key=lambda j: j.id)
        if claimed:
            conn.execute(
                insert(job_attempts),
                [
                    {
                        "job_id": j.id,
                        "attempt": j.attempts,
                        "worker_id": worker_id,
                        "started_at": now,
                    }
                    for j in claimed
                ],
            )
    return held, claimed


def _complete(conn: Connection, finished: Sequence[Job], now: datetime) -> list[bool]:
    if not finished:
        return []
    pairs = [(job.id, job.attempts) for job in finished]
    done = set(conn.execute(_complete_statement(), {"held": pairs, "now": now}).scalars())
    held = [job.id in done for job in finished]
    mine = [job for job, ok in zip(finished, held, strict=True) if ok]
    if mine:
        conn.execute(
            _close_attempt_statement(),
            [
                {
                    "b_job_id": j.id,
                    "b_attempt": j.attempts,
                    "b_now": now,
                    "b_outcome": "done",
                    "b_error": None,
                }
                for j in mine
            ],
        )
        if any(job.lock_key is not None for job in mine):
            _notify(conn)  # the next job of these keys may run now
    return held


def heartbeat(db: Database, worker_id: str, job_ids: Sequence[int], until: datetime) -> int:
    """Extend the lease of jobs this worker still holds; returns how many it still holds."""
    if not job_ids:
        return 0
    with db.write() as conn:
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id.in_(job_ids), jobs.c.status == RUNNING, jobs.c.worker_id == worker_id)
            .values(lease_until=until)
        )
        return result.rowcount


def reclaim_expired(db: Database, now: datetime) -> int:
    """Put jobs whose lease ran out (their worker died) back in line; returns how many."""
    with db.write() as conn:
        expired = conn.execute(
            update(jobs)
            .where(jobs.c.status == RUNNING, jobs.c.lease_until < now)
            .values(status=WAITING, worker_id=None, lease_until=None, run_at=now)
            .returning(jobs.c.id, jobs.c.attempts)
        ).all()
        for job_id, attempt in expired:
            _close_attempt(conn, job_id, attempt, now, "lost", "lease expired: the worker stopped")
        if expired:
            _notify(conn)
        return len(expired)


def complete(db: Database, job: Job, now: datetime) -> bool:
    """Mark a claimed job done; False when the lease was lost (another worker owns it now)."""
    with db.write() as conn:
        return _complete(conn, [job], now)[0]


def retry_later(
    db: Database, job: Job, now: datetime, run_at: datetime, error: str, tb: str
) -> bool:
    return _finish(
        db, job, now, status=WAITING, outcome="retry", run_at=run_at, error=error, traceback=tb
    )


def bury(db: Database, job: Job, now: datetime, error: str, tb: str) -> bool:
    """Move a job to the dead letter, keeping its last error and traceback."""
    return _finish(db, job, now, status=DEAD, outcome="dead", error=error, traceback=tb)


def release(db: Database, job: Job, now: datetime) -> bool:
    """Give a claimed job back unfinished (graceful stop); the attempt does not count."""
    with db.write() as conn:
        done = conn.execute(
            update(jobs)
            .where(*_held(job))
            .values(
                status=WAITING,
                attempts=jobs.c.attempts - 1,
                worker_id=None,
                lease_until=None,
                run_at=now,
            )
        ).rowcount
        if done:
            _close_attempt(conn, job.id, job.attempts, now, "released", None)
            _notify(conn)
        return bool(done)


def _held(job: Job) -> tuple[Any, ...]:
    # The attempt number fences a worker whose lease expired: its late result is ignored.
    return (jobs.c.id == job.id, jobs.c.status == RUNNING, jobs.c.attempts == job.attempts)


def _finish(
    db: Database,
    job: Job,
    now: datetime,
    *,
    status: Status,
    outcome: str,
    run_at: datetime | None = None,
    error: str | None = None,
    traceback: str | None = None,
) -> bool:
    values: dict[str, Any] = {"status": status, "lease_until": None, "worker_id": None}
    if status == WAITING:
        values["run_at"] = run_at
    else:
        values["finished_at"] = now
    if error is not None:
        values.update(last_error=error, last_traceback=traceback)
    with db.write() as conn:
        done = conn.execute(update(jobs).where(*_held(job)).values(values)).rowcount
        if done:
            _close_attempt(conn, job.id, job.attempts, now, outcome, error)
            if job.lock_key is not None or status == WAITING:
                _notify(conn)  # the next job of this key may run now
        return bool(done)


def _close_attempt(
    conn: Connection, job_id: int, attempt: int, now: datetime, outcome: str, error: str | None
) -> None:
    conn.execute(
        update(job_attempts)
        .where(
            job_attempts.c.job_id == job_id,
            job_attempts.c.attempt == attempt,
            job_attempts.c.finished_at.is_(None),
        )
        .values(finished_at=now, outcome=outcome, error=error)
    )


def _matching(flt: JobFilter) -> list[Any]:
    clauses: list[Any] = [] if flt.status is None else [jobs.c.status == flt.status]
    if flt.flow:
        clauses.append(jobs.c.flow == flt.flow)
    if flt.error_contains:
        clauses.append(jobs.c.last_error.contains(flt.error_contains, autoescape=True))
    if flt.since:
        clauses.append(jobs.c.finished_at >= flt.since)
    if flt.until:
        clauses.append(jobs.c.finished_at < flt.until)
    return clauses


def find(db: Database, flt: JobFilter, limit: int = 1000) -> list[Job]:
    """Matching jobs, newest first."""
    with db.read() as conn:
        query = select(jobs).where(*_matching(flt)).order_by(jobs.c.id.desc()).limit(limit)
        return [Job.from_row(r) for r in conn.execute(query)]


def count(db: Database, flt: JobFilter) -> int:
    with db.read() as conn:
        query = select(func.count()).select_from(jobs).where(*_matching(flt))
        return int(conn.execute(query).scalar_one())


def replay(db: Database, job_ids: Sequence[int], now: datetime) -> int:
    """Put dead (or done) jobs back in line to run now with a fresh attempt budget."""
    if not job_ids:
        return 0
    return _replay_where(db, [jobs.c.id.in_(job_ids), jobs.c.status.in_((DEAD, DONE))], now)


def replay_matching(db: Database, flt: JobFilter, now: datetime) -> int:
    """Replay every job matching the filter; dead letters unless it names another status."""
    flt = flt if flt.status is not None else replace(flt, status=DEAD)
    if flt.status not in (DEAD, DONE):
        raise ValueError("only dead or done jobs can be replayed")
    return _replay_where(db, _matching(flt), now)


def _replay_where(db: Database, clauses: list[Any], now: datetime) -> int:
    with db.write() as conn:
        result = conn.execute(
            update(jobs)
            .where(*clauses)
            .values(status=WAITING, run_at=now, attempts=0, finished_at=None)
        )
        if result.rowcount:
            _notify(conn)
        return result.rowcount


def get(db: Database, job_id: int) -> Job | None:
    with db.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return Job.from_row(row) if row else None


def attempts_of(db: Database, job_id: int) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            select(job_attempts).where(job_attempts.c.job_id == job_id).order_by(job_attempts.c.id)
        )
        return [dict(r._mapping) for r in rows]


def counts_by_status(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
        return {status: int(n) for status, n in rows}


def next_run_at(db: Database) -> datetime | None:
    """When the earliest waiting job becomes due, so an idle worker knows how long to sleep."""
    with db.read() as conn:
        value: datetime | None = conn.execute(
            select(func.min(jobs.c.run_at)).where(jobs.c.status == WAITING)
        ).scalar()
        return value


def purge_finished(db: Database, before: datetime) -> int:
    """Delete done jobs finished before `before`; dead letters are kept."""
    with db.write() as conn:
        return conn.execute(
            delete(jobs).where(jobs.c.status == DONE, jobs.c.finished_at < before)
        ).rowcount
