"""`POST /hooks/bitrix24/install`: the portal's ONAPPINSTALL for crmbridge's local application
(`systems.crm.auth: oauth`).

The delivery is verified before anything is stored (`connectors/bitrix24/install.py`): a forged
one gets 401/403 and changes nothing. Then the tokens and the application token go to the
database (replacing an earlier installation's), deliveries are checked against the new token at
once, and the events crmbridge follows are bound to `/hooks/bitrix24` of the address the portal
reached (behind a proxy, `serve` trusts its X-Forwarded headers). In webhook mode there is
nothing to install: 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from crmbridge.app import Application
from crmbridge.connectors.base import WebhookRejected
from crmbridge.connectors.bitrix24 import DatabaseTokenStore
from crmbridge.connectors.bitrix24 import install as b24_install
from crmbridge.web.hooks import AppToken, read_body

WEBHOOK_MODE = "systems.crm.auth is webhook: only auth: oauth has an application to install"


@dataclass(frozen=True)
class Installed:
    application_token: str = field(repr=False)
    unbound: list[str]  # events that could not be bound


def stored_app_token(application: Application) -> AppToken:
    """The application token deliveries must carry in oauth mode: the installed one."""
    store = DatabaseTokenStore(application.db, application.clock)

    def load() -> str | None:
        try:
            return store.load().application_token or None
        except b24_install.NotInstalled:
            return None

    return AppToken(load=load)


def install(application: Application, body: bytes, handler: str) -> Installed:
    """Verify and store an install delivery, then bind the events; WebhookRejected if forged."""
    crm = application.config.systems.crm
    assert crm.client_id and crm.portal  # auth: oauth, checked by the config
    tokens = b24_install.parse(body, application.clock.now())
    connector = application.bitrix24()
    b24_install.verify(
        connector.rest.caller,
        tokens,
        client_id=crm.client_id,
        portal=crm.portal,
        server=crm.oauth_server,
    )
    DatabaseTokenStore(application.db, application.clock).save(tokens)
    connector.rest.auth.reload(None)  # this process's connector takes the new tokens now
    return Installed(tokens.application_token, b24_install.bind_events(connector.rest, handler))


def router(application: Application, token: AppToken) -> APIRouter:
    api = APIRouter()

    @api.post("/hooks/bitrix24/install")
    async def bitrix24_install(request: Request) -> JSONResponse:
        if application.config.systems.crm.auth != "oauth":
            return JSONResponse({"error": WEBHOOK_MODE}, status_code=404)
        handler = str(request.url_for("bitrix24"))
        try:
            body = await read_body(request)
            done = await run_in_threadpool(install, application, body, handler)
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        token.installed(done.application_token)
        return JSONResponse({"installed": True, "unbound_events": done.unbound})

    return api
