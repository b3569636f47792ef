"""What the flow and intake benchmarks share: a folder with a database and a config, a sandbox
and a bridge on loopback ports, and `python -m crmbridge …` processes started quietly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.support.databases import create_database, drop_database
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setup:
    """Used as `with setup(...) as run:`; on the way out every process it started is stopped
    and a PostgreSQL database it created is dropped."""

    folder: Path
    db_url: str
    config: Path
    sandbox_port: int
    bridge_port: int
    env: dict[str, str]
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def bridge_url(self) -> str:
        return f"http://127.0.0.1:{self.bridge_port}"

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """`python -m crmbridge ARGS`, its output discarded."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "crmbridge", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.started.append(proc)
        return proc

    def start_sandbox(self) -> subprocess.Popen[bytes]:
        return self.start("sandbox", "--port", str(self.sandbox_port), "--b24-rate", "0")

    def __enter__(self) -> Setup:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _trace: TracebackType | None,
    ) -> None:
        for proc in self.started:
            proc.terminate()  # a no-op for one already stopped
        for proc in self.started:
            proc.wait(timeout=60)
        if not self.db_url.startswith("sqlite"):
            drop_database(self.db_url)


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
