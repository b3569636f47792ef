"""Bitrix24 as crmbridge's CRM (`systems.crm.type: bitrix24`): its settings, how the port is
wired from them, its webhook routes and its checks (see crmbridge.systems)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from crmbridge.clock import Clock
from crmbridge.config.model import InvoiceFlow
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.connector import Bitrix24Connector, connect, connect_app
from crmbridge.connectors.bitrix24.crm import Bitrix24Crm
from crmbridge.connectors.bitrix24.settings import Bitrix24System
from crmbridge.connectors.bitrix24.tokens import DatabaseTokenStore
from crmbridge.connectors.http import ExchangeRecorder
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.errors import ConfigError
from crmbridge.store.database import Database
from crmbridge.systems import CrmSystem, Problems, Report, Wiring

if TYPE_CHECKING:
    from fastapi import APIRouter

    from crmbridge.config.load import LoadedConfig
    from crmbridge.web.hooks import Intake


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
    timeout = httpx.Timeout(crm.timeout, connect=min(10.0, crm.timeout))
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
            timeout=timeout,
        )
    assert crm.webhook_url and crm.application_token
    return connect(
        client,
        crm.webhook_url.get_secret_value(),
        limiter=limiter,
        recorder=recorder,
        application_token=crm.application_token.get_secret_value(),
        clock=clock,
        timeout=timeout,
    )


def port(settings: Bitrix24System, wiring: Wiring) -> Bitrix24Crm:
    connector = bitrix24_connector(
        settings, wiring.client, db=wiring.db, clock=wiring.clock, recorder=wiring.recorder
    )
    flow = wiring.config.flows.issue_invoice or InvoiceFlow()
    return Bitrix24Crm(
        connector, tax_code_kind=wiring.tax_code_kind, attach=flow.attach, pdf_field=flow.pdf_field
    )


def problems(settings: Bitrix24System) -> Problems:
    """The webhook URL's shape (auth: oauth checks its portal address when loading)."""
    if settings.webhook_url is None:
        return []
    try:
        Webhook(settings.webhook_url.get_secret_value())
    except ConfigError as exc:  # its message never repeats the URL: the code is a password
        return [(("webhook_url",), exc.message)]
    return []


def routes(settings: Bitrix24System, intake: Intake) -> APIRouter:
    from crmbridge.connectors.bitrix24 import hooks

    return hooks.router(settings, intake)


def check(loaded: LoadedConfig, report: Report) -> None:
    from crmbridge.readiness.crm import check_portal

    check_portal(loaded, report)


SYSTEM = CrmSystem(
    type="bitrix24",
    title="Bitrix24",
    settings=Bitrix24System,
    connect=port,
    routes=routes,
    problems=problems,
    check=check,
)
