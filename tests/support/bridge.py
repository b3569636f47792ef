"""`crmbridge serve --with-worker` as a process, for end-to-end tests over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until_up(url: str, timeout: float = 120.0) -> None:
    wait_for(lambda: answers(url), timeout=timeout, what=f"{url} answering")


@contextmanager
def serving(config: Path, port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run serve --with-worker on `port` until the block ends; yields its base URL."""
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "crmbridge", "serve", "--config", str(config)]
    command += ["--port", str(port), "--with-worker"]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL, stderr=sink)
        try:
            wait_for(lambda: answers(f"{url}/healthz"), timeout=30, what="serve up")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)
