"""The worker: claims jobs, runs their handlers in threads, keeps leases alive, retries, buries.

The handler of a job is looked up by the job's flow name. A handler returns normally when the work
is done and raises when it is not; the exception's class decides what happens next (see
`crmbridge.errors`), never an HTTP code.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crmbridge import correlation
from crmbridge.clock import Clock, SystemClock
from crmbridge.correlation import CallContext
from crmbridge.errors import Permanent
from crmbridge.metrics import Metrics
from crmbridge.queue.retry import RetryPolicy
from crmbridge.queue.waiting import LocalWaiter, PostgresWaiter, Waiter
from crmbridge.store import jobs as job_sql
from crmbridge.store.database import Database
from crmbridge.store.jobs import Job

log = logging.getLogger("crmbridge.worker")


@dataclass(frozen=True)
class JobContext:
    job: Job
    db: Database
    clock: Clock
    worker_id: str

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload


Handler = Callable[[JobContext], None]


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 4
    lease: timedelta = timedelta(seconds=60)
    poll_min: float = 0.005  # an idle SQLite worker polls first after 5 ms…
    poll_max: float = 1.0  # …doubling up to this; with LISTEN/NOTIFY this is only a safety net
    grace: float = 30.0  # seconds in-flight jobs get to finish after a stop is requested
    reclaim_every: float = 5.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    # Jobs claimed ahead per thread. 1 suits real flows (a hoarded slow job waits while another
    # worker idles); more saves transactions when jobs take microseconds.
    prefetch: int = 1


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def make_waiter(db: Database) -> Waiter:
    if db.dialect == "postgresql":
        return PostgresWaiter(db.engine.url)
    return LocalWaiter(db.local_wakeup)


def run_job(
    job: Job,
    handlers: Mapping[str, Handler],
    db: Database,
    clock: Clock,
    policy: RetryPolicy,
    worker_id: str,
    rng: random.Random,
) -> str | None:
    """Run one claimed job's handler. A failure is recorded here (retry, dead or lost); None
    means success, which the caller records, together with others, in one transaction."""
    handler = handlers.get(job.flow)
    try:
        if handler is None:
            raise Permanent(f"no handler for flow {job.flow!r}")
        context = CallContext(job.correlation_id, job.id, job.attempts)
        with correlation.bound(context):
            handler(JobContext(job, db, clock, worker_id))
    except Exception as exc:  # noqa: BLE001 - the worker loop is where handler failures are judged
        return _failed(job, exc, db, clock, policy, rng)
    return None


def _failed(
    job: Job, exc: Exception, db: Database, clock: Clock, policy: RetryPolicy, rng: random.Random
) -> str:
    now = clock.now()
    error = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    run_at = policy.next_run(
        attempt=job.attempts, error=exc, enqueued_at=job.enqueued_at, now=now, rng=rng
    )
    if run_at is None:
        log.error("job %s (%s) is dead after attempt %s: %s", job.id, job.flow, job.attempts, error)
        return "dead" if job_sql.bury(db, job, now, error, tb) else "lost"
    log.info(
        "job %s (%s) attempt %s failed, retry at %s: %s",
        job.id,
        job.flow,
        job.attempts,
        run_at.isoformat(),
        error,
    )
    return "retry" if job_sql.retry_later(db, job, now, run_at, error, tb) else "lost"


class Worker:
    """Runs jobs with `settings.concurrency` threads until `stop()` is called."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        settings: WorkerSettings | None = None,
        *,
        clock: Clock | None = None,
        worker_id: str | None = None,
        waiter: Waiter | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self._metrics = metrics
        self.handlers = handlers
        self.settings = settings or WorkerSettings()
        self.clock = clock or SystemClock()
        self.worker_id = worker_id or new_worker_id()
        self._waiter = waiter or make_waiter(db)
        self._rng = rng or random.Random()
        self._stop = threading.Event()  # no more claims
        self._stopped = threading.Event()  # shutdown finished
        self._inflight: dict[int, Job] = {}  # claimed by us and not yet recorded as finished
        self._finished: list[Job] = []  # handlers succeeded; the loop records them in a batch
        self._busy = 0  # jobs handed to the threads (queued or running) and not finished
        self._lock = threading.Condition()
        self._work: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    # ---- single steps, used by tests with an injected clock -----------------------------------
    def run_once(self, limit: int | None = None) -> list[tuple[int, str]]:
        """Claim what is runnable now and run it in this thread; returns (job id, outcome)."""
        claimed = job_sql.claim(
            self.db,
            self.worker_id,
            limit or self.settings.concurrency,
            self.clock.now(),
            self.settings.lease,
        )
        outcomes = {job.id: self._run(job) for job in claimed}
        succeeded = [job for job in claimed if outcomes[job.id] is None]
        held, _ = job_sql.complete_and_claim(
            self.db, self.worker_id, succeeded, 0, self.clock.now(), self.settings.lease
        )
        for job, ok in zip(succeeded, held, strict=True):
            outcomes[job.id] = "done" if ok else "lost"
        return [(job.id, outcomes[job.id] or "done") for job in claimed]

    def _run(self, job: Job) -> str | None:
        started = time.monotonic()
        outcome = run_job(
            job, self.handlers, self.db, self.clock, self.settings.policy, self.worker_id, self._rng
        )
        if self._metrics is not None:
            self._metrics.attempt(job.flow, outcome or "done", time.monotonic() - started)
        return outcome

    # ---- the long-running loop ----------------------------------------------------------------
    def run(self) -> None:
        """Run until `stop()`; then let in-flight jobs finish (up to the grace) or release them."""
        self._start_threads()
        log.info("worker %s started, concurrency %s", self.worker_id, self.settings.concurrency)
        try:
            self._loop()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self._waiter.wake()
        with self._lock:
            self._lock.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _start_threads(self) -> None:
        for n in range(self.settings.concurrency):
            thread = threading.Thread(target=self._run_jobs, name=f"job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        beat.start()

    def _loop(self) -> None:
        idle = self.settings.poll_min
        last_reclaim = float("-inf")
        while not self._stop.is_set():
            if self.clock.monotonic() - last_reclaim >= self.settings.reclaim_every:
                job_sql.reclaim_expired(self.db, self.clock.now())
                last_reclaim = self.clock.monotonic()
            finished, free = self._wait_for_slot_or_result()
            if not finished and free == 0:
                continue
            held, claimed = job_sql.complete_and_claim(
                self.db, self.worker_id, finished, free, self.clock.now(), self.settings.lease
            )
            self._recorded(finished, held)
            if claimed:
                self._dispatch(claimed)
                idle = self.settings.poll_min
            elif not finished:  # nothing done, nothing to do: wait for an enqueue or a result
                self._waiter.wait(self._idle_timeout(idle))
                idle = min(idle * 2, self.settings.poll_max)

    def _idle_timeout(self, idle: float) -> float:
        """Nothing was claimable: wait `idle`, which doubles from poll_min to poll_max while that
        lasts. Jobs may be due and still not claimable (locked by another worker, or behind an
        earlier job of their key), so "due now" must not mean "try again at once": that spun.
        An enqueue or a finished job of a key ends the wait early (NOTIFY or the local wakeup);
        a retry due sooner than `idle` shortens it."""
        due = job_sql.next_run_at(self.db)
        if due is not None:
            left = (due - self.clock.now()).total_seconds()
            if left > 0:
                return min(idle, left)
        return idle

    def _wait_for_slot_or_result(self) -> tuple[list[Job], int]:
        """Jobs whose handlers succeeded (to record) and how many more jobs to claim."""
        capacity = self.settings.concurrency * self.settings.prefetch
        with self._lock:
            if not self._finished and self._busy >= capacity:
                self._lock.wait(timeout=1.0)
            finished, self._finished = self._finished, []
            room = 0 if self._stop.is_set() else capacity - self._busy
            return finished, max(0, room)

    def _recorded(self, finished: list[Job], held: list[bool]) -> None:
        with self._lock:
            for job, ok in zip(finished, held, strict=True):
                self._inflight.pop(job.id, None)
                if not ok:
                    log.warning("job %s finished after its lease was lost", job.id)
            self._lock.notify_all()

    def _dispatch(self, claimed: list[Job]) -> None:
        with self._lock:
            for job in claimed:
                self._inflight[job.id] = job
            self._busy += len(claimed)
        for job in claimed:
            self._work.put(job)

    def _run_jobs(self) -> None:
        while (job := self._work.get()) is not None:
            succeeded = False
            try:
                succeeded = self._run(job) is None
            except Exception:  # a store failure must not kill the thread; the lease will expire
                log.exception("job %s could not be recorded; its lease will expire", job.id)
            with self._lock:
                self._busy -= 1
                if succeeded:
                    self._finished.append(job)  # the loop records it with its next claim
                else:
                    self._inflight.pop(job.id, None)
                self._lock.notify_all()
            self._waiter.wake()

    def _unstarted(self) -> list[Job]:
        """Claimed ahead (prefetch) but not started: handed back at once on a stop."""
        pending: list[Job] = []
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return pending
            if item is not None:
                pending.append(item)

    def _heartbeat(self) -> None:
        # Beats go on through the stop's grace period, until _shutdown has recorded everything.
        interval = self.settings.lease.total_seconds() / 3
        while not self._stopped.wait(interval):
            with self._lock:
                ids = list(self._inflight)
            try:
                held = job_sql.heartbeat(
                    self.db, self.worker_id, ids, self.clock.now() + self.settings.lease
                )
            except Exception:  # a passing database hiccup must not stop the beats
                log.exception("heartbeat failed")
                continue
            if held < len(ids):
                log.warning("%s of %s in-flight jobs lost their lease", len(ids) - held, len(ids))

    def _shutdown(self) -> None:
        for job in self._unstarted():
            job_sql.release(self.db, job, self.clock.now())
            with self._lock:
                self._inflight.pop(job.id, None)
                self._busy -= 1
        with self._lock:
            if self._inflight:
                log.info(
                    "stopping: waiting up to %ss for %s jobs",
                    self.settings.grace,
                    len(self._inflight),
                )
            self._lock.wait_for(lambda: self._busy == 0, timeout=self.settings.grace)
            finished, self._finished = self._finished, []
        held, _ = job_sql.complete_and_claim(
            self.db, self.worker_id, finished, 0, self.clock.now(), self.settings.lease
        )
        self._recorded(finished, held)
        with self._lock:
            leftover = list(self._inflight.values())
        for job in leftover:
            job_sql.release(self.db, job, self.clock.now())
            log.warning("released job %s unfinished; another worker will run it", job.id)
        for _ in self._threads:
            self._work.put(None)
        self._stopped.set()
        self._waiter.close()
        log.info("worker %s stopped", self.worker_id)
