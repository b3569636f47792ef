"""The load generator of the intake benchmark, run as its own process:

    python -m bench.intake_load URL FIRST COUNT THREADS

posts COUNT form-encoded ONCRMCOMPANYUPDATE deliveries (companies FIRST … FIRST+COUNT-1) to
URL/hooks/bitrix24 from THREADS threads, each on one keep-alive connection (http.client, the
lightest client, so the generator takes as little of the shared CPU as it can), and prints one
JSON line: seconds, acks, failures and every latency in milliseconds.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

TOKEN = "sandbox-app-token"


def _body(company: int) -> bytes:
    return (
        f"event=ONCRMCOMPANYUPDATE&data%5BFIELDS%5D%5BID%5D={company}&ts={company}"
        f"&auth%5Bapplication_token%5D={TOKEN}"
    ).encode()


def load(url: str, first: int, count: int, threads: int) -> dict[str, object]:
    parts = urlsplit(url)
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    next_item = iter(range(first, first + count))

    def send() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        headers = {"content-type": "application/x-www-form-urlencoded"}
        mine: list[float] = []
        while True:
            with lock:
                company = next(next_item, None)
            if company is None:
                break
            start = time.perf_counter()
            conn.request("POST", "/hooks/bitrix24", body=_body(company), headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                with lock:
                    failures[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "acks": len(latencies) - failures[0],
        "failures": failures[0],
        "latencies": latencies,
    }


if __name__ == "__main__":
    url, first, count, threads = sys.argv[1], *map(int, sys.argv[2:5])
    print(json.dumps(load(url, first, count, threads)))
