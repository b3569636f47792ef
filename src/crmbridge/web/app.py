"""The FastAPI application: intake, health; built from an `Application` (no globals)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crmbridge import __version__
from crmbridge.app import Application
from crmbridge.connectors.onec.webhooks import WebhookSecret
from crmbridge.web.hooks import Intake, router


def create_app(application: Application) -> FastAPI:
    systems = application.config.systems
    secret = systems.bas.webhook_secret
    intake = Intake(
        application.db,
        application.clock,
        systems.crm.application_token.get_secret_value(),
        WebhookSecret(secret.get_secret_value()) if secret else None,
    )
    web = FastAPI(
        title="crmbridge",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    web.include_router(router(intake))

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
