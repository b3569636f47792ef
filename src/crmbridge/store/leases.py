"""A named lease in the cursors table: the SQLite stand-in for PostgreSQL's advisory lock.

Whoever holds an unexpired lease keeps it by renewing; when the holder stops renewing (it died),
the lease expires and the next process that asks takes it. `BEGIN IMMEDIATE` makes the check and
the take one atomic step between processes sharing the file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import cursors


def take(db: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False if another holds it."""
    with db.write() as conn:
        current: dict[str, str] = (
            conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar() or {}
        )
        if (
            current.get("holder", holder) != holder
            and datetime.fromisoformat(current["until"]) > now
        ):
            return False
        value = {"holder": holder, "until": (now + ttl).isoformat()}
        stmt = upsert_insert(db.dialect, cursors).values(name=name, value=value, updated_at=now)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[cursors.c.name], set_={"value": value, "updated_at": now}
            )
        )
    return True


def release(db: Database, name: str, holder: str) -> None:
    with db.write() as conn:
        current = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()
        if current is not None and current.get("holder") == holder:
            conn.execute(delete(cursors).where(cursors.c.name == name))
