"""The FastAPI application: intake, health, the management API and the dashboard; built from an
`Application` (no globals)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from crmbridge import __version__, systems
from crmbridge.app import Application
from crmbridge.errors import ConfigError
from crmbridge.web import api, dashboard
from crmbridge.web.auth import Auth, AuthGate
from crmbridge.web.hooks import Intake
from crmbridge.web.metrics import metrics_router

NO_CREDENTIALS = (
    "the dashboard and /api need credentials: set web.token or web.users in the config "
    "(from the environment, e.g. token: ${CRMBRIDGE_WEB_TOKEN}), or serve with --no-auth "
    "on a loopback host"
)


def create_app(application: Application, *, auth: bool = True) -> FastAPI:
    """The web app. `auth=False` (serve --no-auth) opens the dashboard and /api to anyone who
    can reach the port; the caller makes sure that is only this machine."""
    settings = application.config.web
    if auth and not settings.configured:
        raise ConfigError(NO_CREDENTIALS)
    intake = Intake(application)
    web = FastAPI(
        title="crmbridge",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    for side, section in systems.configured(application.config):
        system = systems.of(side, section.type)
        web.include_router(system.routes(section, intake))  # its webhook intake
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
