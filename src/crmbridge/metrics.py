"""Prometheus metrics: queue state counted from the database at scrape time, plus in-process
counters for what only this process sees (external calls, job attempts).

Serve and worker are separate processes, possibly on several machines; the queue figures are the
same whichever process answers, because they come from the shared database. The in-process
counters are per process: Prometheus sums them over the scraped targets.

Labels come only from fixed vocabularies (system, operation name, flow, status class), never from
URLs or payloads, so no secret can reach /metrics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from crmbridge.clock import Clock
from crmbridge.store import stats
from crmbridge.store.database import Database
from crmbridge.store.journal import Exchange

log = logging.getLogger("crmbridge.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SAFE = re.compile(r"[^a-z0-9_.:-]")


def label(value: str) -> str:
    """A label value from a code-defined name, cut short and stripped of anything unusual."""
    return _SAFE.sub("_", value.lower())[:64] or "unknown"


def status_class(status: int | None, error: str | None = None) -> str:
    """2xx, 4xx, 5xx …; "error" when no response came back (timeout, refused)."""
    if status is None:
        return "error" if error else "unknown"
    return f"{status // 100}xx"


class Metrics:
    """The registry of one process and its instruments (no global registry is touched)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter(
            "crmbridge_external_calls",
            "Calls to the external systems, by system, operation and status class.",
            ["system", "operation", "status"],
            registry=self.registry,
        )
        self.call_seconds = Histogram(
            "crmbridge_external_call_seconds",
            "Latency of the calls to the external systems.",
            ["system", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.attempts = Counter(
            "crmbridge_job_attempts",
            "Job attempts run by this process, by flow and outcome (done, retry, dead, lost).",
            ["flow", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "crmbridge_job_seconds",
            "How long a job attempt ran in this process.",
            ["flow"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def exchange(self, exchange: Exchange) -> None:
        """One external call, as the exchange log records it."""
        system, operation = label(exchange.system), label(exchange.operation)
        self.calls.labels(system, operation, status_class(exchange.status, exchange.error)).inc()
        if exchange.duration_ms is not None:
            self.call_seconds.labels(system, operation).observe(exchange.duration_ms / 1000)

    def attempt(self, flow: str, outcome: str, seconds: float) -> None:
        self.attempts.labels(label(flow), outcome).inc()
        self.job_seconds.labels(label(flow)).observe(seconds)

    def watch(self, db: Database, clock: Clock) -> None:
        """Report the queue state of `db` at every scrape."""
        self.registry.register(QueueCollector(db, clock))


class QueueCollector(Collector):
    """Jobs by flow and status, dead letters, lag and stored events, counted at scrape time."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def describe(self) -> list[Metric]:
        return []  # the metrics are known only when collected; nothing to check at register

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("crmbridge_database_up", "1 when the queue could be counted.")
        try:
            figures = stats.queue_stats(self._db, self._clock.now())
        except Exception as exc:  # noqa: BLE001 - a scrape reports a database failure as down
            log.warning("metrics: the queue could not be counted: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily(
            "crmbridge_jobs", "Jobs in the queue by flow and status.", labels=["flow", "status"]
        )
        for (flow, status), n in sorted(figures.jobs.items()):
            jobs.add_metric([label(flow), status], n)
        yield jobs
        yield GaugeMetricFamily(
            "crmbridge_dead_letters", "Jobs in the dead letter (status dead).", value=figures.dead
        )
        yield GaugeMetricFamily(
            "crmbridge_lag_seconds",
            "How long the oldest due job has been waiting to start.",
            value=figures.lag_seconds,
        )
        events = GaugeMetricFamily(
            "crmbridge_events",
            "Events stored in the inbox (received, not pruned).",
            labels=["source"],
        )
        for source, n in sorted(figures.events.items()):
            events.add_metric([label(source)], n)
        yield events
