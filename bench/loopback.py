"""What the flow and intake benchmarks share: a folder with a database and a config, a sandbox
and a bridge on loopback ports, and `python -m crmbridge …` processes started quietly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.databases import create_database
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setup:
    folder: Path
    db_url: str
    config: Path
    sandbox_port: int
    bridge_port: int
    env: dict[str, str]

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def bridge_url(self) -> str:
        return f"http://127.0.0.1:{self.bridge_port}"

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """`python -m crmbridge ARGS`, its output discarded."""
        return subprocess.Popen(
            [sys.executable, "-m", "crmbridge", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_sandbox(self) -> subprocess.Popen[bytes]:
        return self.start("sandbox", "--port", str(self.sandbox_port), "--b24-rate", "0")


def setup(name: str, backend: str, config: str) -> Setup:
    """A fresh folder; `{name}.db` there (SQLite) or a new PostgreSQL database; `config` (with
    `{database}` and `{sandbox}` placeholders) written to `{name}.yaml`."""
    folder = Path(tempfile.mkdtemp(prefix=f"crmbridge-bench-{name}-"))
    db_url = f"sqlite:///{folder / f'{name}.db'}" if backend == "sqlite" else create_database()
    sandbox_port, bridge_port = free_port(), free_port()
    path = folder / f"{name}.yaml"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    path.write_text(config.format(database=db_url, sandbox=sandbox_url), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return Setup(folder, db_url, path, sandbox_port, bridge_port, env)
