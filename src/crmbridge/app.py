"""Wiring: one function turns a loaded config into the running parts (procrastinate's App).

Nothing here runs at import; `Application` holds the shared httpx client, the connectors (built
on first use, since BAS's $metadata is read when its connector starts) and the flow handlers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from crmbridge.clock import Clock, SystemClock
from crmbridge.config.model import Config
from crmbridge.connectors.bitrix24 import connector as bitrix24
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.onec import wiring as bas
from crmbridge.connectors.ratelimit import bas_limiter, bitrix24_limiter
from crmbridge.flows import jobs
from crmbridge.flows.context import FlowContext
from crmbridge.flows.rules import Rules, compile_rules
from crmbridge.metrics import Metrics
from crmbridge.queue.handlers import builtin_handlers
from crmbridge.queue.worker import Handler
from crmbridge.store.database import Database


@dataclass
class Application:
    config: Config
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    rules: Rules | None = None
    metrics: Metrics = field(default_factory=Metrics)  # this process's registry (/metrics)
    _client: httpx.Client | None = None
    _context: FlowContext | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rules = self.rules or compile_rules(self.config)
        self.metrics.watch(self.db, self.clock)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
            self._client = httpx.Client(limits=limits, follow_redirects=False)
        return self._client

    def context(self) -> FlowContext:
        with self._lock:
            if self._context is None:
                self._context = self._build_context()
            return self._context

    def _build_context(self) -> FlowContext:
        systems = self.config.systems
        recorder = JournalRecorder(self.db, self.metrics)
        crm = bitrix24.connect(
            self.client,
            systems.crm.webhook_url.get_secret_value(),
            limiter=bitrix24_limiter(
                rate=systems.crm.rate, burst=systems.crm.burst, processes=systems.crm.processes
            ),
            recorder=recorder,
            application_token=systems.crm.application_token.get_secret_value(),
            clock=self.clock,
        )
        accounting = bas.connect(
            bas.BasSettings(
                odata_url=systems.bas.odata_url,
                user=systems.bas.user,
                password=systems.bas.password.get_secret_value(),
                profile=systems.bas.profile,
                sessions=systems.bas.sessions,
                webhook_secret=(
                    systems.bas.webhook_secret.get_secret_value()
                    if systems.bas.webhook_secret
                    else None
                ),
                timeout=httpx.Timeout(systems.bas.timeout, connect=10),
            ),
            self.client,
            recorder=recorder,
            clock=self.clock,
            limiter=bas_limiter(sessions=systems.bas.sessions),
        )
        assert self.rules is not None
        return FlowContext(crm, accounting, self.db, self.clock, self.config, self.rules)

    def handlers(self) -> dict[str, Handler]:
        handlers = builtin_handlers()
        handlers.update(jobs.handlers(self.context))
        return handlers

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
