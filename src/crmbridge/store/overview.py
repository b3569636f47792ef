"""Read-only summaries for the dashboard and the API: per-flow queue figures, exchange search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from crmbridge.store.database import Database
from crmbridge.store.schema import exchanges, job_attempts, jobs


@dataclass(frozen=True)
class FlowStats:
    flow: str
    processed: int  # done
    failed: int  # dead letters
    waiting: int
    running: int
    lag_seconds: float  # how long the oldest due waiting job has waited; 0 when none
    last_error: str | None
    last_error_at: datetime | None


def flow_stats(db: Database, now: datetime) -> list[FlowStats]:
    """One row per flow that has jobs, in name order."""
    with db.read() as conn:
        counts: dict[str, dict[str, int]] = {}
        for flow, status, n in conn.execute(
            select(jobs.c.flow, jobs.c.status, func.count()).group_by(jobs.c.flow, jobs.c.status)
        ):
            counts.setdefault(flow, {})[status] = int(n)
        oldest = dict(
            conn.execute(
                select(jobs.c.flow, func.min(jobs.c.run_at))
                .where(jobs.c.status == "waiting", jobs.c.run_at <= now)
                .group_by(jobs.c.flow)
            ).all()
        )
        errors = _last_errors(conn)
    return [
        FlowStats(
            flow,
            by_status.get("done", 0),
            by_status.get("dead", 0),
            by_status.get("waiting", 0),
            by_status.get("running", 0),
            _lag(now, oldest.get(flow)),
            *errors.get(flow, (None, None)),
        )
        for flow, by_status in sorted(counts.items())
    ]


def _lag(now: datetime, since: datetime | None) -> float:
    # min() keeps the column's type, so `since` comes back timezone-aware like the column.
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def _last_errors(conn: Any) -> dict[str, tuple[str, datetime | None]]:
    newest = (
        select(jobs.c.flow, func.max(job_attempts.c.id).label("id"))
        .join(jobs, jobs.c.id == job_attempts.c.job_id)
        .where(job_attempts.c.error.is_not(None))
        .group_by(jobs.c.flow)
        .subquery()
    )
    rows = conn.execute(
        select(newest.c.flow, job_attempts.c.error, job_attempts.c.finished_at).join(
            job_attempts, job_attempts.c.id == newest.c.id
        )
    )
    return {flow: (error, at) for flow, error, at in rows}


def search_exchanges(db: Database, key: str, limit: int = 200) -> list[dict[str, Any]]:
    """Exchanges about a business key (`deal:42`, `company:7`, `taxcode:…`), newest first: those
    recorded with the key, and every call made by a job of that key (its BAS calls too)."""
    of_key = select(jobs.c.id).where(jobs.c.lock_key == key).scalar_subquery()
    query = (
        select(exchanges)
        .where(or_(exchanges.c.business_key == key, exchanges.c.job_id.in_(of_key)))
        .order_by(exchanges.c.id.desc())
        .limit(limit)
    )
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
