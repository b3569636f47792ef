"""Bitrix24 backfill: bulk upsert of 10,000 products through a rate-limited portal.

The sandbox runs in-process on a loopback port with the leaky bucket at 10 req/s, burst 50; the
connector's limiter is configured the same. The batch path (`upsert_products`: lookup by XML_ID,
then 50 `crm.product.add` per `batch`) is timed against the physical bound, and the one-call-per-
record baseline is timed on a sample and extrapolated per record. Every exchange is recorded in a
SQLite exchange log, as in production.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import free_port, serve_app

from crmbridge.connectors.bitrix24 import Bitrix24Connector, connect
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.sandbox.server import Sandbox, SandboxSettings
from crmbridge.store.database import Database, open_database
from crmbridge.store.migrate import migrate

RECORDS = 10_000
RUNS = 3  # of the batch path, each on a fresh portal; the median is reported
BASELINE_SAMPLE = 500
RATE, BURST, PER_BATCH = 10.0, 50, 50
_NS = uuid.UUID("0b5c2a4e-5d59-4f8e-9a57-2f9b3c1d7e10")


@dataclass(frozen=True)
class Run:
    records: int
    seconds: float
    requests: int
    rate_limited: int


def products(n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "NAME": f"Товар {tag}-{i} «Бенчмарк»",
            "XML_ID": str(uuid.uuid5(_NS, f"{tag}:{i}")),
            "CODE": f"{tag.upper()}-{i:05d}",
            "PRICE": str(Decimal(100 + i % 900) + Decimal("0.50")),
            "CURRENCY_ID": "UAH",
        }
        for i in range(n)
    ]


def _stats(client: httpx.Client, base: str) -> dict[str, Any]:
    stats: dict[str, Any] = client.get(f"{base}/sandbox/stats").json()["bitrix24"]
    client.post(f"{base}/sandbox/stats/reset")
    return stats


def _connector(client: httpx.Client, sandbox: Sandbox, db: Database) -> Bitrix24Connector:
    limiter = bitrix24_limiter(rate=RATE, burst=BURST)
    return connect(client, sandbox.bitrix24_webhook, limiter=limiter, recorder=JournalRecorder(db))


def _timed(client: httpx.Client, base: str, records: int, work: Any) -> Run:
    _stats(client, base)
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    stats = _stats(client, base)
    return Run(records, seconds, stats["requests"], stats["rate_limited"])


@contextmanager
def _portal() -> Iterator[tuple[Sandbox, str, httpx.Client, Database]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = SandboxSettings(seed_size=20, b24_rate=RATE, b24_burst=BURST, public_url=base)
    sandbox = Sandbox(settings)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_app(sandbox.app, port=port),
        httpx.Client(timeout=70) as client,
    ):
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(db)
        yield sandbox, base, client, db
        db.dispose()
    sandbox.close()


def _bulk() -> Run:
    with _portal() as (sandbox, base, client, db):
        records, ids = products(RECORDS, "b"), list[str]()
        connector = _connector(client, sandbox, db)
        seeded = _products_in(sandbox)
        run = _timed(client, base, RECORDS, lambda: ids.extend(connector.upsert_products(records)))
        stored = _products_in(sandbox) - seeded
    assert len(set(ids)) == stored == RECORDS, "every product stored once"
    return run


def _products_in(sandbox: Sandbox) -> int:
    with sandbox.bitrix24.portal.lock:
        return len(sandbox.bitrix24.portal.table("product"))


def _baseline() -> Run:
    with _portal() as (sandbox, base, client, db):
        catalog = _connector(client, sandbox, db).catalog
        sample = products(BASELINE_SAMPLE, "s")
        return _timed(client, base, BASELINE_SAMPLE, lambda: [catalog.add_one(r) for r in sample])


def run() -> str:
    runs = sorted((_bulk() for _ in range(RUNS)), key=lambda r: r.seconds)
    bulk, baseline = runs[len(runs) // 2], _baseline()
    batches = RECORDS / PER_BATCH
    bound = (batches - BURST) / RATE  # the first 50 requests go at once, the rest at RATE
    plain_bound = batches / RATE
    ratio = bulk.seconds / bound
    per_record = baseline.seconds / baseline.records
    extrapolated = per_record * RECORDS
    speedup = extrapolated / bulk.seconds
    return "\n".join(
        [
            f"## Bitrix24 backfill: bulk upsert of {RECORDS:,} products",
            "",
            "Command: `python -m bench bitrix24` (sandbox in-process on loopback with the leaky "
            f"bucket at {RATE:g} req/s, burst {BURST}; the connector's limiter set the same; "
            "exchanges recorded in a SQLite exchange log).",
            "",
            f"| path | records | requests | wall time (median of {RUNS} for the batch path) "
            "| 503 QUERY_LIMIT_EXCEEDED |",
            "|---|---:|---:|---:|---:|",
            f"| `upsert_products` (lookup by XML_ID, then 50 adds per `batch`) | {bulk.records:,}"
            f" | {bulk.requests} | {bulk.seconds:.2f} s | {bulk.rate_limited} |",
            f"| one `crm.product.add` per record (sample) | {baseline.records:,}"
            f" | {baseline.requests} | {baseline.seconds:.2f} s | {baseline.rate_limited} |",
            "",
            f"- Bound: ({RECORDS:,} ÷ {PER_BATCH} − {BURST} burst) ÷ {RATE:g} req/s = "
            f"**{bound:.1f} s**; wall ÷ bound = **{ratio:.3f}** (target ≤ 1.15). Without "
            f"crediting the burst the bound is {plain_bound:.1f} s (ratio "
            f"{bulk.seconds / plain_bound:.3f}). Runs: "
            + ", ".join(f"{r.seconds:.2f} s" for r in runs)
            + ". The 4 XML_ID lookups go first, while the bucket is empty, and the sandbox "
            "filters linearly (~0.15 s each), so part of the empty bucket's drain is unused.",
            "- 503 `QUERY_LIMIT_EXCEEDED` answers (`/sandbox/stats`): "
            f"**{sum(r.rate_limited for r in runs)}** in {RUNS} batch runs, "
            f"{baseline.rate_limited} baseline.",
            f"- Baseline measured on {baseline.records} records ({per_record * 1000:.1f} ms per "
            f"record) and extrapolated per record to {RECORDS:,}: {extrapolated:.0f} s; the batch "
            f"path is **{speedup:.0f}×** faster (target ≥ 30×).",
            "  (The sample enjoys the initial burst too, so per-record extrapolation understates "
            "the baseline slightly; the true figure is higher.)",
        ]
    )
