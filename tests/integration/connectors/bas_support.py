"""A `BasConnector` wired as the application wires it, against a running sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from crmbridge.clock import Clock, FakeClock
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.wiring import BasSettings, connect
from crmbridge.connectors.ratelimit import Limiter
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.journal import Exchange

PROFILES = ("bas-buh", "bp30")
INVOICES = "Document_СчетНаОплатуПокупателю"


class ListRecorder:
    """Keeps exchanges in memory, for tests that look at what would be logged."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


def settings(sandbox: Sandbox, **overrides: Any) -> BasSettings:
    user, password = sandbox.bas_credentials
    values: dict[str, Any] = {
        "odata_url": sandbox.odata_url,
        "user": user,
        "password": password,
        "profile": sandbox.settings.profile,
    }
    return BasSettings(**(values | overrides))


@contextmanager
def bas_connector(
    sandbox: Sandbox,
    *,
    recorder: Any = None,
    clock: Clock | None = None,
    limiter: Limiter | None = None,
    **overrides: Any,
) -> Iterator[BasConnector]:
    with httpx.Client(timeout=10) as client:
        yield connect(
            settings(sandbox, **overrides),
            client,
            recorder=recorder,
            clock=clock or FakeClock(),
            limiter=limiter,
        )


def requests(sandbox: Sandbox) -> int:
    count: int = sandbox.control.stats()["bas"]["requests"]
    return count
