"""Pruning what grows with every flow: inbox, exchanges, decisions and finished jobs.

Dead letters, links, effects and cursors are never pruned: they are either waiting for a person or
needed for exactly-once behaviour. Deletes run in small batches, each its own short transaction,
so webhook intake is never blocked behind a long delete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select

from crmbridge.store.database import Database
from crmbridge.store.schema import decisions, exchanges, inbox, jobs

BATCH = 2000
# SQLite has one writer at a time, and a writer kept waiting polls for the lock with sleeps that
# grow to 100 ms (sqlite3_busy_timeout). A prune that began its next batch right after a commit
# would win the lock every time and hold intake off until the whole prune is done (seen in CI: the
# first webhook of a test was acknowledged only after 150,000 rows were gone). So between batches
# the prune leaves the lock free for at least one full poll interval, or as long as the batch took
# when that is longer. PostgreSQL locks rows, not the database, and needs no gap.
SQLITE_GAP_SECONDS = 0.1


@dataclass(frozen=True)
class Target:
    table: Table
    old: Callable[[datetime], ColumnElement[bool]]


TARGETS: dict[str, Target] = {
    "inbox": Target(inbox, lambda before: inbox.c.received_at < before),
    "exchanges": Target(exchanges, lambda before: exchanges.c.at < before),
    "decisions": Target(decisions, lambda before: decisions.c.at < before),
    # Done jobs only; their attempts go with them (ON DELETE CASCADE).
    "jobs": Target(jobs, lambda before: (jobs.c.status == "done") & (jobs.c.finished_at < before)),
}


def count_prunable(db: Database, before: datetime) -> dict[str, int]:
    """What `prune(before)` would remove, per table."""
    with db.read() as conn:
        return {
            name: int(
                conn.execute(
                    select(func.count()).select_from(t.table).where(t.old(before))
                ).scalar_one()
            )
            for name, t in TARGETS.items()
        }


def prune(db: Database, before: datetime, *, batch: int = BATCH) -> dict[str, int]:
    """Delete rows older than `before`, in batches; returns how many per table."""
    removed = {}
    for name, target in TARGETS.items():
        removed[name] = _prune_table(db, target, before, batch)
    return removed


def _prune_table(db: Database, target: Target, before: datetime, batch: int) -> int:
    total = 0
    key: Any = target.table.c.id
    while True:
        started = time.monotonic()
        with db.write() as conn:
            ids = select(key).where(target.old(before)).limit(batch).scalar_subquery()
            deleted = conn.execute(delete(target.table).where(key.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total
        if db.is_sqlite:
            time.sleep(max(SQLITE_GAP_SECONDS, time.monotonic() - started))
