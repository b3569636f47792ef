"""A Bitrix24 connector wired to a running sandbox, for the Bitrix24 connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from crmbridge.connectors.bitrix24 import (
    Bitrix24Connector,
    MemoryTokenStore,
    Tokens,
    connect,
    connect_app,
)
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.sandbox.bitrix24.events import APPLICATION_TOKEN
from crmbridge.sandbox.bitrix24.rest import WEBHOOK_CODE
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.support.sandbox import running_sandbox

__all__ = [
    "APPLICATION_TOKEN",
    "WEBHOOK_CODE",
    "b24_app",
    "b24_app_connector",
    "b24_connector",
    "sandbox_and_connector",
]


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


def b24_app_connector(
    sandbox: Sandbox,
    client: httpx.Client,
    scopes: tuple[str, ...] = ("crm", "task"),
    db: Database | None = None,
) -> Bitrix24Connector:
    """A connector for a local application installed on the sandbox portal just now."""
    return b24_app(sandbox, client, scopes, db)[0]


def b24_app(
    sandbox: Sandbox,
    client: httpx.Client,
    scopes: tuple[str, ...] = ("crm", "task"),
    db: Database | None = None,
) -> tuple[Bitrix24Connector, dict[str, str]]:
    """`b24_app_connector` and the installation's secrets by name (tokens, client secret)."""
    app = sandbox.bitrix24.apps.register(scopes=list(scopes), handler="")
    auth = sandbox.bitrix24.install_app(app.client_id).auth
    tokens = Tokens(auth["access_token"], auth["refresh_token"], auth["client_endpoint"])
    connector = connect_app(
        client,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=MemoryTokenStore(tokens),
        limiter=bitrix24_limiter(rate=1000, burst=1000),
        recorder=JournalRecorder(db) if db is not None else None,
        application_token=auth["application_token"],
        oauth_server=sandbox.settings.public_url,
    )
    secrets = {k: auth[k] for k in ("access_token", "refresh_token", "application_token")}
    return connector, {**secrets, "client_secret": app.client_secret}


@contextmanager
def sandbox_and_connector(
    db: Database | None, **settings: Any
) -> Iterator[tuple[Sandbox, Bitrix24Connector]]:
    with running_sandbox(**settings) as sandbox, httpx.Client() as client:
        yield sandbox, b24_connector(sandbox, client, db, rate=1000, burst=1000)
