"""Builds a `BasConnector` from plain settings: the one place its parts are put together.

The application passes the shared `httpx.Client`, the exchange recorder and the clock; the BAS
limiter is a concurrency cap (1C serves a few sessions at once, it has no request rate). A
maintenance lock-out pauses that limiter too: nothing is sent to BAS until the pause is over,
and the job is retried after it (`Throttled`, a `Retryable`), so downtime only delays work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from crmbridge.clock import Clock
from crmbridge.connectors.http import ExchangeRecorder, HttpCaller, Throttle, throttled_by_status
from crmbridge.connectors.onec.auth import Utf8BasicAuth
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.connector import BasConnector, Options
from crmbridge.connectors.onec.errors import MAINTENANCE_MARKERS, describe
from crmbridge.connectors.onec.webhooks import WebhookSecret
from crmbridge.connectors.ratelimit import Limiter, bas_limiter
from crmbridge.connectors.redact import Redactor, basic_auth_secrets


@dataclass(frozen=True)
class BasSettings:
    odata_url: str  # http://host/base/odata/standard.odata/
    user: str
    password: str = field(repr=False)
    profile: str = "bas-buh"
    sessions: int = 4  # concurrent requests to this infobase, from all processes together
    processes: int = 1
    webhook_secret: str | None = field(default=None, repr=False)
    maintenance_pause: float = 30.0
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(120, connect=10))
    page_size: int = 100
    lag: timedelta = timedelta(days=3)


def maintenance_throttle(pause: float) -> Throttle:
    """429/503 as for any system; a 403 or 503 whose body is 1C's lock-out pauses `pause`."""

    def throttle(response: httpx.Response) -> float | None:
        delay = throttled_by_status(response)
        if delay is None and response.status_code in (403, 503):
            text = describe(response.content).text.casefold()
            if any(marker.casefold() in text for marker in MAINTENANCE_MARKERS):
                return pause
        return delay

    return throttle


def odata_client(
    settings: BasSettings,
    client: httpx.Client,
    *,
    recorder: ExchangeRecorder | None,
    clock: Clock,
    limiter: Limiter | None = None,
    throttle: Throttle | None = None,
) -> ODataClient:
    """The OData client of one infobase account (no request yet). `throttle` defaults to the
    maintenance pause; `crmbridge check` passes one that never pauses, to report a lock-out."""
    secrets = basic_auth_secrets(settings.user, settings.password)
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret)
    caller = HttpCaller(
        client,
        system="bas",
        limiter=limiter or bas_limiter(sessions=settings.sessions, processes=settings.processes),
        recorder=recorder,
        redactor=Redactor(secrets),
        timeout=settings.timeout,
        throttle=throttle or maintenance_throttle(settings.maintenance_pause),
        clock=clock,
    )
    return ODataClient(caller, settings.odata_url, Utf8BasicAuth(settings.user, settings.password))


def connect(
    settings: BasSettings,
    client: httpx.Client,
    *,
    recorder: ExchangeRecorder | None,
    clock: Clock,
    limiter: Limiter | None = None,
) -> BasConnector:
    """Reads `$metadata` (one request) and checks the profile against it."""
    odata = odata_client(settings, client, recorder=recorder, clock=clock, limiter=limiter)
    secret = WebhookSecret(settings.webhook_secret) if settings.webhook_secret else None
    options = Options(page_size=settings.page_size, lag=settings.lag)
    return BasConnector.start(
        odata, settings.profile, clock, webhook_secret=secret, options=options
    )
