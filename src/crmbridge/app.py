"""Wiring: one function turns a loaded config into the running parts (procrastinate's App).

Nothing here runs at import; `Application` holds the shared httpx client, the connectors (built
on first use, since BAS's $metadata is read when its connector starts) and the flow handlers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from crmbridge.clock import Clock, SystemClock
from crmbridge.config.model import BasSystem, Bitrix24System, Config, InvoiceFlow
from crmbridge.connectors.bitrix24 import (
    Bitrix24Connector,
    DatabaseTokenStore,
    connect,
    connect_app,
)
from crmbridge.connectors.bitrix24.crm import Bitrix24Crm
from crmbridge.connectors.http import ExchangeRecorder, JournalRecorder
from crmbridge.connectors.onec import wiring as bas
from crmbridge.connectors.onec.accounting import BasAccounting
from crmbridge.connectors.ratelimit import bas_limiter, bitrix24_limiter
from crmbridge.errors import ConfigError
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
    _crm: Bitrix24Connector | None = None
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

    def bitrix24(self) -> Bitrix24Connector:
        """The CRM connector alone (the install route needs it without BAS's)."""
        with self._lock:
            return self._bitrix24()

    def _bitrix24(self) -> Bitrix24Connector:
        if self._crm is None:
            self._crm = self._connect_bitrix24(self.config.systems.crm)
        return self._crm

    def _connect_bitrix24(self, crm: Bitrix24System) -> Bitrix24Connector:
        recorder = JournalRecorder(self.db, self.metrics)
        return bitrix24_connector(crm, self.client, db=self.db, clock=self.clock, recorder=recorder)

    def _build_context(self) -> FlowContext:
        systems = self.config.systems
        recorder = JournalRecorder(self.db, self.metrics)
        connector = bas.connect(
            bas_settings(systems.bas),
            self.client,
            recorder=recorder,
            clock=self.clock,
            limiter=bas_limiter(sessions=systems.bas.sessions),
        )
        invoice_flow = self.config.flows.issue_invoice or InvoiceFlow()
        accounting = BasAccounting(
            connector,
            organisation=systems.bas.organisation,
            price_type=systems.bas.price_type,
            pdf=invoice_flow.pdf,
        )
        crm = Bitrix24Crm(
            self._bitrix24(),
            tax_code_kind=accounting.tax_code_kind,
            attach=invoice_flow.attach,
            pdf_field=invoice_flow.pdf_field,
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


def bitrix24_connector(
    crm: Bitrix24System,
    client: httpx.Client,
    *,
    db: Database | None,
    clock: Clock,
    recorder: ExchangeRecorder | None,
) -> Bitrix24Connector:
    """The portal's connector for either way in: the inbound webhook, or the OAuth application
    whose tokens the install route stored in `db` (`crmbridge check` passes no recorder)."""
    limiter = bitrix24_limiter(rate=crm.rate, burst=crm.burst, processes=crm.processes)
    if crm.auth == "oauth":
        assert crm.client_id and crm.client_secret  # the config's validator saw to it
        if db is None:
            raise ConfigError("auth: oauth keeps the application's tokens in the database")
        return connect_app(
            client,
            client_id=crm.client_id,
            client_secret=crm.client_secret.get_secret_value(),
            store=DatabaseTokenStore(db, clock),
            limiter=limiter,
            recorder=recorder,
            oauth_server=crm.oauth_server,
            portal=crm.portal,
            clock=clock,
        )
    assert crm.webhook_url and crm.application_token
    return connect(
        client,
        crm.webhook_url.get_secret_value(),
        limiter=limiter,
        recorder=recorder,
        application_token=crm.application_token.get_secret_value(),
        clock=clock,
    )


def bas_settings(system: BasSystem) -> bas.BasSettings:
    """The connector's settings from the config's `systems.bas`."""
    secret = system.webhook_secret.get_secret_value() if system.webhook_secret else None
    return bas.BasSettings(
        odata_url=system.odata_url,
        user=system.user,
        password=system.password.get_secret_value(),
        profile=system.profile,
        sessions=system.sessions,
        webhook_secret=secret,
        timeout=httpx.Timeout(system.timeout, connect=10),
    )
