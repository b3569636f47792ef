"""What a portal admin does in the UI, as control endpoints (mounted at `/sandbox/bitrix24`).

- `POST /webhooks {"user": 1, "scopes": ["crm"]}` → 201 `{"url": ".../rest/1/<code>/", …}`:
  Applications → Developer resources → Other → Inbound webhook.
- `POST /apps {"scopes": [...], "handler": "https://…/install", "redirect_uri": ""}` → 201
  `{"client_id", "client_secret", …}`: the same menu → Local application, "uses only API".
- `POST /apps/{client_id}/install` → `{"delivered": <the handler's HTTP status or null>}`: the
  admin's "Install", which posts ONAPPINSTALL to the handler.
- `POST /tokens/expire` → every access token expired, as if an hour had passed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.sandbox.bitrix24.sandbox import Bitrix24Sandbox


class WebhookRequest(BaseModel):
    user: int = Field(default=1, ge=1)
    scopes: list[str]


class AppRequest(BaseModel):
    scopes: list[str]
    handler: str = ""
    redirect_uri: str = ""


def invalid(exc: ValidationError | ValueError, what: str) -> JSONResponse:
    if isinstance(exc, ValidationError):
        details: Any = [
            {"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in exc.errors()
        ]
    else:
        details = str(exc)
    return JSONResponse({"error": f"invalid {what}", "details": details}, status_code=400)


def routes(sandbox: Bitrix24Sandbox) -> list[Route]:
    async def webhooks(request: Request) -> Response:
        try:
            wanted = WebhookRequest.model_validate_json(await request.body())
            url = sandbox.create_webhook(wanted.user, wanted.scopes)
        except (ValidationError, ValueError) as exc:
            return invalid(exc, "webhook")
        body = {"url": url, "user": wanted.user, "scopes": sorted(set(wanted.scopes))}
        return JSONResponse(body, status_code=201)

    async def register(request: Request) -> Response:
        try:
            wanted = AppRequest.model_validate_json(await request.body())
            app = sandbox.apps.register(
                scopes=wanted.scopes, handler=wanted.handler, redirect_uri=wanted.redirect_uri
            )
        except (ValidationError, ValueError) as exc:
            return invalid(exc, "application")
        body = {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scopes": sorted(app.scopes),
            "handler": app.handler,
        }
        return JSONResponse(body, status_code=201)

    async def install(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        try:
            done = await run_in_threadpool(sandbox.install_app, client_id)
        except KeyError:
            return JSONResponse({"error": f"no application {client_id}"}, status_code=404)
        return JSONResponse({"client_id": client_id, "delivered": done.delivered})

    async def expire(request: Request) -> Response:
        sandbox.oauth.expire_access_tokens()
        return JSONResponse({"expired": True})

    return [
        Route("/webhooks", webhooks, methods=["POST"]),
        Route("/apps", register, methods=["POST"]),
        Route("/apps/{client_id}/install", install, methods=["POST"]),
        Route("/tokens/expire", expire, methods=["POST"]),
    ]
