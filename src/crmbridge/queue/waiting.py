"""How an idle worker waits for work: PostgreSQL LISTEN/NOTIFY, or a local event plus polling."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import psycopg
from sqlalchemy.engine import URL

from crmbridge.store.jobs import NOTIFY_CHANNEL

log = logging.getLogger("crmbridge.worker")


class Waiter(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True when woken (work may be there)."""
        ...

    def close(self) -> None: ...


class LocalWaiter:
    """Woken by enqueues in this process (embedded serve + worker); otherwise the caller polls."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken

    def close(self) -> None:
        self._event.set()


class PostgresWaiter:
    """A dedicated LISTEN connection: a commit that enqueues wakes every idle worker at once."""

    def __init__(self, url: URL, local: threading.Event) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._local = local
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self._conn

    def wait(self, timeout: float) -> bool:
        if self._local.is_set():
            self._local.clear()
            return True
        try:
            woken = False
            for _ in self._connection().notifies(timeout=timeout, stop_after=1):
                woken = True
            return woken
        except psycopg.OperationalError as exc:
            # The listener is only an accelerator: fall back to polling until it reconnects.
            log.warning("LISTEN connection lost (%s); polling until it is back", exc)
            self._conn = None
            self._local.wait(min(timeout, 1.0))
            return False

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
