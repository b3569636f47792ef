"""Received events. An event and the jobs it causes are committed in one transaction."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

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
    """Store the event once and enqueue its jobs with it, in a transaction of its own.

    A repeated delivery adds no event and no job, except an "entity changed" (coalescing) job
    whose earlier twin has already started: a source whose event id is only as fine as a second
    (Bitrix24's `ts`) cannot tell a repeat from a second change in the same second, and a re-read
    costs less than a lost change. A waiting twin absorbs it, as coalescing does.
    """
    with db.write() as conn:
        accepted = accept_in(conn, event, jobs, now)
    db.local_wakeup.set()
    return accepted


@functools.cache
def _insert_event(dialect: str) -> Any:
    return upsert_insert(dialect, inbox).on_conflict_do_nothing().returning(inbox.c.id)


@functools.cache
def _find_event() -> Any:
    return select(inbox.c.id).where(
        inbox.c.source == bindparam("source"), inbox.c.event_id == bindparam("event_id")
    )


def accept_in(
    conn: Connection, event: Event, jobs: Sequence[job_sql.NewJob], now: datetime
) -> Accepted:
    """`accept` inside the caller's transaction (the group commit puts many in one)."""
    row_id = conn.execute(
        _insert_event(conn.dialect.name),
        {
            "source": event.source,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "entity_kind": event.entity_kind,
            "entity_id": event.entity_id,
            "payload": event.payload,
            "received_at": now,
        },
    ).scalar()
    duplicate = row_id is None
    if row_id is None:
        row_id = conn.execute(
            _find_event(), {"source": event.source, "event_id": event.event_id}
        ).scalar_one()
    inbox_id = int(row_id)
    ids = []
    for job in jobs:
        if job.coalesce and job.lock_key:
            created = job_sql.enqueue(conn, job, now, inbox_id=inbox_id)
        elif duplicate:
            continue
        else:
            # The dedupe key ties the job to its source event: a replayed intake adds nothing.
            keyed = job.dedupe_key or f"{event.source}:{event.event_id}:{job.flow}"
            created = job_sql.enqueue(conn, replace(job, dedupe_key=keyed), now, inbox_id=inbox_id)
        if created.created:
            ids.append(created.id)
    return Accepted(inbox_id, duplicate, tuple(ids))


def for_entity(db: Database, kind: str, entity_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            select(inbox)
            .where(inbox.c.entity_kind == kind, inbox.c.entity_id == entity_id)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]
