"""Wiring: one function turns a loaded config into the running parts (procrastinate's App).

Nothing here runs at import; `Application` holds the shared httpx client, the two ports (built
on first use by the systems the config's `type`s name, crmbridge.systems: BAS reads its
`$metadata` when its port is built) and the flow handlers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from crmbridge import plugins, systems
from crmbridge.clock import Clock, SystemClock
from crmbridge.config.model import Config
from crmbridge.connectors.base import ChangedEvent
from crmbridge.connectors.http import JournalRecorder
from crmbridge.flows import jobs
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Crm, TaxCodeKind
from crmbridge.flows.rules import Rules, compile_rules
from crmbridge.metrics import Metrics
from crmbridge.queue.handlers import builtin_handlers
from crmbridge.queue.worker import Handler
from crmbridge.store.database import Database
from crmbridge.store.jobs import NewJob


@dataclass
class Application:
    config: Config
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    rules: Rules | None = None
    metrics: Metrics = field(default_factory=Metrics)  # this process's registry (/metrics)
    _client: httpx.Client | None = None
    _crm: Crm | None = None
    _context: FlowContext | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    plugins: list[plugins.Loaded] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.rules = self.rules or compile_rules(self.config)
        self.plugins = plugins.load(self.config.plugins)
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

    def crm(self) -> Crm:
        """The CRM's port alone (an install route needs it before BAS answers)."""
        with self._lock:
            return self._crm_port()

    def wiring(self, tax_code_kind: TaxCodeKind = "edrpou") -> systems.Wiring:
        recorder = JournalRecorder(self.db, self.metrics)
        config, client, db, clock = self.config, self.client, self.db, self.clock
        return systems.Wiring(config, client, db, clock, recorder, tax_code_kind)

    def _crm_port(self) -> Crm:
        if self._crm is None:
            settings = self.config.systems.crm
            accounting = systems.accounting(self.config.systems.bas.type)
            kind = accounting.tax_code_kind(self.config.systems.bas)
            self._crm = systems.crm(settings.type).connect(settings, self.wiring(kind))
        return self._crm

    def _build_context(self) -> FlowContext:
        settings = self.config.systems.bas
        accounting = systems.accounting(settings.type).connect(settings, self.wiring())
        assert self.rules is not None
        crm = self._crm_port()
        return FlowContext(crm, accounting, self.db, self.clock, self.config, self.rules)

    def handlers(self) -> dict[str, Handler]:
        handlers = builtin_handlers()
        handlers.update(jobs.handlers(self.context))
        return plugins.merged(handlers, plugins.handlers(self.plugins, self.context))

    def jobs_for(self, event: ChangedEvent) -> list[NewJob]:
        """The jobs a CRM event makes: the built-in flows' and the plugins' that follow it."""
        return jobs.jobs_for(event) + plugins.jobs_for(self.plugins, event)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
