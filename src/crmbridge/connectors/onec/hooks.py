"""BAS's webhook intake: `/hooks/bas`, pushes signed by a BAS extension (connectors/onec/
webhooks.py). A payment pushed asks for the payments poll at once instead of at its next tick."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crmbridge.connectors.base import ChangedEvent, WebhookRejected
from crmbridge.connectors.onec import webhooks
from crmbridge.connectors.onec.settings import BasSystem
from crmbridge.queue.scheduler import poller_job
from crmbridge.store.jobs import NewJob
from crmbridge.web.hooks import Intake, read_body

REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "malformed delivery (not stored)"},
    401: {"description": "missing, forged or stale signature (not stored)"},
    413: {"description": "body over 1 MiB (not stored)"},
}


def bas_jobs(event: ChangedEvent) -> list[NewJob]:
    if event.entity_kind == "payment":  # a push replaces the wait for the next poll
        return [poller_job("poll-payments")]
    return []


def router(settings: BasSystem, intake: Intake) -> APIRouter:
    api = APIRouter(tags=["intake"])
    raw = settings.webhook_secret
    secret = webhooks.WebhookSecret(raw.get_secret_value()) if raw else None

    @api.post("/hooks/bas", responses=REFUSALS)
    async def bas(request: Request) -> JSONResponse:
        try:
            if secret is None:
                raise WebhookRejected("no BAS webhook secret is configured")
            body = await read_body(request)
            events = webhooks.parse(secret, body, request.headers, intake.clock)
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(await intake.accept(events, bas_jobs))

    return api
