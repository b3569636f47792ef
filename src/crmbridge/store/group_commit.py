"""Group commit for webhook intake: the events of concurrent requests go into one transaction.

Every SQLite commit is an fsync (synchronous=FULL), and so is every PostgreSQL commit; one commit
per webhook caps intake at the disk's fsyncs per second. Here one writer thread takes every event
waiting when it is free, stores them all in one transaction and commits once; each request waits
for its own result, which is set only after that commit. So a 2xx still means "durably stored",
a duplicate delivery is still coalesced (inside one transaction the second insert meets the
first), and under load many events share one fsync.

If a batch fails as a whole, each of its events is tried again in a transaction of its own, so
one bad event fails only its own request.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from crmbridge.store import inbox
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob

log = logging.getLogger("crmbridge.intake")

MAX_BATCH = 256


@dataclass(frozen=True)
class _Pending:
    event: inbox.Event
    jobs: Sequence[NewJob]
    now: datetime
    result: Future[inbox.Accepted] = field(default_factory=Future)


class GroupCommit:
    """`accept()` from any number of threads; one writer thread commits them in batches."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self._db, self._max = db, max_batch
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def accept(self, event: inbox.Event, jobs: Sequence[NewJob], now: datetime) -> inbox.Accepted:
        """Like `inbox.accept`: returns once the event is committed, raises if it was not."""
        return self.submit(event, jobs, now).result()

    def submit(
        self, event: inbox.Event, jobs: Sequence[NewJob], now: datetime
    ) -> Future[inbox.Accepted]:
        """Queue the event; the future is resolved after its commit (an async caller awaits it
        with `asyncio.wrap_future`, holding no thread while it waits)."""
        self._start()
        pending = _Pending(event, jobs, now)
        self._queue.put(pending)
        return pending.result

    def _start(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="intake-commit", daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            with self._db.write() as conn:
                results = [inbox.accept_in(conn, p.event, p.jobs, p.now) for p in batch]
        except Exception:  # noqa: BLE001 - the batch is retried one by one, each with its error
            if len(batch) == 1:
                self._one(batch[0])
                return
            log.warning("a batch of %s events failed; storing them one by one", len(batch))
            for pending in batch:
                self._one(pending)
            return
        self._db.local_wakeup.set()
        for pending, result in zip(batch, results, strict=True):
            pending.result.set_result(result)

    def _one(self, pending: _Pending) -> None:
        try:
            pending.result.set_result(
                inbox.accept(self._db, pending.event, pending.jobs, pending.now)
            )
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, which answers 5xx
            pending.result.set_exception(exc)
