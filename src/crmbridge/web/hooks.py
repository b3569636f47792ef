"""Webhook intake: verify, store the event and its jobs in one commit, then answer 2xx.

A forged or unsigned delivery is refused (401) and nothing is stored; a malformed one gets 400,
an oversized one 413. Parsing uses the systems' pure verification functions, so intake works even
while BAS or the portal is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from crmbridge.clock import Clock
from crmbridge.connectors.base import ChangedEvent, WebhookRejected
from crmbridge.connectors.bitrix24 import events as b24_events
from crmbridge.connectors.onec import webhooks as bas_webhooks
from crmbridge.flows import jobs as flow_jobs
from crmbridge.queue.scheduler import poller_job
from crmbridge.store import inbox
from crmbridge.store.database import Database
from crmbridge.store.group_commit import GroupCommit
from crmbridge.store.jobs import NewJob

MAX_BODY = 1024 * 1024
T = TypeVar("T")


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


@dataclass(frozen=True)
class Intake:
    db: Database
    clock: Clock
    b24_token: AppToken
    bas_secret: bas_webhooks.WebhookSecret | None
    # Concurrent deliveries share one commit (see store/group_commit.py); answered after it.
    committer: GroupCommit = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "committer", GroupCommit(self.db))


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise WebhookRejected("the body is larger than 1 MiB", status=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise WebhookRejected("the body is larger than 1 MiB", status=413)
    return body


async def _accept(
    intake: Intake, events: list[ChangedEvent], jobs_of: Callable[[ChangedEvent], list[NewJob]]
) -> dict[str, Any]:
    now = intake.clock.now()
    pending = [
        intake.committer.submit(
            inbox.Event(
                event.source,
                event.event_id,
                event.event_type,
                event.entity_kind,
                event.entity_id,
                dict(event.payload),
            ),
            jobs_of(event),
            now,
        )
        for event in events
    ]
    accepted, duplicates = 0, 0
    for future in pending:
        result = await asyncio.wrap_future(future)
        duplicates += result.duplicate
        accepted += not result.duplicate
    return {"accepted": accepted, "duplicates": duplicates}


def router(intake: Intake) -> APIRouter:
    api = APIRouter()

    @api.post("/hooks/bitrix24")
    async def bitrix24(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
            events = await _verified(intake, lambda t: b24_events.parse_delivery(body, t))
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(await _accept(intake, events, flow_jobs.jobs_for))

    @api.post("/hooks/bitrix24/actions/{action}")
    async def bitrix24_action(action: str, request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
            event = await _verified(intake, lambda t: _action_event(action, body, t))
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        job = flow_jobs.action_job(action, event.entity_id)
        if job is None:
            return JSONResponse({"error": f"unknown action {action!r}"}, status_code=404)
        return JSONResponse(await _accept(intake, [event], lambda _: [job]))

    @api.post("/hooks/bas")
    async def bas(request: Request) -> JSONResponse:
        try:
            if intake.bas_secret is None:
                raise WebhookRejected("no BAS webhook secret is configured")
            body = await read_body(request)
            events = bas_webhooks.parse(intake.bas_secret, body, request.headers, intake.clock)
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(await _accept(intake, events, bas_jobs))

    return api


async def _verified(intake: Intake, parse: Callable[[str | None], T]) -> T:
    """`parse` with the expected application token; once more with a fresh one if it refused
    the delivery as unauthentic and the token is kept in the database."""
    token = await intake.b24_token.expected()
    try:
        return parse(token)
    except WebhookRejected as exc:
        if exc.status != 401 or not intake.b24_token.reloadable:
            raise
        fresh = await intake.b24_token.expected(fresh=True)
        if fresh == token:
            raise
        return parse(fresh)


def bas_jobs(event: ChangedEvent) -> list[NewJob]:
    if event.entity_kind == "payment":  # a push replaces the wait for the next poll
        return [poller_job("poll-payments")]
    return []


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
