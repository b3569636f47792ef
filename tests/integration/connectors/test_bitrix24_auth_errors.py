"""What the connector says when the portal refuses its credentials or a scope: a Permanent error
that names the missing scope and what to do, for an inbound webhook and for an application."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crmbridge.connectors.bitrix24 import MemoryTokenStore, Tokens, connect, connect_app
from crmbridge.connectors.bitrix24.scopes import granted_scopes
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.errors import Permanent
from crmbridge.sandbox.server import Sandbox
from tests.integration.connectors.bitrix24_support import b24_app_connector
from tests.support.sandbox import running_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def test_a_webhook_without_task_says_to_tick_task(sandbox: Sandbox, client: httpx.Client) -> None:
    url = sandbox.bitrix24.create_webhook(user=1, scopes=["crm"])
    connector = connect(client, url, limiter=bitrix24_limiter(rate=100, burst=100), recorder=None)
    assert granted_scopes(connector.rest) == {"crm"}
    with pytest.raises(Permanent) as caught:
        connector.deals.add_task(1, "Відвантажити", 1)
    message = str(caught.value)
    assert "`task`" in message and "inbound webhook" in message and "tick" in message
    assert url.rstrip("/").rsplit("/", 1)[1] not in message  # the code is a secret


def test_an_application_without_task_says_to_add_it_and_reinstall(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    connector = b24_app_connector(sandbox, client, scopes=("crm",))
    assert granted_scopes(connector.rest) == {"crm"}
    with pytest.raises(Permanent, match=r"`task`.*reinstall"):
        connector.deals.add_task(1, "Відвантажити", 1)


def test_a_refused_webhook_says_what_to_check(sandbox: Sandbox, client: httpx.Client) -> None:
    wrong = sandbox.bitrix24_webhook.replace("/sandbox/", "/deleted-hook-1/")
    connector = connect(client, wrong, limiter=bitrix24_limiter(), recorder=None)
    with pytest.raises(Permanent, match=r"NO_AUTH_FOUND.*systems\.crm\.webhook_url"):
        connector.get("deal", "1")


def test_a_token_that_stays_expired_after_renewal_is_permanent(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    app = sandbox.bitrix24.apps.register(scopes=["crm"], handler="")
    auth = sandbox.bitrix24.install_app(app.client_id).auth
    sandbox.bitrix24.oauth.lifetime = 0  # every token it issues from now on is born expired
    sandbox.bitrix24.oauth.expire_access_tokens()
    store = MemoryTokenStore(
        Tokens(auth["access_token"], auth["refresh_token"], auth["client_endpoint"])
    )
    connector = connect_app(
        client,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=store,
        limiter=bitrix24_limiter(rate=100, burst=100),
        recorder=None,
        oauth_server=sandbox.settings.public_url,
    )
    with pytest.raises(Permanent, match=r"could not be renewed.*reinstall"):
        connector.get("deal", "1")
    assert sandbox.bitrix24.oauth.refreshes == 1  # renewed once, not in a loop
