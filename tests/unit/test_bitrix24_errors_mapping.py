"""How the connector reads the portal's answers: throttling, downtime, errors (pure)."""

from __future__ import annotations

import httpx
import pytest

from crmbridge.connectors.bitrix24 import batch, wire
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
        (answer(401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong"}), wire.AuthRefused),
        (
            answer(401, {"error": "expired_token", "error_description": "expired"}),
            wire.ExpiredToken,
        ),
        (
            answer(403, {"error": "insufficient_scope", "error_description": "scope"}),
            wire.InsufficientScope,
        ),
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


def test_a_missing_scope_names_the_scope_the_method_needs() -> None:
    body = {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the webhook",
    }
    with pytest.raises(wire.InsufficientScope) as caught:
        wire.envelope("tasks.task.add", answer(401, body))
    assert caught.value.scope == "task" and isinstance(caught.value, Permanent)
    assert "`task`" in str(caught.value)


def test_a_missing_scope_inside_a_batch_names_the_commands_scope() -> None:
    sent = {
        "deal": batch.Command("crm.deal.get", {"id": 1}),
        "task": batch.Command("tasks.task.list"),
    }
    answer_ = {
        "result": {"deal": {"ID": "1"}},
        "result_error": {"task": {"error": "insufficient_scope", "error_description": ""}},
    }
    error = batch.parse(sent, answer_).errors["task"]
    assert isinstance(error, wire.InsufficientScope) and error.scope == "task"


@pytest.mark.parametrize("code", ["NO_AUTH_FOUND", "INVALID_CREDENTIALS", "invalid_token"])
def test_refused_credentials_are_their_own_permanent_error(code: str) -> None:
    with pytest.raises(wire.AuthRefused):
        wire.envelope("crm.deal.get", answer(401, {"error": code, "error_description": "x"}))
