"""Poll positions, one per named poller; the value is whatever the poller needs (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import cursors


def get(db: Database, name: str) -> Any:
    with db.read() as conn:
        return conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()


def put(db: Database, name: str, value: Any, now: datetime) -> None:
    stmt = upsert_insert(db.dialect, cursors).values(name=name, value=value, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[cursors.c.name], set_={"value": value, "updated_at": now}
    )
    with db.write() as conn:
        conn.execute(stmt)
