"""OAuth application mode against a fake portal + OAuth server on loopback: the token is sent as
`auth`, renewed only on `expired_token`, once for all threads, and never recorded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.connectors.bitrix24 import Bitrix24Connector, MemoryTokenStore, Tokens, connect_app
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.correlation import CallContext, bound
from crmbridge.errors import Permanent
from crmbridge.store.database import Database
from crmbridge.store.journal import exchanges_for
from tests.support.servers import serve_app

CLIENT_ID, CLIENT_SECRET = "local.5f1e2d", "client-secret-9x8y7z"
THREADS = 6


@dataclass
class FakeOAuthPortal:
    """Accepts only the last access token it issued; rotates the refresh token on every use."""

    access: str = "access-1"
    refresh: str = "refresh-1"
    refreshes: int = 0
    expired_answers: int = 0
    gate_at: int = 1  # a refresh waits until this many calls were refused (all threads)
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def rest(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            if body.get("auth") != self.access:
                self.expired_answers += 1
                if self.expired_answers >= self.gate_at:
                    self.gate.set()
                error = {
                    "error": "expired_token",
                    "error_description": "The access token provided has expired.",
                }
                return JSONResponse(error, status_code=401)
        return JSONResponse({"result": {"method": request.path_params["method"]}})

    async def token(self, request: Request) -> Response:
        await run_in_threadpool(self.gate.wait, 10)
        q = request.query_params
        with self.lock:
            if (q["grant_type"], q["client_id"], q["client_secret"]) != (
                "refresh_token",
                CLIENT_ID,
                CLIENT_SECRET,
            ) or q["refresh_token"] != self.refresh:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.refreshes += 1
            self.access, self.refresh = (
                f"access-{self.refreshes + 1}",
                f"refresh-{self.refreshes + 1}",
            )
            return JSONResponse(
                {"access_token": self.access, "refresh_token": self.refresh, "expires_in": 3600}
            )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/rest/{method}", self.rest, methods=["POST"]),
                Route("/oauth/token/", self.token, methods=["GET"]),
            ]
        )


@pytest.fixture
def portal() -> Iterator[tuple[FakeOAuthPortal, str]]:
    fake = FakeOAuthPortal()
    with serve_app(fake.app()) as url:
        yield fake, url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def app_connector(
    client: httpx.Client, url: str, store: MemoryTokenStore, db: Database | None = None
) -> Bitrix24Connector:
    return connect_app(
        client,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        store=store,
        limiter=bitrix24_limiter(rate=1000, burst=1000),
        recorder=JournalRecorder(db) if db is not None else None,
        oauth_server=url,
    )


def test_a_valid_token_is_used_as_is(
    portal: tuple[FakeOAuthPortal, str], client: httpx.Client
) -> None:
    fake, url = portal
    store = MemoryTokenStore(Tokens("access-1", "refresh-1", f"{url}/rest/"))
    assert app_connector(client, url, store).rest.result("crm.deal.get", {"id": 1}) == {
        "method": "crm.deal.get"
    }
    assert fake.refreshes == 0


def test_threads_hitting_an_expired_token_refresh_it_once(
    portal: tuple[FakeOAuthPortal, str],
    client: httpx.Client,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, url = portal
    fake.access, fake.gate_at = "access-now", THREADS  # what the store holds has expired
    store = MemoryTokenStore(Tokens("access-old", "refresh-1", f"{url}/rest/"))
    connector = app_connector(client, url, store, db)
    with caplog.at_level(logging.DEBUG), ThreadPoolExecutor(THREADS) as pool:

        def call(n: int) -> object:
            with bound(CallContext("oauth")):
                return connector.rest.result("crm.deal.get", {"id": n})

        results = list(pool.map(call, range(THREADS)))
    assert results == [{"method": "crm.deal.get"}] * THREADS
    assert fake.refreshes == 1
    renewed = store.load()
    assert (renewed.access_token, renewed.refresh_token) == ("access-2", "refresh-2")
    assert renewed.client_endpoint == f"{url}/rest/" and renewed.expires_at is not None
    rows = exchanges_for(db, correlation_id="oauth")
    assert [r["operation"] for r in rows].count("oauth.refresh") == 1
    text = caplog.text + " ".join(str(v) for r in rows for v in r.values()) + repr(connector)
    for secret in (CLIENT_SECRET, "access-old", "access-2", "refresh-1", "refresh-2"):
        assert secret not in text


def test_a_refused_refresh_is_permanent_and_names_no_secret(
    portal: tuple[FakeOAuthPortal, str], client: httpx.Client
) -> None:
    fake, url = portal
    fake.gate.set()
    store = MemoryTokenStore(Tokens("access-old", "refresh-spent", f"{url}/rest/"))
    with pytest.raises(Permanent, match="invalid_grant") as caught:
        app_connector(client, url, store).get("deal", "1")
    assert "refresh-spent" not in str(caught.value) and CLIENT_SECRET not in str(caught.value)
