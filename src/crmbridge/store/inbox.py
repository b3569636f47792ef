"""Received events. An event and the jobs it causes are committed in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crmbridge.store import jobs as job_sql
from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import inbox


@dataclass(frozen=True)
class Event:
    source: str
    event_id: str  # the source's id of this event: the same delivery twice has the same id
    event_type: str
    entity_kind: str | None = None
    entity_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    inbox_id: int
    duplicate: bool
    job_ids: tuple[int, ...]


def accept(db: Database, event: Event, jobs: Sequence[job_sql.NewJob], now: datetime) -> Accepted:
    """Store the event once and enqueue its jobs with it; a repeated delivery changes nothing."""
    with db.write() as conn:
        row_id = conn.execute(
            upsert_insert(db.dialect, inbox)
            .values(
                source=event.source,
                event_id=event.event_id,
                event_type=event.event_type,
                entity_kind=event.entity_kind,
                entity_id=event.entity_id,
                payload=event.payload,
                received_at=now,
            )
            .on_conflict_do_nothing()
            .returning(inbox.c.id)
        ).scalar()
        if row_id is None:
            existing = conn.execute(
                select(inbox.c.id).where(
                    inbox.c.source == event.source, inbox.c.event_id == event.event_id
                )
            ).scalar_one()
            return Accepted(int(existing), True, ())
        ids = []
        for job in jobs:
            # The dedupe key ties a job to its source event, so a replayed intake adds nothing.
            keyed = replace(
                job, dedupe_key=job.dedupe_key or f"{event.source}:{event.event_id}:{job.flow}"
            )
            ids.append(job_sql.enqueue(conn, keyed, now, inbox_id=int(row_id)).id)
    db.local_wakeup.set()
    return Accepted(int(row_id), False, tuple(ids))


def for_entity(db: Database, kind: str, entity_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            select(inbox)
            .where(inbox.c.entity_kind == kind, inbox.c.entity_id == entity_id)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]
