"""How the Bitrix24 connector fails, over real HTTP: limits, faults, auth, unknown methods."""

from __future__ import annotations

import logging

import httpx
import pytest

from crmbridge.connectors.bitrix24 import connect
from crmbridge.connectors.http import JournalRecorder, Throttled, Unavailable
from crmbridge.connectors.ratelimit import Budget, LeakyBucket, bitrix24_limiter
from crmbridge.errors import Permanent
from crmbridge.store.database import Database
from crmbridge.store.journal import exchanges_for
from tests.integration.connectors.bitrix24_support import WEBHOOK_CODE, sandbox_and_connector
from tests.support.sandbox import running_sandbox


def test_a_limiter_matching_the_portal_never_gets_query_limit_exceeded() -> None:
    # Real time, but fast: the portal allows 40 req/s after a burst of 5.
    with running_sandbox(b24_rate=40, b24_burst=5) as sandbox, httpx.Client() as client:
        connector = connect(
            client,
            sandbox.bitrix24_webhook,
            limiter=bitrix24_limiter(rate=40, burst=5),
            recorder=None,
        )
        for n in range(30):
            connector.get("deal", str(n + 1))
        stats = sandbox.control.stats()["bitrix24"]
    assert stats["requests"] == 30 and stats["rate_limited"] == 0


def test_query_limit_exceeded_slows_down_and_is_retryable_with_the_delay(db: Database) -> None:
    with running_sandbox(b24_rate=0.5, b24_burst=3) as sandbox, httpx.Client() as client:
        limiter = LeakyBucket(Budget(1000, 1000))  # misconfigured: far above the portal's limit
        connector = connect(
            client,
            sandbox.bitrix24_webhook,
            limiter=limiter,
            recorder=JournalRecorder(db),
            throttle_retries=0,  # no waiting in place: the job sees the Retryable at once
        )
        with pytest.raises(Throttled) as caught:
            for n in range(10):
                connector.get("deal", str(n + 1))
        assert sandbox.control.stats()["bitrix24"]["rate_limited"] == 1
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert limiter.reserve() >= caught.value.retry_after - 0.5  # nobody sends meanwhile
    throttled = [r for r in exchanges_for(db) if r["status"] == 503]
    assert len(throttled) == 1 and "QUERY_LIMIT_EXCEEDED" in throttled[0]["response_body"]


def test_a_short_throttle_is_waited_out_in_place_and_the_rate_adapts(db: Database) -> None:
    with running_sandbox(b24_rate=5, b24_burst=3) as sandbox, httpx.Client() as client:
        limiter = LeakyBucket(Budget(1000, 1000), headroom=0)  # far above the portal's limit
        connector = connect(
            client, sandbox.bitrix24_webhook, limiter=limiter, recorder=JournalRecorder(db)
        )
        found = [connector.get("deal", str(n % 7 + 1)) for n in range(12)]
        stats = sandbox.control.stats()["bitrix24"]
    assert all(deal is not None for deal in found)  # no call failed: they were slowed down
    assert 0 < stats["rate_limited"] <= 3
    assert stats["requests"] == 12 + stats["rate_limited"]


@pytest.mark.parametrize("mode", ["maintenance", "error500"])
def test_portal_faults_are_retryable(mode: str) -> None:
    with sandbox_and_connector(None) as (sandbox, connector):
        sandbox.control.set_fault("bitrix24", mode)  # type: ignore[arg-type]
        with pytest.raises(Unavailable):
            connector.get("deal", "1")
        sandbox.control.clear_faults()
        assert connector.get("deal", "1") is not None


def test_a_wrong_webhook_code_is_permanent_and_the_message_has_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running_sandbox() as sandbox, httpx.Client() as client:
        wrong = sandbox.bitrix24_webhook.replace(f"/{WEBHOOK_CODE}/", "/not-the-code-42/")
        connector = connect(client, wrong, limiter=bitrix24_limiter(), recorder=None)
        with caplog.at_level(logging.DEBUG), pytest.raises(Permanent) as caught:
            connector.get("deal", "1")
    assert "NO_AUTH_FOUND" in str(caught.value)
    assert "not-the-code-42" not in str(caught.value) + caplog.text + repr(connector)


def test_an_unknown_method_is_permanent() -> None:
    with (
        sandbox_and_connector(None) as (_, connector),
        pytest.raises(Permanent, match="ERROR_METHOD_NOT_FOUND"),
    ):
        connector.rest.call("crm.nothing.get", {"id": 1})


def test_an_unknown_kind_is_permanent() -> None:
    with (
        sandbox_and_connector(None) as (_, connector),
        pytest.raises(Permanent, match="no record kind"),
    ):
        connector.get("lead", "1")


def test_validation_errors_are_permanent_with_the_portal_message() -> None:
    with (
        sandbox_and_connector(None) as (_, connector),
        pytest.raises(Permanent, match="ENTITY_TYPE_ID is not defined"),
    ):
        connector.put("requisite", {"ENTITY_TYPE_ID": 99, "NAME": "x"})


def test_a_portal_that_is_down_is_retryable() -> None:
    with running_sandbox() as sandbox:
        url = sandbox.bitrix24_webhook
    with httpx.Client() as client:  # the server is gone: connection refused
        connector = connect(client, url, limiter=bitrix24_limiter(), recorder=None)
        with pytest.raises(Unavailable):
            connector.get("deal", "1")
