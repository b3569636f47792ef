"""What a portal admin does in the UI, as control endpoints (mounted at `/sandbox/bitrix24`).

- `POST /webhooks {"user": 1, "scopes": ["crm"]}` → 201 `{"url": ".../rest/1/<code>/", …}`:
  Applications → Developer resources → Other → Inbound webhook.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.sandbox.bitrix24.sandbox import Bitrix24Sandbox


class WebhookRequest(BaseModel):
    user: int = Field(default=1, ge=1)
    scopes: list[str]


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

    return [Route("/webhooks", webhooks, methods=["POST"])]
