"""A whole sandbox (both emulators) served on a free loopback port, for real-HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from crmbridge.sandbox.server import Sandbox, SandboxSettings
from tests.support.servers import free_port, serve_app


@contextmanager
def running_sandbox(**settings: Any) -> Iterator[Sandbox]:
    """Yields the Sandbox; its settings.public_url is where it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = Sandbox(replace(SandboxSettings(b24_rate=None), public_url=base, **settings))
    with serve_app(sandbox.app, port=port):
        yield sandbox
