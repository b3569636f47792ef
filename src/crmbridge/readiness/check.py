"""`crmbridge check`: the file, then both systems, every problem as one line.

The file's own checks always run (`config.check`); without `--offline` the check then reaches
both systems with the config's credentials and compares what the config names with what they
have. A system whose address the file already got wrong is not called. Nothing is written to
either system, and nothing to a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from crmbridge.app import bitrix24_connector
from crmbridge.clock import SystemClock
from crmbridge.config.check import check as check_file
from crmbridge.config.load import LoadedConfig
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.scopes import granted_scopes, required_scopes
from crmbridge.connectors.onec import publication
from crmbridge.documents.sources import print_sets
from crmbridge.errors import CrmbridgeError
from crmbridge.readiness import bas, crm
from crmbridge.readiness.findings import Finding, transport
from crmbridge.store.database import Database

# Why crmbridge needs each scope it may ask for: said when one is missing.
SCOPE_USES = {
    "crm": "deals, companies, requisites, products, the timeline",
    "task": "the rep's «ship the order» task",
    "user": "the responsible rep's name",
    "disk": "files on the portal's disk",
}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)  # one line each
    checked: list[str] = field(default_factory=list)  # what answered, for the closing line


def run(
    loaded: LoadedConfig, *, offline: bool, database: Callable[[], Database] | None = None
) -> Report:
    """`database` opens the config's database, where an OAuth application's tokens are (it is
    only read, and only with `auth: oauth`)."""
    static = check_file(loaded)
    report = Report([str(p) for p in static])
    if offline:
        return report
    broken = {p.field.split(".")[1] for p in static if p.field.startswith("systems.")}
    with httpx.Client(follow_redirects=False) as client:
        if "crm" not in broken:
            _crm(loaded, client, report, database)
        if "bas" not in broken:
            _bas(loaded, client, report)
    return report


def _crm(
    loaded: LoadedConfig,
    client: httpx.Client,
    report: Report,
    database: Callable[[], Database] | None,
) -> None:
    system = loaded.config.systems.crm
    if system.auth == "oauth":
        where = system.portal or ""
        tried = f"the method scope at {where} as the application {system.client_id}"
    else:
        assert system.webhook_url is not None
        webhook = Webhook(system.webhook_url.get_secret_value())
        where, tried = webhook.portal, f"the method scope at {webhook!r}"
    try:
        db = database() if system.auth == "oauth" and database is not None else None
        connector = bitrix24_connector(system, client, db=db, clock=SystemClock(), recorder=None)
        granted = granted_scopes(connector.rest)
    except CrmbridgeError as exc:
        host = where.split("://", 1)[-1]
        found = transport("bitrix24", tried, exc, host) or crm.b24_answer(tried, exc)
        report.problems.append(str(found))
        return
    required = {s: SCOPE_USES.get(s, "") for s in sorted(required_scopes())}
    findings = crm.scopes(granted, required, tried)
    report.problems += [str(f) for f in findings]
    if findings:
        return  # the lists below would fail for the same reason
    portal = crm.Portal(connector)
    try:
        located = crm.mapped_fields(loaded, portal) + crm.flow_fields(loaded, portal)
        located += crm.stages(loaded, portal)
    except CrmbridgeError as exc:
        tried = "reading the portal's field lists and deal stages"
        report.problems.append(str(crm.b24_answer(tried, exc)))
        return
    report.problems += [str(p) for p in located]
    report.checked.append(f"Bitrix24 {where} (scopes {', '.join(sorted(granted))})")


def _bas(loaded: LoadedConfig, client: httpx.Client, report: Report) -> None:
    config = loaded.config
    flows = _enabled_flows(loaded)
    invoice = config.flows.issue_invoice
    printed = invoice is not None and invoice.enabled and invoice.pdf == "render"
    extra = print_sets(config.systems.bas.profile) if printed else ()
    needed = publication.needed(flows, extra)
    reached, findings = bas.reach(loaded, client, SystemClock(), needed)
    report.problems += [str(f) for f in findings]
    if reached is None or findings:
        return
    more: list[Finding] = []
    try:
        if {"clients", "issue_invoice"} & set(flows):
            more += bas.organisation(reached, config.systems.bas.organisation)
        if "catalog" in flows or "reconcile" in flows:
            more += bas.price_type(reached, config.systems.bas.price_type)
    except CrmbridgeError as exc:
        tried = "reading the organisations and price types"
        more.append(Finding("bas", tried, exc.message, "see docs/real-systems.md"))
    report.problems += [str(f) for f in more]
    report.problems += [str(p) for p in bas.mapped_fields(loaded, reached.metadata)]
    report.checked.append(f"BAS {reached.odata.root} (profile {config.systems.bas.profile})")


def _enabled_flows(loaded: LoadedConfig) -> list[str]:
    flows = loaded.config.flows
    names = ("clients", "issue_invoice", "payments", "catalog", "reconcile")
    return [n for n in names if (f := getattr(flows, n)) is not None and f.enabled]
