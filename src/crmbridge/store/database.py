"""Opening the database: URL checks, SQLite durability settings, transactions, clear errors."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from crmbridge.errors import DatabaseError

DEFAULT_URL = "sqlite:///crmbridge.db"
ENV_VAR = "CRMBRIDGE_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def parse_url(raw: str) -> URL:
    """Parse and normalise a database URL; PostgreSQL always goes through psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseError(
            f"malformed database URL {raw!r}: expected sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise DatabaseError(
                "an in-memory SQLite database cannot hold a durable queue; name a file"
            )
        return url
    raise DatabaseError(
        f"unsupported database {backend!r} in {safe_url(url)}: use sqlite or postgresql"
    )


def safe_url(url: URL | str) -> str:
    """The URL as it may be shown: the password never is."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


class Database:
    """An engine plus the transaction shapes the store needs.

    `write()` takes the write lock up front on SQLite (BEGIN IMMEDIATE), so a transaction that reads
    and then updates never fails half-way with "database is locked"; `read()` does not.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Woken when this process enqueues work, so an embedded worker does not wait for its poll.
        self.local_wakeup = threading.Event()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self, *, flush: bool = True) -> Iterator[Connection]:
        """A write transaction. `flush=False` is for the audit logs (exchanges, decisions): the
        commit survives a crash of our process like any other, but does not wait for the disk,
        so a power loss may drop the last entries (unless a later flushed commit carried them:
        SQLite's WAL and PostgreSQL's WAL are both written in order). Queue, inbox, effects and
        links always flush; a flow writes the log 4-8 times, and each flush is one fsync."""
        with self._translated(), self.engine.connect() as conn:
            conn = conn.execution_options(crmbridge_immediate=True)
            with self._unflushed(conn, not flush), conn.begin():
                if not flush and self.dialect == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _unflushed(self, conn: Connection, relax: bool) -> Iterator[None]:
        if not (relax and self.is_sqlite):
            yield
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=NORMAL")  # per connection; outside any transaction
        try:
            yield
        finally:
            try:
                raw.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:
                conn.invalidate()  # never hand a relaxed connection back to the pool

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            if _is_connect_failure(exc):
                raise DatabaseError(
                    f"cannot connect to the database at {safe_url(self.engine.url)}: "
                    f"{_first_line(exc.orig)}"
                ) from exc
            raise


def upsert_insert(dialect: str, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    # Imported here: sqlalchemy.dialects.postgresql brings asyncpg's and pg8000's modules along,
    # which a SQLite run never needs.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def open_database(raw_url: str, *, pool_size: int = 8) -> Database:
    """Open (not yet migrate) the database named by `raw_url`."""
    url = parse_url(raw_url)
    if url.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url))
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )
    return Database(engine)


def _sqlite_engine(url: URL) -> Engine:
    path = Path(url.database or "")
    if not path.parent.exists():
        raise DatabaseError(
            f"cannot create the SQLite database {path}: folder {path.parent} does not exist"
        )
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's implicit BEGIN is deferred
        # and comes too late to take the write lock up front).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a commit survives power loss
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("crmbridge_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _is_connect_failure(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return exc.connection_invalidated or any(
        marker in text
        for marker in (
            "connection refused",
            "could not connect",
            "connection failed",
            "does not exist",
            "unable to open database",
            "timeout expired",
            "name or service not known",
            "password authentication failed",
            "no such host",
        )
    )


def _first_line(orig: Any) -> str:
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
