"""Queue and intake figures for /metrics and alerts, counted at the moment they are asked for.

Every query runs on an index (jobs: flow+status, status+run_at; inbox: source+event_id), so a
scrape costs a few index scans whichever process (serve or worker, on any machine) answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from crmbridge.store.database import Database
from crmbridge.store.schema import decisions, inbox, jobs


@dataclass(frozen=True)
class QueueStats:
    jobs: dict[tuple[str, str], int]  # (flow, status) → jobs
    events: dict[str, int]  # source → events stored in the inbox
    lag_seconds: float  # how long the oldest due, waiting job has waited; 0 when none waits
    dead: int


def queue_stats(db: Database, now: datetime) -> QueueStats:
    with db.read() as conn:
        by_flow = conn.execute(
            select(jobs.c.flow, jobs.c.status, func.count()).group_by(jobs.c.flow, jobs.c.status)
        ).all()
        events = conn.execute(select(inbox.c.source, func.count()).group_by(inbox.c.source)).all()
    counts = {(str(flow), str(status)): int(n) for flow, status, n in by_flow}
    return QueueStats(
        jobs=counts,
        events={str(source): int(n) for source, n in events},
        lag_seconds=lag_seconds(db, now),
        dead=sum(n for (_, status), n in counts.items() if status == "dead"),
    )


def lag_seconds(db: Database, now: datetime) -> float:
    """Age of the oldest job that is due and still waiting: how far behind the workers are."""
    with db.read() as conn:
        oldest = conn.execute(
            select(func.min(jobs.c.run_at)).where(jobs.c.status == "waiting", jobs.c.run_at <= now)
        ).scalar()
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite's MIN() over the column loses the type
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


def last_dead_id(db: Database) -> int:
    with db.read() as conn:
        found = conn.execute(select(func.max(jobs.c.id)).where(jobs.c.status == "dead")).scalar()
    return int(found or 0)


@dataclass(frozen=True)
class DeadJob:
    id: int
    flow: str
    error: str | None


def dead_since(db: Database, after_id: int, limit: int = 1000) -> list[DeadJob]:
    """Dead letters with an id above `after_id`, oldest first (for alerts)."""
    with db.read() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.flow, jobs.c.last_error)
            .where(jobs.c.status == "dead", jobs.c.id > after_id)
            .order_by(jobs.c.id)
            .limit(limit)
        ).all()
    return [DeadJob(int(r.id), str(r.flow), r.last_error) for r in rows]


def last_decision_id(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.max(decisions.c.id))).scalar() or 0)


def reconciliations_since(db: Database, after_id: int) -> list[tuple[int, int]]:
    """Scheduled reconciliation runs recorded after decision `after_id`, oldest first, as
    (decision id, discrepancies found)."""
    with db.read() as conn:
        rows = conn.execute(
            select(decisions.c.id, decisions.c.result)
            .where(
                decisions.c.flow == "reconcile",
                decisions.c.entity_kind == "reconcile",
                decisions.c.entity_id == "scheduled",
                decisions.c.id > after_id,
            )
            .order_by(decisions.c.id)
        ).all()
    return [(int(r.id), int(r.result or 0)) for r in rows]
