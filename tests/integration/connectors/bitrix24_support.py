"""A Bitrix24 connector wired to a running sandbox, for the Bitrix24 connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from crmbridge.connectors.bitrix24 import Bitrix24Connector, connect
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.sandbox.bitrix24.events import APPLICATION_TOKEN
from crmbridge.sandbox.bitrix24.rest import WEBHOOK_CODE
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.support.sandbox import running_sandbox

__all__ = ["APPLICATION_TOKEN", "WEBHOOK_CODE", "b24_connector", "sandbox_and_connector"]


def b24_connector(
    sandbox: Sandbox, client: httpx.Client, db: Database | None, **limits: Any
) -> Bitrix24Connector:
    return connect(
        client,
        sandbox.bitrix24_webhook,
        limiter=bitrix24_limiter(**limits),
        recorder=JournalRecorder(db) if db is not None else None,
        application_token=APPLICATION_TOKEN,
    )


@contextmanager
def sandbox_and_connector(
    db: Database | None, **settings: Any
) -> Iterator[tuple[Sandbox, Bitrix24Connector]]:
    with running_sandbox(**settings) as sandbox, httpx.Client() as client:
        yield sandbox, b24_connector(sandbox, client, db, rate=1000, burst=1000)
