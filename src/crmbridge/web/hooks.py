"""Webhook intake, the part every system shares: read the body (at most 1 MiB), store the
verified events and their jobs in one commit, then answer 2xx.

Each system's routes (its package's `hooks.py`, mounted through crmbridge.systems) verify and
parse its deliveries with the system's pure functions, so intake works even while the system is
down, and hand the events to `Intake.accept`. A forged or unsigned delivery is refused (401) and
nothing is stored; a malformed one gets 400, an oversized one 413.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from crmbridge.clock import Clock
from crmbridge.connectors.base import ChangedEvent, WebhookRejected
from crmbridge.store import inbox
from crmbridge.store.database import Database
from crmbridge.store.group_commit import GroupCommit
from crmbridge.store.jobs import NewJob

if TYPE_CHECKING:
    from crmbridge.app import Application

MAX_BODY = 1024 * 1024
JobsOf = Callable[[ChangedEvent], list[NewJob]]


@dataclass(frozen=True)
class Intake:
    application: Application
    # Concurrent deliveries share one commit (see store/group_commit.py); answered after it.
    committer: GroupCommit = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "committer", GroupCommit(self.db))

    @property
    def db(self) -> Database:
        return self.application.db

    @property
    def clock(self) -> Clock:
        return self.application.clock

    async def accept(
        self, events: list[ChangedEvent], jobs_of: JobsOf | None = None
    ) -> dict[str, Any]:
        """Store the events (a repeated delivery is a duplicate) with the jobs they cause (by
        default the flows' and plugins' that follow them)."""
        jobs_of = jobs_of or self.application.jobs_for
        now = self.clock.now()
        pending = [
            self.committer.submit(
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
