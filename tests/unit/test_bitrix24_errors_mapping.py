"""How the connector reads the portal's answers: throttling, downtime, errors (pure)."""

from __future__ import annotations

import httpx
import pytest

from crmbridge.connectors.bitrix24 import wire
from crmbridge.connectors.http import RemoteNotFound, Unavailable
from crmbridge.errors import Permanent, Retryable


def answer(
    status: int, body: object = None, text: str | None = None, **headers: str
) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "pause"),
    [
        (answer(503, {"error": "QUERY_LIMIT_EXCEEDED"}), wire.LIMIT_PAUSE),
        (answer(503, {"error": "QUERY_LIMIT_EXCEEDED"}, **{"Retry-After": "5"}), 5.0),
        (answer(429, {"error": "OPERATION_TIME_LIMIT"}), wire.OPERATION_PAUSE),
        (answer(429, text="<html>Too Many Requests</html>"), wire.OPERATION_PAUSE),
        (answer(503, {"error": "OVERLOAD_LIMIT"}), wire.OVERLOAD_PAUSE),
        (answer(503, text="<html>maintenance</html>"), None),  # downtime, not a limit
        (answer(500, {"error": "INTERNAL_SERVER_ERROR"}), None),
        (answer(200, {"result": True}), None),
    ],
)
def test_throttle_pauses_only_for_limit_answers(
    response: httpx.Response, pause: float | None
) -> None:
    assert wire.throttle(response) == pause


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (answer(503, text="<html>Bitrix24 is being updated</html>"), Unavailable),
        (answer(200, text="<html>proxy error page</html>"), Unavailable),
        (answer(500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "x"}), Unavailable),
        (answer(400, {"error": "", "error_description": "Not found"}), RemoteNotFound),
        (
            answer(400, {"error": "NOT_FOUND", "error_description": "Element not found"}),
            RemoteNotFound,
        ),
        (
            answer(400, {"error": "", "error_description": "ID is not defined or invalid."}),
            Permanent,
        ),
        (answer(401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong"}), Permanent),
        (
            answer(401, {"error": "expired_token", "error_description": "expired"}),
            wire.ExpiredToken,
        ),
        (answer(403, {"error": "insufficient_scope", "error_description": "scope"}), Permanent),
        (answer(404, {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "x"}), Permanent),
        (answer(302, text="", Location="https://new.bitrix24.com/rest/1/x/"), Permanent),
    ],
)
def test_envelope_maps_failures(response: httpx.Response, kind: type[Exception]) -> None:
    with pytest.raises(kind) as caught:
        wire.envelope("crm.deal.get", response)
    assert type(caught.value) is kind
    assert "crm.deal.get" in str(caught.value)


def test_a_moved_portal_names_the_new_host_not_the_secret() -> None:
    moved = answer(302, text="", Location="https://new.bitrix24.eu/rest/1/s3cr3t/crm.deal.get")
    with pytest.raises(Permanent, match=r"moved to new\.bitrix24\.eu") as caught:
        wire.envelope("crm.deal.get", moved)
    assert "s3cr3t" not in str(caught.value)


def test_expired_token_is_retryable_the_rest_of_auth_is_not() -> None:
    assert issubclass(wire.ExpiredToken, Retryable)
    assert not isinstance(wire.error("m", "NO_AUTH_FOUND", "Wrong", 401), Retryable)


def test_envelope_of_a_list_page() -> None:
    env = wire.envelope(
        "crm.deal.list", answer(200, {"result": [{"ID": "1"}], "next": 50, "total": 51})
    )
    assert (env.result, env.next, env.total) == ([{"ID": "1"}], 50, 51)
