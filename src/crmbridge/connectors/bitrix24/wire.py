"""Bitrix24's wire dialect, client side: the envelope, its errors, PHP-bracket query strings.

Error mapping (`reference/crm-apis.md` §1.2): the throttle hook catches 503
`QUERY_LIMIT_EXCEEDED` / `OVERLOAD_LIMIT` and 429 `OPERATION_TIME_LIMIT` before the body is read
here (the limiter slows down, the job gets `Throttled` with the delay); 5xx and non-JSON answers
(the HTML page of a portal under maintenance) are `Unavailable`; an empty error code with "Not
found" and `NOT_FOUND` are `RemoteNotFound`; `expired_token` is `ExpiredToken` (renewed, then
sent again); refused credentials (`NO_AUTH_FOUND`, `INVALID_CREDENTIALS`, `invalid_token`, …)
are `AuthRefused`, a missing scope `InsufficientScope` (naming the scope, from `scopes.py`), an
application-only method through a webhook `WrongAuthType` — all three `Permanent`, and the
`RestClient` adds what to do for its kind of credential; everything else (unknown method,
validation) is `Permanent` with the portal's own description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from crmbridge.connectors.bitrix24.scopes import scope_of
from crmbridge.connectors.http import RemoteNotFound, Unavailable, retry_after
from crmbridge.errors import CrmbridgeError, Permanent, Retryable

PAGE_SIZE = 50
# After a QUERY_LIMIT_EXCEEDED the portal's bucket is full; the limiter restarts from full after
# the pause, so the pause itself only needs to cover the clock skew between the two buckets.
LIMIT_PAUSE = 2.0
OPERATION_PAUSE = 60.0  # OPERATION_TIME_LIMIT without Retry-After: a one-minute basket drops
OVERLOAD_PAUSE = 300.0  # OVERLOAD_LIMIT is a block by Bitrix support; retry rarely
_NOT_FOUND = ("not found", "element not found")


@dataclass(frozen=True)
class Envelope:
    result: Any
    total: int | None = None
    next: int | None = None
    time: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ref:
    """`$result[<command>][<field>]…`: a batch command's value taken from an earlier result."""

    command: str
    path: tuple[str | int, ...]

    def __str__(self) -> str:
        return f"$result[{self.command}]" + "".join(f"[{p}]" for p in self.path)


def throttle(response: httpx.Response) -> float | None:
    """The HttpCaller hook: seconds to pause for the portal's limit answers, else None."""
    if response.status_code not in (429, 503):
        return None
    head = response.content[:512]
    if b"QUERY_LIMIT_EXCEEDED" in head:
        return retry_after(response) or LIMIT_PAUSE
    if b"OPERATION_TIME_LIMIT" in head or response.status_code == 429:
        return retry_after(response) or OPERATION_PAUSE
    if b"OVERLOAD_LIMIT" in head:
        return retry_after(response) or OVERLOAD_PAUSE
    return None


def envelope(method: str, response: httpx.Response) -> Envelope:
    """The parsed envelope of a successful call; raises the mapped error otherwise."""
    if response.is_redirect:
        # A portal whose address changed answers 302; following it would turn POST into GET.
        moved = urlsplit(response.headers.get("location", "")).netloc or "elsewhere"
        raise Permanent(
            f"bitrix24 {method}: the portal moved to {moved}; update the connector's URL"
        )
    body = _json(response)
    if body is None:
        if response.status_code >= 500 or response.status_code == 200:
            raise Unavailable(f"bitrix24 {method}: HTTP {response.status_code}, not a JSON answer")
        raise Permanent(f"bitrix24 {method}: HTTP {response.status_code}, not a JSON answer")
    if "error" in body or response.status_code >= 300:
        raise error(method, str(body.get("error", "")), _text(body), response.status_code)
    return Envelope(
        body.get("result"), _int(body.get("total")), _int(body.get("next")), body.get("time") or {}
    )


class ExpiredToken(Retryable):
    """The OAuth access token has expired; it is renewed and the call sent again."""

    used: str | None = None  # the token the call was sent with, for single-flight renewal


class AuthRefused(Permanent):
    """The portal refused the credentials (a wrong or deleted webhook, an unknown token)."""

    used: str | None = None  # the token the call was sent with (an application's)


class WrongAuthType(Permanent):
    """The method works only in an application's context, not through an inbound webhook."""


class InsufficientScope(Permanent):
    """The credentials lack the scope the method needs."""

    def __init__(self, message: str, scope: str | None) -> None:
        super().__init__(message)
        self.scope = scope


# Codes of refused credentials (`_includes/system-errors.md`; b24pysdk `errors/__init__.py`).
REFUSED = frozenset(
    {
        "NO_AUTH_FOUND",
        "INVALID_CREDENTIALS",
        "invalid_token",
        "authorization_error",
        "ERROR_OAUTH",
        "APPLICATION_NOT_FOUND",
        "NOT_INSTALLED",
    }
)


def error(
    method: str, code: str, description: str, status: int | None = None, *, where: str = ""
) -> CrmbridgeError:
    """The error for an answer to `method` (`where` names the call in messages, e.g. a batch
    command; by default the method)."""
    where = where or method
    message = f"bitrix24 {where}: {description or code or 'error'}" + (f" ({code})" if code else "")
    if status is not None and status >= 500:
        return Unavailable(message)
    if code == "expired_token":
        return ExpiredToken(message)
    if code == "insufficient_scope":
        scope = scope_of(method)
        needs = f"needs the `{scope}` scope" if scope else "needs a scope"
        return InsufficientScope(f"bitrix24 {where}: {needs}, not granted ({code})", scope)
    if code in REFUSED:
        return AuthRefused(message)
    if code == "WRONG_AUTH_TYPE":
        return WrongAuthType(message)
    if code == "NOT_FOUND" or (code == "" and description.strip(". ").lower() in _NOT_FOUND):
        return RemoteNotFound(message)
    return Permanent(message)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _text(body: Mapping[str, Any]) -> str:
    return str(body.get("error_description") or "")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def php_query(params: Mapping[str, Any]) -> str:
    """`{"fields": {"TITLE": "Х"}, "select": ["ID"]}` → `fields[TITLE]=%D0%A5&select[0]=ID`.

    Used for batch commands. Brackets stay literal and `Ref` values stay unencoded, because the
    portal substitutes `$result[...]` in the raw command string before decoding it.
    """
    pairs: list[str] = []
    for key, value in params.items():
        _walk(quote(str(key), safe=""), value, pairs)
    return "&".join(pairs)


def _walk(prefix: str, value: Any, pairs: list[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _walk(f"{prefix}[{quote(str(key), safe='')}]", item, pairs)
    elif isinstance(value, list | tuple):
        if not value:
            pairs.append(f"{prefix}=")
        for n, item in enumerate(value):
            _walk(f"{prefix}[{n}]", item, pairs)
    else:
        pairs.append(f"{prefix}={_scalar(value)}")


def _scalar(value: Any) -> str:
    if isinstance(value, Ref):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"  # the portal's own booleans
    return quote(str(value), safe="")
