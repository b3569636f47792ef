"""The Bitrix24 half of `crmbridge check`: the portal answers to these credentials with the scopes
crmbridge calls, and the fields and stages the config names exist on it.

The first call is `scope` (every auth may make it, and it answers with what this auth was
granted); the portal's own lists then settle the rest: `crm.<entity>.fields` for the fields a
mapping reads or writes, `crm.status.list` for the stages a flow moves deals to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from crmbridge.clock import SystemClock
from crmbridge.config.load import LoadedConfig
from crmbridge.config.locate import Located
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
from crmbridge.connectors.bitrix24.scopes import granted_scopes, required_scopes
from crmbridge.connectors.bitrix24.settings import Bitrix24System
from crmbridge.connectors.bitrix24.system import bitrix24_connector
from crmbridge.errors import CrmbridgeError
from crmbridge.readiness import mappings
from crmbridge.readiness.findings import Finding, transport
from crmbridge.systems import Report

# Why crmbridge needs each scope it may ask for: said when one is missing.
SCOPE_USES = {
    "crm": "deals, companies, requisites, products, the timeline",
    "task": "the rep's «ship the order» task",
    "user": "the responsible rep's name",
    "disk": "files on the portal's disk",
}

# Expression inputs that are CRM records, and the entity whose field list describes them.
CRM_INPUTS = {"company": "company", "requisite": "requisite", "deal": "deal"}
# Business entities a mapping writes into the CRM.
CRM_TARGETS = {"deal": "deal", "product": "product"}
_FUNNEL = re.compile(r"^C(\d+):")
# What a portal answers to credentials it does not know: NO_AUTH_FOUND in the docs' list;
# b24pysdk's run against a real portal met INVALID_CREDENTIALS for a wrong webhook too.
UNKNOWN_CREDENTIALS = ("NO_AUTH_FOUND", "INVALID_CREDENTIALS", "invalid_token")


class Portal:
    """What the check read from the portal, each list once."""

    def __init__(self, crm: Bitrix24Connector) -> None:
        self.crm = crm
        self._fields: dict[str, set[str]] = {}

    def fields(self, entity: str) -> set[str]:
        if entity not in self._fields:
            described = self.crm.rest.result(f"crm.{entity}.fields") or {}
            self._fields[entity] = set(described)
        return self._fields[entity]

    def stages(self, funnel: int) -> dict[str, str]:
        """Stage id → name of a deal funnel (0 is the default one)."""
        entity = "DEAL_STAGE" if funnel == 0 else f"DEAL_STAGE_{funnel}"
        found = self.crm.rest.result("crm.status.list", {"filter": {"ENTITY_ID": entity}}) or []
        return {str(s["STATUS_ID"]): str(s.get("NAME") or "") for s in found}


def mapped_fields(loaded: LoadedConfig, portal: Portal) -> list[Located]:
    """Fields a mapping writes into the CRM, or reads from a CRM record, that the portal lacks."""
    problems = []
    for where, mapping, field, source in mappings.expressions(loaded):
        entity = CRM_TARGETS.get(mapping.entity) if mapping.target == "crm" else None
        if entity is not None and field is not None and field not in portal.fields(entity):
            message = f"the portal has no {entity} field {field} (crm.{entity}.fields)"
            problems.append(loaded.at(where, message))
        for variable, read, of in mappings.reads(source, CRM_INPUTS):
            if read not in portal.fields(of):
                message = (
                    f"reads {variable}.{read}, which the portal's {of} records do not have "
                    f"(crm.{of}.fields)"
                )
                problems.append(loaded.at(where, message))
    return problems


def flow_fields(loaded: LoadedConfig, portal: Portal) -> list[Located]:
    """The deal file field the invoice flow attaches the PDF to, when it attaches to a field."""
    invoice = loaded.config.flows.issue_invoice
    if invoice is None or not invoice.enabled or "field" not in invoice.attach:
        return []
    if invoice.pdf_field in portal.fields("deal"):
        return []
    message = f"the portal has no deal field {invoice.pdf_field} (crm.deal.fields)"
    return [loaded.at(("flows", "issue_invoice", "pdf_field"), message)]


def stages(loaded: LoadedConfig, portal: Portal) -> list[Located]:
    """Stage ids the flows move deals to or react to, checked against their funnel."""
    flows, wanted = loaded.config.flows, {}
    if flows.issue_invoice is not None and flows.issue_invoice.enabled:
        wanted[("flows", "issue_invoice", "invoice_stage")] = flows.issue_invoice.invoice_stage
    if flows.payments is not None and flows.payments.enabled:
        wanted[("flows", "payments", "paid_stage")] = flows.payments.paid_stage
    problems = []
    for where, stage in wanted.items():
        found = _FUNNEL.match(stage)
        funnel = int(found[1]) if found else 0
        known = portal.stages(funnel)
        if stage not in known:
            listed = ", ".join(f"{k} «{v}»" for k, v in known.items()) or "no stages: no funnel"
            message = f"the deal funnel {funnel} has no stage {stage!r} (it has: {listed})"
            problems.append(loaded.at(where, message))
    return problems


def scopes(granted: set[str], required: Mapping[str, str], tried: str) -> list[Finding]:
    """A finding naming the scopes crmbridge calls that this auth was not granted."""
    missing = [s for s in required if s not in granted]
    if not missing:
        return []
    why = "; ".join(f"{s}: {required[s]}" for s in missing)
    problem = f"not granted the scope(s) {', '.join(missing)} ({why})"
    fix = "edit the inbound webhook (or the application) and tick them, then check again"
    return [Finding("bitrix24", tried, problem, fix)]


def b24_answer(tried: str, exc: CrmbridgeError) -> Finding:
    """What the portal's refusal of the first call means."""
    text = exc.message
    refused = [code for code in UNKNOWN_CREDENTIALS if code in text]
    if refused:
        fix = (
            "copy the URL of the inbound webhook again (Applications → Developer resources → "
            "Other → Inbound webhook) into systems.crm.webhook_url: its user id or code is "
            "wrong, or the webhook was deleted"
        )
        code = next(
            c for c in ("NO_AUTH_FOUND", "INVALID_CREDENTIALS", "invalid_token") if c in text
        )
        return Finding("bitrix24", tried, f"401 {code}: the portal does not know it", fix)
    if "insufficient_scope" in text:
        fix = "edit the inbound webhook (or the application) and tick the scopes crmbridge needs"
        return Finding("bitrix24", tried, "insufficient_scope", fix)
    return Finding("bitrix24", tried, " ".join(text.split())[:160], "see docs/real-systems.md")


def check_portal(loaded: LoadedConfig, report: Report) -> None:
    """The Bitrix24 half of `crmbridge check`: signed in, the scopes, then the fields, funnels
    and stages the config names."""
    system = loaded.config.systems.crm
    assert isinstance(system, Bitrix24System) and report.client is not None
    client, database = report.client, report.database
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
        found = transport("bitrix24", tried, exc, host) or b24_answer(tried, exc)
        report.problems.append(str(found))
        return
    required = {s: SCOPE_USES.get(s, "") for s in sorted(required_scopes())}
    findings = scopes(granted, required, tried)
    report.problems += [str(f) for f in findings]
    if findings:
        return  # the lists below would fail for the same reason
    portal = Portal(connector)
    try:
        located = mapped_fields(loaded, portal) + flow_fields(loaded, portal)
        located += stages(loaded, portal)
    except CrmbridgeError as exc:
        tried = "reading the portal's field lists and deal stages"
        report.problems.append(str(b24_answer(tried, exc)))
        return
    report.problems += [str(p) for p in located]
    report.checked.append(f"Bitrix24 {where} (scopes {', '.join(sorted(granted))})")
