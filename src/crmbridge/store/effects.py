"""The idempotency ledger: one row per external write, keyed by its business operation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import effects


@dataclass(frozen=True)
class Effect:
    key: str
    system: str
    external_id: str | None
    result: Any
    job_id: int | None
    created_at: datetime


def get(db: Database, key: str) -> Effect | None:
    with db.read() as conn:
        row = conn.execute(select(effects).where(effects.c.key == key)).first()
    if row is None:
        return None
    m = row._mapping
    return Effect(
        m["key"], m["system"], m["external_id"], m["result"], m["job_id"], m["created_at"]
    )


def record(
    db: Database,
    key: str,
    system: str,
    now: datetime,
    *,
    external_id: str | None = None,
    result: Any = None,
    job_id: int | None = None,
) -> bool:
    """Record that the write `key` happened; False if it was already recorded (nothing changes)."""
    with db.write() as conn:
        inserted = conn.execute(
            upsert_insert(db.dialect, effects)
            .values(
                key=key,
                system=system,
                external_id=external_id,
                result=result,
                job_id=job_id,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(effects.c.id)
        ).scalar()
    return inserted is not None
