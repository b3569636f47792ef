"""Pruning what grows with every flow: inbox, exchanges, decisions and finished jobs.

Dead letters, links, effects and cursors are never pruned: they are either waiting for a person or
needed for exactly-once behaviour. Deletes run in small batches, each its own short transaction,
so webhook intake is never blocked behind a long delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select

from crmbridge.store.database import Database
from crmbridge.store.schema import decisions, exchanges, inbox, jobs

BATCH = 2000


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
        with db.write() as conn:
            ids = select(key).where(target.old(before)).limit(batch).scalar_subquery()
            deleted = conn.execute(delete(target.table).where(key.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total
