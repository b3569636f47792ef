"""Rewrite one section of docs/benchmarks.md, leaving the other benchmarks' sections alone."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured by `make bench` (`python -m bench [NAME ...]`) on the development machine: 2 cores,
24 GiB, Python 3.11, PostgreSQL 15 on loopback. Targets are ratios, so they mean the same on a
faster machine. Each section says the exact command that produced it.
"""


def write_section(name: str, body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    block = (
        f"<!-- bench:{name} -->\n{body.rstrip()}\n\n_Measured {stamp} ({machine})._\n"
        f"<!-- /bench:{name} -->"
    )
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{block}\n"
    )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
