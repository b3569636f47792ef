"""Catalog initial load: `crmbridge sync catalog --full` of 10,000 BAS products into Bitrix24.

The sandbox runs as its own process (`crmbridge sandbox --seed-size 10000 --b24-rate 10
--b24-burst 50`); the command runs as a user would run it, with a config whose portal budget is
10 req/s, burst 50. Wall time of the whole command (start-up, $metadata, reading BAS, writing the
CRM) is compared with the bound: (10,000 ÷ 50 − 50 burst) ÷ 10 req/s = 15 s.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from tests.support.bridge import wait_until_up
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS, RATE, BURST, PER_BATCH = 10_000, 10.0, 50, 50
RUNS = 3
BOUND = (PRODUCTS / PER_BATCH - BURST) / RATE

CONFIG = """
database: {database}
systems:
  crm: {{type: bitrix24, webhook_url: "{base}/bitrix24/rest/1/sandbox/",
         application_token: sandbox-app-token, rate: {rate}, burst: {burst}}}
  bas: {{type: bas, odata_url: "{base}/bas/odata/standard.odata/", user: Адміністратор,
         password: sandbox, price_type: Оптова ціна}}
ownership: {{entities: {{product: bas}}}}
mappings:
  product:
    entity: product
    direction: bas->crm
    fields: {{NAME: 'product["Description"]', PRICE: price, CURRENCY_ID: '"UAH"',
              XML_ID: 'product["Ref_Key"]'}}
flows: {{catalog: {{mapping: product}}}}
"""


def _portal_span(database: Path) -> float:
    """Seconds from the first portal request to the end of the last, from the exchange log."""
    with sqlite3.connect(database) as conn:
        first, last, ms = conn.execute(
            "SELECT min(at), max(at), (SELECT duration_ms FROM exchanges WHERE system = "
            "'bitrix24' ORDER BY id DESC LIMIT 1) FROM exchanges WHERE system = 'bitrix24'"
        ).fetchone()
    span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
    return span.total_seconds() + ms / 1000


def _one_run() -> tuple[float, int, int, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="crmbridge-bench-catalog-"))
    config = folder / "catalog.yaml"
    config.write_text(
        CONFIG.format(
            database=f"sqlite:///{folder / 'bench.db'}", base=base, rate=RATE, burst=BURST
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmbridge",
            "sandbox",
            "--port",
            str(port),
            "--seed-size",
            str(PRODUCTS),
            "--b24-rate",
            str(RATE),
            "--b24-burst",
            str(BURST),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"{base}/sandbox/stats")
        time.sleep(6)  # let the portal's bucket drain to empty, as on a quiet portal
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "crmbridge",
                "sync",
                "catalog",
                "--full",
                "--config",
                str(config),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        stats = httpx.get(f"{base}/sandbox/stats").json()["bitrix24"]
        span = _portal_span(folder / "bench.db")
        return seconds, stats["requests"], stats["rate_limited"], span
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=60)


def run() -> str:
    runs = [_one_run() for _ in range(RUNS)]
    seconds = statistics.median(r[0] for r in runs)
    limited = sum(r[2] for r in runs)
    lines = [
        "## Catalog initial load: `crmbridge sync catalog --full`, 10,000 products BAS → Bitrix24",
        "",
        "Command: `make bench` → `python -m bench catalog`. Sandbox process with",
        "`--seed-size 10000 --b24-rate 10 --b24-burst 50`; the timed command is the whole",
        "`crmbridge sync catalog",
        f"--full` (start-up, BAS `$metadata`, products and prices, CRM lookups and writes); median "
        f"of {RUNS}.",
        "",
        "| runs (s) | portal requests | bound (s) | wall ÷ bound | QUERY_LIMIT_EXCEEDED |",
        "|---|---:|---:|---:|---:|",
        f"| {', '.join(f'{r[0]:.2f}' for r in runs)} | {runs[0][1]} | {BOUND:.1f} | "
        f"**{seconds / BOUND:.3f}** (target ≤ 1.15) | {limited} (target 0) |",
        "",
        f"Where the time goes (median run): the portal's part, first request to last answer, is "
        f"{statistics.median(r[3] for r in runs):.2f} s for {runs[0][1]} requests (its floor: "
        f"({runs[0][1]} − {BURST} burst) ÷ {RATE:g} req/s = {(runs[0][1] - BURST) / RATE:.1f} s; "
        f"the 5 requests over 200 are the XML_ID lookups, one per chunk). The rest is start-up "
        "(imports, migrating a fresh SQLite file, BAS `$metadata`), reading and mapping the "
        "first chunk of 500 products before the first write, and exit.",
    ]
    return "\n".join(lines)
