"""Outgoing-webhook deliveries as the sandbox portal sends them, verified and parsed."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmbridge.connectors.base import WebhookRejected
from crmbridge.connectors.bitrix24.events import parse_delivery
from tests.integration.connectors.bitrix24_support import APPLICATION_TOKEN, sandbox_and_connector
from tests.support.servers import serve_app
from tests.support.waiting import wait_for


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    async def hook(request: Request) -> Response:
        bodies.append(await request.body())
        return Response(status_code=200)

    with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield f"{url}/hook", bodies


def test_a_real_delivery_of_a_stage_change_becomes_one_deal_event(
    receiver: tuple[str, list[bytes]],
) -> None:
    url, bodies = receiver
    with sandbox_and_connector(None, outgoing_webhook=url) as (sandbox, connector):
        deal_id = sandbox.seed.deals[0].id
        sandbox.bitrix24.issue_invoice(deal_id)
        wait_for(lambda: bodies, what="the portal's delivery")
        [event] = connector.parse_webhook(bodies[0], {})
    assert (event.source, event.event_type, event.entity_kind, event.entity_id) == (
        "bitrix24",
        "ONCRMDEALUPDATE",
        "deal",
        str(deal_id),
    )
    assert APPLICATION_TOKEN not in repr(event)
    assert set(event.payload) <= {
        "event",
        "event_handler_id",
        "ts",
        "auth[domain]",
        "auth[member_id]",
    }


def _body(**fields: str) -> bytes:
    base = {
        "event": "ONCRMDEALUPDATE",
        "data[FIELDS][ID]": "7",
        "ts": "1736405807",
        "auth[application_token]": "tok-1",
    }
    base.update(fields)
    return urlencode({k: v for k, v in base.items() if v != "-"}).encode()


def test_the_token_is_required_and_must_match() -> None:
    assert len(parse_delivery(_body(), "tok-1")) == 1
    for body, token in [(_body(), "tok-2"), (_body(**{"auth[application_token]": "-"}), "tok-1")]:
        with pytest.raises(WebhookRejected) as caught:
            parse_delivery(body, token)
        assert caught.value.status == 401
    with pytest.raises(WebhookRejected):
        parse_delivery(_body(), None)  # no token configured: nothing is accepted


def test_a_delivery_without_event_or_id_is_malformed() -> None:
    for body in (_body(event="-"), _body(**{"data[FIELDS][ID]": "-"})):
        with pytest.raises(WebhookRejected) as caught:
            parse_delivery(body, "tok-1")
        assert caught.value.status == 400


def test_an_oversized_delivery_is_rejected() -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_delivery(_body(ts="1" * 70_000), "tok-1")
    assert caught.value.status == 400


def test_an_unknown_event_is_ignored_not_rejected(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        assert parse_delivery(_body(event="ONCRMLEADADD"), "tok-1") == []
    assert "ONCRMLEADADD ignored" in caplog.text


def test_event_ids_differ_per_change_and_repeat_per_duplicate_delivery() -> None:
    first = parse_delivery(_body(ts="100"), "tok-1")[0].event_id
    assert parse_delivery(_body(ts="100"), "tok-1")[0].event_id == first
    assert parse_delivery(_body(ts="101"), "tok-1")[0].event_id != first
