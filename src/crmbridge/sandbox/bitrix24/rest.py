"""Serving one REST request: faults, auth, the rate limit, the method, the envelope.

The order is the portal's as seen from outside: an unavailable portal answers before anything
else, a wrong webhook before the limit is counted, a full bucket before the method runs, and the
caller's rights (scope, application context) before the method's own checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

from crmbridge.sandbox.bitrix24 import batch, dispatch
from crmbridge.sandbox.bitrix24.auth import PORTAL, WEBHOOK_CODE, WEBHOOK_USER, Caller, Webhooks
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.limits import LeakyBucket
from crmbridge.sandbox.bitrix24.wire import RestError, time_block
from crmbridge.sandbox.control import SandboxControl

__all__ = ["WEBHOOK_CODE", "WEBHOOK_USER", "Credentials", "RestEndpoint", "envelope", "no_auth"]

# The reference's checklist (crm-apis.md §1.10) asks for a 503 with an HTML body when the portal
# is down: under overload or maintenance the front server answers with a page, not JSON
# (field report: leshchenko1979/fast_bitrix24 issue #216, aiohttp ContentTypeError).
MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>503 Service Temporarily Unavailable</title></head>
<body><h1>Service Temporarily Unavailable</h1>
<p>Bitrix24 is being updated. Please try again in a few minutes.</p></body></html>
"""


@dataclass(frozen=True)
class Credentials:
    """What a request authenticates with: a webhook path, or an application's `auth` token."""

    user: str | None = None
    code: str | None = None
    token: str | None = None


@dataclass
class RestEndpoint:
    ctx: Context
    table: dict[str, Handler]
    control: SandboxControl
    limiter: LeakyBucket
    webhooks: Webhooks
    tokens: Callable[[str], Caller]  # an application's access token → its caller, or RestError

    def authenticate(self, creds: Credentials) -> Caller:
        if creds.user is not None and creds.code is not None:
            hook = self.webhooks.find(creds.user, creds.code)
            if hook is not None:
                return hook.caller()
        elif creds.token:
            return self.tokens(creds.token)
        raise no_auth()

    def serve(self, creds: Credentials, method: str, params: dict[str, Any]) -> Response:
        started, t0 = self.ctx.clock.now(), time.perf_counter()
        if self.control.fault("bitrix24", "maintenance") is not None:
            self.control.count_bitrix24(method)
            return HTMLResponse(MAINTENANCE_PAGE, status_code=503)
        try:
            caller = self.authenticate(creds)
        except RestError as error:
            self.control.count_bitrix24(method)
            return _error(error)
        if not self.limiter.admit(str(caller.user_id)):
            self.control.count_bitrix24(method, rate_limited=True)
            return _error(RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503))
        self.control.count_bitrix24(method)
        if self.control.fault("bitrix24", "error500") is not None:
            return _error(RestError("INTERNAL_SERVER_ERROR", "Internal server error", 500))
        if (slow := self.control.fault("bitrix24", "slow")) is not None:
            time.sleep(slow.delay)  # the fault is the delay itself
        try:
            reply = self.call(method, params, caller)
        except RestError as error:
            return _error(error)
        return JSONResponse(_envelope(reply, time_block(started, time.perf_counter() - t0)))

    def call(self, method: str, params: dict[str, Any], caller: Caller = PORTAL) -> Reply:
        """Run `method` as `caller` (by default the portal itself: every right, no limit)."""
        ctx = replace(self.ctx, caller=caller)
        if method.lower() == "batch":
            return batch.run(lambda m, p: _sub_call(self.table, ctx, m, p), ctx.clock, params)
        return dispatch.call(self.table, ctx, method, params)


def _sub_call(
    table: dict[str, Handler], ctx: Context, method: str, params: dict[str, Any]
) -> Reply:
    try:
        return dispatch.call(table, ctx, method, params)
    except RestError as error:
        if error.code == "insufficient_scope":
            # Inside a batch the portal drops the description (`batch.md`, "get_user" example).
            raise RestError(error.code, "", error.status) from None
        raise


def _envelope(reply: Reply, timing: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"result": reply.result}
    if reply.next is not None:
        body["next"] = reply.next
    if reply.total is not None:
        body["total"] = reply.total
    body["time"] = timing
    return body


def envelope(result: Any, started: datetime) -> dict[str, Any]:
    """`{"result": …, "time": …}` for an answer that took no measurable time."""
    return _envelope(Reply(result), time_block(started, 0.0))


def _error(error: RestError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def no_auth() -> RestError:
    """A wrong webhook code, or `/rest/<method>` without a webhook path or an `auth` token."""
    return RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
