"""Bitrix24's webhook intake: `/hooks/bitrix24` (outgoing webhooks and application events),
`/hooks/bitrix24/actions/{action}` (a robot or a button) and `/hooks/bitrix24/install` (the
portal's ONAPPINSTALL for crmbridge's local application, `auth: oauth`).

A delivery must carry the application token: the outgoing webhook's, fixed in the config, or the
installed application's, kept in the database. An install is verified before anything is stored
(`connectors/bitrix24/install.py`): a forged one gets 401/403 and changes nothing. Then the
tokens go to the database (replacing an earlier installation's), deliveries are checked against
the new token at once, and the events crmbridge follows are bound to `/hooks/bitrix24` of the
address the portal reached. In webhook mode there is nothing to install: 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from crmbridge.connectors.base import ChangedEvent, WebhookRejected
from crmbridge.connectors.bitrix24 import events as b24_events
from crmbridge.connectors.bitrix24 import install as b24_install
from crmbridge.connectors.bitrix24.crm import Bitrix24Crm
from crmbridge.connectors.bitrix24.settings import Bitrix24System
from crmbridge.connectors.bitrix24.tokens import DatabaseTokenStore
from crmbridge.flows import jobs as flow_jobs
from crmbridge.web.hooks import Intake, read_body

T = TypeVar("T")
WEBHOOK_MODE = "systems.crm.auth is webhook: only auth: oauth has an application to install"
REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "malformed delivery (not stored)"},
    401: {"description": "missing or forged application token (not stored)"},
    404: {"description": "unknown action"},
    413: {"description": "body over 1 MiB (not stored)"},
}
INSTALL_REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "not an ONAPPINSTALL delivery (nothing stored)"},
    403: {"description": "forged: another portal, application or token (nothing stored)"},
    404: {"description": "systems.crm.auth is webhook: nothing to install"},
    503: {"description": "the authorization server cannot be asked now (nothing stored)"},
}


class AppToken:
    """The token Bitrix24 deliveries must carry: the outgoing webhook's, fixed in the config, or
    (`auth: oauth`) the installed application's, read from the database by `load` and cached.
    A delivery that does not match the cached token makes one fresh read: another serve process
    may have taken a reinstall meanwhile."""

    def __init__(self, fixed: str | None = None, load: Callable[[], str | None] | None = None):
        self._token = fixed
        self._load = load

    async def expected(self, *, fresh: bool = False) -> str | None:
        if self._load is not None and (fresh or self._token is None):
            self._token = await run_in_threadpool(self._load)
        return self._token

    @property
    def reloadable(self) -> bool:
        return self._load is not None

    def installed(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return f"AppToken({'stored' if self._load else 'configured'})"


def app_token(settings: Bitrix24System, intake: Intake) -> AppToken:
    """The configured outgoing webhook's application token, or (auth: oauth) the installed
    application's."""
    if settings.auth != "oauth":
        token = settings.application_token
        return AppToken(token.get_secret_value() if token else None)
    store = DatabaseTokenStore(intake.db, intake.clock)

    def load() -> str | None:
        try:
            return store.load().application_token or None
        except b24_install.NotInstalled:
            return None

    return AppToken(load=load)


@dataclass(frozen=True)
class Installed:
    application_token: str = field(repr=False)
    unbound: list[str]  # events that could not be bound


def install(settings: Bitrix24System, intake: Intake, body: bytes, handler: str) -> Installed:
    """Verify and store an install delivery, then bind the events; WebhookRejected if forged."""
    assert settings.client_id and settings.portal  # auth: oauth, checked by the config
    tokens = b24_install.parse(body, intake.clock.now())
    crm = intake.application.crm()
    assert isinstance(crm, Bitrix24Crm)
    connector = crm.connector
    b24_install.verify(
        connector.rest.caller,
        tokens,
        client_id=settings.client_id,
        portal=settings.portal,
        server=settings.oauth_server,
    )
    DatabaseTokenStore(intake.db, intake.clock).save(tokens)
    connector.rest.auth.reload(None)  # this process's connector takes the new tokens now
    return Installed(tokens.application_token, b24_install.bind_events(connector.rest, handler))


def router(settings: Bitrix24System, intake: Intake) -> APIRouter:
    api = APIRouter(tags=["intake"])
    token = app_token(settings, intake)

    @api.post("/hooks/bitrix24", responses=REFUSALS)
    async def bitrix24(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
            events = await _verified(token, lambda t: b24_events.parse_delivery(body, t))
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(await intake.accept(events))

    @api.post("/hooks/bitrix24/actions/{action}", responses=REFUSALS)
    async def bitrix24_action(action: str, request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
            event = await _verified(token, lambda t: _action_event(action, body, t))
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        job = flow_jobs.action_job(action, event.entity_id)
        if job is None:
            return JSONResponse({"error": f"unknown action {action!r}"}, status_code=404)
        return JSONResponse(await intake.accept([event], lambda _: [job]))

    @api.post("/hooks/bitrix24/install", responses=INSTALL_REFUSALS)
    async def bitrix24_install(request: Request) -> JSONResponse:
        if settings.auth != "oauth":
            return JSONResponse({"error": WEBHOOK_MODE}, status_code=404)
        handler = str(request.url_for("bitrix24"))
        try:
            body = await read_body(request)
            done = await run_in_threadpool(install, settings, intake, body, handler)
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        token.installed(done.application_token)
        return JSONResponse({"installed": True, "unbound_events": done.unbound})

    return api


async def _verified(token: AppToken, parse: Callable[[str | None], T]) -> T:
    """`parse` with the expected application token; once more with a fresh one if it refused
    the delivery as unauthentic and the token is kept in the database."""
    expected = await token.expected()
    try:
        return parse(expected)
    except WebhookRejected as exc:
        if exc.status != 401 or not token.reloadable:
            raise
        fresh = await token.expected(fresh=True)
        if fresh == expected:
            raise
        return parse(fresh)


def _action_event(action: str, body: bytes, token: str | None) -> ChangedEvent:
    """A robot or button call: `document_id[2]=DEAL_42` (robot) or `deal_id=42`, with the
    application token like any outgoing event."""
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("not a form-encoded call", status=400) from None
    b24_events.verify_token(fields, token)
    deal = _deal_id(fields)
    stamp = fields.get("event_token") or fields.get("ts") or str(time.time_ns())
    return ChangedEvent(
        "bitrix24",
        f"action:{action}:{deal}:{stamp}",
        f"ACTION:{action}",
        "deal",
        deal,
        {"action": action},
    )


def _deal_id(fields: Mapping[str, str]) -> str:
    for name in ("document_id[2]", "deal_id", "ID"):
        if name in fields:
            return b24_events.entity_id(fields[name].removeprefix("DEAL_"), name)
    raise WebhookRejected("no deal id (document_id[2]=DEAL_<id> or deal_id)", status=400)
