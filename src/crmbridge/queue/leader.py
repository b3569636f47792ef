"""Leader election for the pollers and the periodic chores (alerts, retention).

On PostgreSQL the leader is the process holding a session advisory lock on a dedicated
connection: the lock dies with the connection, so when the leader's process or machine dies,
PostgreSQL releases it and the next process that asks becomes the leader. Each check on the
leader runs a query on that connection; a failure drops it (and the leadership) until a later
check connects and wins the lock again.

On SQLite (one machine, one file) the leader holds a lease row in the cursors table, renewed at
every check and taken over when it expires (`Lease`), so a `serve` and a `worker` sharing the
file do not both send alerts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from crmbridge.clock import Clock
from crmbridge.errors import DatabaseError
from crmbridge.store import leases
from crmbridge.store.database import Database

if TYPE_CHECKING:
    import psycopg  # imported when an advisory lock is first taken: SQLite runs never need it

log = logging.getLogger("crmbridge.leader")

LOCK_KEY = 0x63726D62  # "crmb": one advisory lock per database for crmbridge's scheduler


class Leadership(Protocol):
    def is_leader(self) -> bool: ...

    def close(self) -> None: ...


class Always:
    """The single-machine case: this process schedules."""

    def is_leader(self) -> bool:
        return True

    def close(self) -> None:
        pass


class AdvisoryLock:
    """`pg_try_advisory_lock(LOCK_KEY)` held on a connection of its own."""

    def __init__(self, url: URL, key: int = LOCK_KEY) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._key = key
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held = False
        self._lock = threading.Lock()

    def is_leader(self) -> bool:
        """Whether this process leads now; takes the lock when it is free."""
        import psycopg

        with self._lock:
            try:
                return self._check()
            except psycopg.Error as exc:
                if self._held:
                    log.warning("leadership lost: %s", type(exc).__name__)
                self._drop()
                return False

    def _check(self) -> bool:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            self._held = False
        if self._held:
            self._conn.execute("SELECT 1")  # the lock lives as long as this connection answers
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        self._held = bool(row and row[0])
        if self._held:
            log.info("this process is now the leader (runs the pollers and chores)")
        return self._held

    def _drop(self) -> None:
        import psycopg

        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn, self._held = None, False

    def close(self) -> None:
        with self._lock:
            self._drop()  # closing the session releases the lock at once


class Lease:
    """A lease row that expires `ttl` after the holder's last check (SQLite)."""

    NAME = "leader"

    def __init__(self, db: Database, clock: Clock, ttl: float = 15.0, holder: str = "") -> None:
        self._db, self._clock, self._ttl = db, clock, timedelta(seconds=ttl)
        self._holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def is_leader(self) -> bool:
        try:
            return leases.take(self._db, self.NAME, self._holder, self._clock.now(), self._ttl)
        except (DatabaseError, SQLAlchemyError) as exc:
            log.warning("leadership not checked: %s", type(exc).__name__)
            return False

    def close(self) -> None:
        try:
            leases.release(self._db, self.NAME, self._holder)
        except (DatabaseError, SQLAlchemyError) as exc:
            log.warning("leadership not released: %s", type(exc).__name__)


def leadership(db: Database, clock: Clock) -> Leadership:
    if db.dialect == "postgresql":
        return AdvisoryLock(db.engine.url)
    return Lease(db, clock)
