"""The FastAPI application: intake, health, the management API and the dashboard; built from an
`Application` (no globals)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from crmbridge import __version__
from crmbridge.app import Application
from crmbridge.connectors.onec.webhooks import WebhookSecret
from crmbridge.errors import ConfigError
from crmbridge.web import api, dashboard, install
from crmbridge.web.auth import Auth, AuthGate
from crmbridge.web.hooks import AppToken, Intake, router
from crmbridge.web.metrics import metrics_router

NO_CREDENTIALS = (
    "the dashboard and /api need credentials: set web.token or web.users in the config "
    "(from the environment, e.g. token: ${CRMBRIDGE_WEB_TOKEN}), or serve with --no-auth "
    "on a loopback host"
)


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed delivery (not stored)"},
    401: {"description": "missing or forged application token or signature (not stored)"},
    404: {"description": "unknown action"},
    413: {"description": "body over 1 MiB (not stored)"},
}
_INSTALL_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "not an ONAPPINSTALL delivery (nothing stored)"},
    403: {"description": "forged: another portal, application or token (nothing stored)"},
    404: {"description": "systems.crm.auth is webhook: nothing to install"},
    503: {"description": "the authorization server cannot be asked now (nothing stored)"},
}


def create_app(application: Application, *, auth: bool = True) -> FastAPI:
    """The web app. `auth=False` (serve --no-auth) opens the dashboard and /api to anyone who
    can reach the port; the caller makes sure that is only this machine."""
    settings = application.config.web
    if auth and not settings.configured:
        raise ConfigError(NO_CREDENTIALS)
    systems = application.config.systems
    secret = systems.bas.webhook_secret
    intake = Intake(
        application.db,
        application.clock,
        _bitrix24_token(application),
        WebhookSecret(secret.get_secret_value()) if secret else None,
    )
    web = FastAPI(
        title="crmbridge",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    web.include_router(router(intake), tags=["intake"], responses=_REFUSALS)
    web.include_router(
        install.router(application, intake.b24_token), tags=["intake"], responses=_INSTALL_REFUSALS
    )
    web.include_router(api.router(application))
    web.include_router(metrics_router(application.metrics))  # behind the API token (AuthGate)
    gate = Auth(settings, enabled=auth)
    pages = dashboard.Pages(application, gate, dashboard.templates())
    web.include_router(dashboard.router(pages))
    web.mount("/static", StaticFiles(directory=dashboard.HERE / "static"), name="static")
    web.add_middleware(AuthGate, auth=gate, login_page=pages.login_page)

    @web.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @web.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            with application.db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure as not ready
            return JSONResponse(
                {"status": "database unavailable", "error": type(exc).__name__}, 503
            )
        return JSONResponse({"status": "ready"})

    return web


def _bitrix24_token(application: Application) -> AppToken:
    """What Bitrix24 deliveries must carry: the configured outgoing webhook's application token,
    or (auth: oauth) the installed application's."""
    crm = application.config.systems.crm
    if crm.auth == "oauth":
        return install.stored_app_token(application)
    return AppToken(crm.application_token.get_secret_value() if crm.application_token else None)
