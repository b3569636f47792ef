"""The store-backed token store on SQLite and PostgreSQL, against the sandbox's portal and
authorization server: one renewal for many processes, a reinstall picked up, no install yet."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from crmbridge.clock import SystemClock
from crmbridge.connectors.bitrix24 import Bitrix24Connector, Tokens, connect_app
from crmbridge.connectors.bitrix24.install import tokens_from
from crmbridge.connectors.bitrix24.tokens import DatabaseTokenStore
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.errors import Permanent
from crmbridge.sandbox.bitrix24.apps import LocalApp
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.support.sandbox import running_sandbox

CALLS = 8


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def tokens_of(auth: dict[str, str]) -> Tokens:
    return tokens_from(auth, SystemClock().now())


def connector(
    sandbox: Sandbox, client: httpx.Client, db: Database, app: LocalApp
) -> Bitrix24Connector:
    """A connector as one process builds it: its own store object over the shared database."""
    return connect_app(
        client,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=DatabaseTokenStore(db, SystemClock()),
        limiter=bitrix24_limiter(rate=1000, burst=1000),
        recorder=None,
        oauth_server=sandbox.settings.public_url,
    )


def installed(sandbox: Sandbox, db: Database) -> LocalApp:
    app = sandbox.bitrix24.apps.register(scopes=["crm"], handler="")
    DatabaseTokenStore(db, SystemClock()).save(
        tokens_of(sandbox.bitrix24.install_app(app.client_id).auth)
    )
    return app


def test_before_the_install_a_call_says_to_install_the_application(
    sandbox: Sandbox, client: httpx.Client, db: Database
) -> None:
    app = sandbox.bitrix24.apps.register(scopes=["crm"], handler="")
    with pytest.raises(Permanent, match=r"not installed yet.*/hooks/bitrix24/install"):
        connector(sandbox, client, db, app).get("deal", "1")


def test_two_processes_hitting_an_expired_token_renew_it_once(
    sandbox: Sandbox, client: httpx.Client, db: Database
) -> None:
    app = installed(sandbox, db)
    first, second = connector(sandbox, client, db, app), connector(sandbox, client, db, app)
    assert first.get("deal", "1") and second.get("deal", "2")  # both hold the token now
    sandbox.bitrix24.oauth.expire_access_tokens()
    pair = (first, second)
    with ThreadPoolExecutor(CALLS) as pool:
        found = list(pool.map(lambda n: pair[n % 2].get("deal", str(n % 5 + 1)), range(CALLS)))
    assert all(found)
    assert sandbox.bitrix24.oauth.refreshes == 1
    stored = DatabaseTokenStore(db, SystemClock()).load()
    assert sandbox.bitrix24.oauth.caller(stored.access_token).app == app.client_id


def test_a_reinstall_stored_by_another_process_is_picked_up(
    sandbox: Sandbox, client: httpx.Client, db: Database
) -> None:
    app = installed(sandbox, db)
    worker = connector(sandbox, client, db, app)
    assert worker.get("deal", "1")
    again = sandbox.bitrix24.install_app(app.client_id).auth  # the old tokens are revoked
    DatabaseTokenStore(db, SystemClock()).save(tokens_of(again))
    assert worker.get("deal", "2")
    assert sandbox.bitrix24.oauth.refreshes == 0
