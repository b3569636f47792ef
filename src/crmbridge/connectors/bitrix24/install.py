"""The installation of crmbridge's local application: the ONAPPINSTALL delivery, read, verified,
and the events the application subscribes to.

A local application that "uses only API" gets its tokens once, in a POST the portal sends to its
installation handler right after an admin installs it
(`bitrix24/b24restdocs:settings/app-installation/local-apps/installation-callback.md`): a form
with PHP brackets, `event=ONAPPINSTALL` and `auth[access_token|refresh_token|expires|expires_in|
client_endpoint|member_id|scope|application_token|…]`
(`api-reference/common/events/on-app-install.md`). The handler is public, so the delivery proves
nothing by itself. Before anything is stored:
- the portal in `auth[client_endpoint]` must be the configured one;
- the authorization server's `app.info` — the trusted source (`settings/oauth/simple-way.md`),
  at the configured server, never at `auth[server_endpoint]`, which a forger would point at
  their own — must accept the access token and name our client_id and this installation
  (`install.member_id`, `install.client_endpoint`), as b24pysdk's
  `credentials/auth.py` `validate_against_app_info` compares them.

Handlers bound with `event.bind` vanish when the app is installed again (`events/event-bind.md`),
so every install binds `EVENTS` anew.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from crmbridge.connectors.base import WebhookRejected
from crmbridge.connectors.bitrix24.batch import Command
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.bitrix24.tokens import NotInstalled, Tokens
from crmbridge.connectors.http import HttpCaller
from crmbridge.errors import CrmbridgeError

__all__ = ["EVENTS", "NotInstalled", "bind_events", "parse", "verify"]

log = logging.getLogger("crmbridge.connectors.bitrix24")
EVENT = "ONAPPINSTALL"
MAX_BODY = 64 * 1024  # an install delivery is under 2 KiB
REQUIRED = ("access_token", "refresh_token", "client_endpoint", "member_id", "application_token")
# The changes crmbridge follows (`flows/jobs.py`: deals and companies; products are polled).
EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE")
VERIFY_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def parse(body: bytes, now: datetime) -> Tokens:
    """The tokens an ONAPPINSTALL delivery carries; WebhookRejected(400) for anything else."""
    if len(body) > MAX_BODY:
        raise WebhookRejected("the install delivery is too large", status=400)
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("not a form-encoded install delivery", status=400) from None
    if fields.get("event", "").upper() != EVENT:
        raise WebhookRejected(f"not an {EVENT} delivery", status=400)
    auth = {k[5:-1]: v for k, v in fields.items() if k.startswith("auth[") and k.endswith("]")}
    missing = [name for name in REQUIRED if not auth.get(name)]
    if missing:
        raise WebhookRejected(f"the install delivery lacks auth[{missing[0]}]", status=400)
    return tokens_from(auth, now)


def tokens_from(auth: Mapping[str, str], now: datetime) -> Tokens:
    """The tokens of an install's `auth[...]` fields (all of REQUIRED present)."""
    return Tokens(
        auth["access_token"],
        auth["refresh_token"],
        auth["client_endpoint"],
        member_id=auth["member_id"],
        application_token=auth["application_token"],
        scope=auth.get("scope", ""),
        expires_at=_expiry(auth, now),
    )


def _expiry(auth: Mapping[str, str], now: datetime) -> datetime:
    if auth.get("expires", "").isdigit():
        return datetime.fromtimestamp(int(auth["expires"]), UTC)
    lifetime = int(auth["expires_in"]) if auth.get("expires_in", "").isdigit() else 3600
    return now + timedelta(seconds=lifetime)


def verify(caller: HttpCaller, tokens: Tokens, *, client_id: str, portal: str, server: str) -> None:
    """Raise WebhookRejected (403; 503 when the server cannot be asked) unless the delivery is
    this portal's install of our application."""
    if _rest_of(portal) != _normal(tokens.client_endpoint):
        raise WebhookRejected(
            "the install comes from another portal than systems.crm.portal", status=403
        )
    info = _app_info(caller, server, tokens.access_token)
    found = info.get("install")
    install: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if str(info.get("client_id")) != client_id:
        raise WebhookRejected("the install is another application's (client_id)", status=403)
    if str(install.get("member_id")) != tokens.member_id or _normal(
        str(install.get("client_endpoint"))
    ) != _normal(tokens.client_endpoint):
        raise WebhookRejected("the install does not match the portal's installation", status=403)


def _app_info(caller: HttpCaller, server: str, token: str) -> Mapping[str, Any]:
    try:
        response = caller.request(
            "GET",
            f"{server.rstrip('/')}/rest/app.info",
            operation="oauth.app.info",
            params={"auth": token},
            timeout=VERIFY_TIMEOUT,
        )
    except CrmbridgeError as exc:
        raise WebhookRejected(f"cannot verify the install now: {exc.message}", status=503) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    result = body.get("result") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(result, Mapping):
        raise WebhookRejected("the authorization server refused the install's token", status=403)
    return result


def _rest_of(portal: str) -> str:
    return _normal(portal.rstrip("/") + "/rest/")


def _normal(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def bind_events(rest: RestClient, handler: str) -> list[str]:
    """Bind `EVENTS` to `handler` in one batch; returns the events that could not be bound."""
    commands = {
        f"bind{n}": Command("event.bind", {"event": event, "handler": handler})
        for n, event in enumerate(EVENTS)
    }
    answer = rest.batch(commands, key="install")
    failed = [
        EVENTS[int(key.removeprefix("bind"))]
        for key, error in answer.errors.items()
        if "ERROR_HANDLER_ALREADY_EXIST" not in error.message
    ]
    for event in failed:
        log.warning("bitrix24: %s could not be bound to %s", event, handler)
    return failed
