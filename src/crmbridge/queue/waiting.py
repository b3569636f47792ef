"""How an idle worker waits for work: PostgreSQL LISTEN/NOTIFY, or a local event plus polling."""

from __future__ import annotations

import logging
import os
import select
import threading
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import URL

from crmbridge.store.jobs import NOTIFY_CHANNEL

if TYPE_CHECKING:
    import psycopg  # imported when a PostgreSQL waiter starts: SQLite runs never need it

log = logging.getLogger("crmbridge.worker")


class Waiter(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True when woken (work may be there)."""
        ...

    def wake(self) -> None:
        """End the current (or next) wait; safe from any thread."""
        ...

    def close(self) -> None:
        """Release resources; called by the thread that waits."""
        ...


class LocalWaiter:
    """Woken by enqueues in this process (embedded serve + worker); otherwise the caller polls."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken

    def wake(self) -> None:
        self._event.set()

    def close(self) -> None:
        self._event.set()


class PostgresWaiter:
    """A dedicated LISTEN connection: a commit that enqueues wakes every idle worker at once.

    It waits with select() on the connection's socket and on a pipe of its own, so `wake()`
    from another thread ends a wait at once (a blocked notifies() call would not notice).
    """

    def __init__(self, url: URL) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self._conn

    def wait(self, timeout: float) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                # Commits made before LISTEN took effect were not announced to us: report a
                # wake-up so the caller claims once more before it really waits.
                self._connection()
                return True
            conn = self._conn
            ready, _, _ = select.select([conn.fileno(), self._wake_r], [], [], timeout)
            if conn.fileno() in ready:
                for _ in conn.notifies(timeout=0, stop_after=1_000):
                    pass  # drain: one wake-up is enough however many commits there were
            if self._wake_r in ready:
                self._drain_pipe()
            return bool(ready)
        except psycopg.OperationalError as exc:
            # The listener is only an accelerator: poll until it reconnects.
            log.warning("LISTEN connection lost (%s); polling until it is back", exc)
            self._conn = None
            select.select([self._wake_r], [], [], min(timeout, 1.0))
            return False

    def wake(self) -> None:
        os.write(self._wake_w, b"x")

    def _drain_pipe(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
