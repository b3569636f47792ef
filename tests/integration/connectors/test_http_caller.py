"""The shared HTTP layer over real HTTP on loopback, recording into both databases."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.clock import FakeClock
from crmbridge.connectors.http import (
    HttpCaller,
    JournalRecorder,
    Throttled,
    Unavailable,
    retry_after,
)
from crmbridge.connectors.ratelimit import Budget, LeakyBucket
from crmbridge.connectors.redact import Redactor, protect_http_logs
from crmbridge.correlation import CallContext, bound
from crmbridge.errors import Permanent
from crmbridge.store.database import Database, open_database
from crmbridge.store.journal import exchanges_for
from tests.support.servers import free_port, serve_app

SECRET = "webhook-code-42"


async def echo(request: Request) -> Response:
    return JSONResponse({"got": (await request.body()).decode(), "token": "access_token"})


async def busy(request: Request) -> Response:
    return JSONResponse({"error": "busy"}, status_code=429, headers={"Retry-After": "7"})


async def big(request: Request) -> Response:
    return Response("x" * 100_000)


async def pdf(request: Request) -> Response:
    return Response(b"%PDF-1.4\n\x00\xff binary", media_type="application/pdf")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/rest/1/{code}/echo", echo, methods=["POST"]),
            Route("/busy", busy, methods=["GET"]),
            Route("/big", big, methods=["GET"]),
            Route("/pdf", pdf, methods=["GET"]),
        ]
    )
    with serve_app(app) as url:
        yield url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def caller(client: httpx.Client, clock: FakeClock, db: Database | None, **kw: object) -> HttpCaller:
    return HttpCaller(
        client,
        system="test",
        limiter=LeakyBucket(Budget(100, 100), clock=clock, sleep=clock.advance),
        recorder=JournalRecorder(db) if db is not None else None,
        redactor=Redactor([SECRET]),
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def test_an_exchange_is_recorded_redacted_with_the_job_context(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db)
    with bound(CallContext("corr-1", job_id=7, attempt=2, business_key="deal:42")):
        response = http.request(
            "POST",
            f"{base_url}/rest/1/{SECRET}/echo",
            operation="test.echo",
            json={"fields": {"TITLE": "Угода"}, "auth": SECRET, "password": "p4ssw0rd"},
        )
    assert response.status_code == 200
    [row] = exchanges_for(db, correlation_id="corr-1")
    assert row["system"] == "test" and row["operation"] == "test.echo"
    assert (row["job_id"], row["attempt"], row["business_key"]) == (7, 2, "deal:42")
    assert row["status"] == 200 and row["method"] == "POST"
    assert row["duration_ms"] is not None
    assert "Угода" in row["request_body"]
    for value in row.values():
        assert SECRET not in str(value) and "p4ssw0rd" not in str(value)
    assert "/rest/1/***/echo" in row["url"]


def test_business_key_argument_wins_over_the_context(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db)
    with bound(CallContext("corr-2", business_key="deal:1")):
        http.request("GET", f"{base_url}/big", operation="t", business_key="product:9")
    [row] = exchanges_for(db, correlation_id="corr-2")
    assert row["business_key"] == "product:9"


def test_cyrillic_urls_are_logged_readable_and_still_redacted(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db)
    url = f"{base_url}/rest/1/{SECRET}/echo"
    http.request(
        "POST", url, operation="t", business_key="cyr", params={"$filter": "Description eq 'Угода'"}
    )
    [row] = exchanges_for(db, business_key="cyr")
    assert "Description eq 'Угода'" in row["url"] and SECRET not in row["url"]


def test_bodies_are_cut_at_the_limit(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db, body_limit=100)
    http.request("GET", f"{base_url}/big", operation="t", business_key="big")
    [row] = exchanges_for(db, business_key="big")
    assert row["response_body"].startswith("x" * 100)
    assert len(row["response_body"]) < 130


def test_429_slows_the_limiter_down_and_raises_retryable_with_the_delay(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db, throttle_retries=0)
    with pytest.raises(Throttled) as caught:
        http.request("GET", f"{base_url}/busy", operation="t", business_key="busy")
    assert caught.value.retry_after == 7.0
    assert isinstance(http.limiter, LeakyBucket)
    assert http.limiter.reserve() >= 7.0
    [row] = exchanges_for(db, business_key="busy")
    assert row["status"] == 429 and "slow down" in row["error"]


def test_a_pause_longer_than_the_inline_wait_is_left_to_the_job_retry(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db, max_inline_wait=5.0)  # the server asks for 7 s
    with pytest.raises(Throttled):
        http.request("GET", f"{base_url}/busy", operation="t", business_key="long")
    assert len(exchanges_for(db, business_key="long")) == 1  # sent once, not waited out


def test_connection_refused_is_retryable_and_recorded(
    db: Database, client: httpx.Client, clock: FakeClock
) -> None:
    http = caller(client, clock, db)
    url = f"http://127.0.0.1:{free_port()}/rest/1/{SECRET}/x"
    with pytest.raises(Unavailable) as caught:
        http.request("GET", url, operation="t", business_key="down")
    assert SECRET not in str(caught.value)
    [row] = exchanges_for(db, business_key="down")
    assert row["status"] is None and row["error"] and SECRET not in row["url"]


def test_a_timeout_is_retryable(client: httpx.Client, clock: FakeClock) -> None:
    http = caller(client, clock, None, timeout=httpx.Timeout(0.001))
    # A listening socket that never answers: the kernel accepts the connection, nobody replies.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with pytest.raises(Unavailable, match="timed out"):
            http.request("GET", f"http://127.0.0.1:{port}/", operation="t")


def test_a_bad_scheme_is_permanent(client: httpx.Client, clock: FakeClock) -> None:
    with pytest.raises(Permanent):
        caller(client, clock, None).request("GET", "ftp://example.com/x", operation="t")


def test_a_failing_exchange_log_does_not_fail_the_call(
    client: httpx.Client,
    base_url: str,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = open_database(f"sqlite:///{tmp_path}/not-migrated.db")  # no exchanges table
    http = caller(client, clock, db)
    assert http.request("GET", f"{base_url}/big", operation="t").status_code == 200
    assert "not recorded" in caplog.text
    db.dispose()


def test_logs_show_no_secret_once_http_logs_are_protected(
    client: httpx.Client, base_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    protect_http_logs(Redactor())  # what the application wiring does once
    with caplog.at_level(logging.DEBUG):
        caller(client, clock, None).request(
            "POST", f"{base_url}/rest/1/{SECRET}/echo", operation="t", json={}
        )
    assert "test t POST" in caplog.text
    assert any(r.name == "httpx" for r in caplog.records)  # httpx did log the URL
    assert SECRET not in caplog.text


def test_repr_has_no_secret(client: httpx.Client, clock: FakeClock) -> None:
    assert SECRET not in repr(caller(client, clock, None))


def test_retry_after_reads_seconds_and_dates() -> None:
    def resp(**headers: str) -> httpx.Response:
        return httpx.Response(503, headers=headers)

    assert retry_after(resp()) is None
    assert retry_after(resp(**{"Retry-After": "12"})) == 12.0
    assert retry_after(resp(**{"Retry-After": "soon"})) is None
    dated = resp(
        **{"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"}
    )
    assert retry_after(dated) == 30.0


def test_a_binary_response_is_logged_as_its_size_and_type(
    db: Database, client: httpx.Client, base_url: str, clock: FakeClock
) -> None:
    http = caller(client, clock, db)
    assert (
        http.request("GET", f"{base_url}/pdf", operation="t", business_key="pdf").content[:4]
        == b"%PDF"
    )
    [row] = exchanges_for(db, business_key="pdf")
    assert row["response_body"] == "<18 bytes of application/pdf>"
