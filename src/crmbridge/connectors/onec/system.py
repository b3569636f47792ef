"""BAS (1C) over OData as crmbridge's accounting system (`systems.bas.type: bas`): its
settings, how the port is wired from them, its webhook route and its checks (see
crmbridge.systems)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from crmbridge.config.model import InvoiceFlow
from crmbridge.connectors.onec import wiring
from crmbridge.connectors.onec.accounting import BasAccounting
from crmbridge.connectors.onec.profile import profile
from crmbridge.connectors.onec.settings import BasSystem
from crmbridge.connectors.ratelimit import bas_limiter
from crmbridge.flows.ports import TaxCodeKind
from crmbridge.systems import AccountingSystem, Problems, Report, Wiring

if TYPE_CHECKING:
    from fastapi import APIRouter

    from crmbridge.config.load import LoadedConfig
    from crmbridge.web.hooks import Intake

ODATA_ROOT = "/odata/standard.odata/"


def bas_settings(system: BasSystem) -> wiring.BasSettings:
    """The connector's settings from the config's `systems.bas`."""
    secret = system.webhook_secret.get_secret_value() if system.webhook_secret else None
    return wiring.BasSettings(
        odata_url=system.odata_url,
        user=system.user,
        password=system.password.get_secret_value(),
        profile=system.profile,
        sessions=system.sessions,
        webhook_secret=secret,
        timeout=httpx.Timeout(system.timeout, connect=10),
    )


def port(settings: BasSystem, wired: Wiring) -> BasAccounting:
    connector = wiring.connect(
        bas_settings(settings),
        wired.client,
        recorder=wired.recorder,
        clock=wired.clock,
        limiter=bas_limiter(sessions=settings.sessions, processes=settings.processes),
    )
    flow = wired.config.flows.issue_invoice or InvoiceFlow()
    return BasAccounting(
        connector,
        organisation=settings.organisation,
        price_type=settings.price_type,
        pdf=flow.pdf,
    )


def tax_code_kind(settings: BasSystem) -> TaxCodeKind:
    return profile(settings.profile).tax_code_kind


def problems(settings: BasSystem) -> Problems:
    """The OData address, as far as it can be judged without calling it."""
    odata = settings.odata_url
    parts = urlsplit(odata)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [(("odata_url",), f"{odata!r} has no scheme: write http://… or https://…")]
    if not parts.path.endswith(ODATA_ROOT):
        root = odata.rstrip("/") + ODATA_ROOT
        message = (
            f"{odata!r} is not the OData root of a publication: it ends with {ODATA_ROOT} "
            f"(here {root})"
        )
        return [(("odata_url",), message)]
    return []


def routes(settings: BasSystem, intake: Intake) -> APIRouter:
    from crmbridge.connectors.onec import hooks

    return hooks.router(settings, intake)


def check(loaded: LoadedConfig, report: Report) -> None:
    from crmbridge.readiness.bas import check_infobase

    check_infobase(loaded, report)


SYSTEM = AccountingSystem(
    type="bas",
    title="BAS",
    settings=BasSystem,
    connect=port,
    routes=routes,
    tax_code_kind=tax_code_kind,
    problems=problems,
    check=check,
)
