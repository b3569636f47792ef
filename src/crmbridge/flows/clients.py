"""Clients CRM → BAS: a CRM company with its requisites becomes (or updates) a BAS counterparty.

Matched by tax code (ЄДРПОУ for a legal entity, РНОКПП for a ФОП; ИНН in 1С:БП 3.0), never
duplicated: a link is looked up first, then the tax code, and a counterparty crmbridge creates gets
a Ref_Key derived from the CRM id, so a retry after a crash finds it instead of making another.
Where a head and its branch share a code, the head is the match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import objects
from crmbridge.errors import Permanent
from crmbridge.flows.context import FlowContext, ref_for
from crmbridge.taxcodes import tax_code_problem

FLOW = "clients"


@dataclass(frozen=True)
class Client:
    company: Record
    requisite: Record
    tax_code: str

    @property
    def company_id(self) -> str:
        return str(self.company["ID"])

    @property
    def is_person(self) -> bool:  # a ФОП: identified by a 10-digit РНОКПП
        return len(self.tax_code) == 10


def client_of(ctx: FlowContext, company: Record, requisites: list[Record]) -> Client:
    """The company with the requisite that carries its tax code; Permanent if it has none."""
    entity = ("company", str(company["ID"]))
    field = tax_field(ctx.config.systems.bas.profile)
    found = tax_requisite(requisites, ctx.config.systems.bas.profile)
    if found is not None:
        requisite, code = found
        _check_code(ctx, code, field, entity)
        return Client(company, requisite, code)
    raise Permanent(
        f"company {company['ID']} «{company.get('TITLE', '')}» has no {field} in its requisites: "
        "fill it in the CRM, then replay"
    )


def tax_field(profile: str) -> str:
    return "RQ_INN" if profile == "bp30" else "RQ_EDRPOU"


def tax_requisite(requisites: Iterable[Record], profile: str) -> tuple[Record, str] | None:
    """The first requisite carrying a tax code, and the code (reconciliation uses it too)."""
    field = tax_field(profile)
    for requisite in requisites:
        code = str(requisite.get(field) or requisite.get("RQ_DRFO") or "").strip()
        if code:
            return requisite, code
    return None


def _check_code(ctx: FlowContext, code: str, field: str, entity: tuple[str, str]) -> None:
    """Refuse a code that cannot be right (length, digits, check digit): a typo would make a
    counterparty that no bank statement or import ever matches."""
    problem = tax_code_problem(code, ctx.config.systems.bas.profile)
    inputs = {"field": field, "code": code}
    ctx.decide(FLOW, "tax code", inputs, problem or "valid", entity=entity, matched=not problem)
    if problem:
        raise Permanent(
            f"{field} of company {entity[1]}: {problem}; correct it in the CRM, then replay"
        )


def ensure_counterparty(
    ctx: FlowContext, client: Client, *, deal_total: Decimal | None = None
) -> str | None:
    """The counterparty's Ref_Key (found, created or updated), or None when a rule says skip."""
    entity = ("company", client.company_id)
    inputs = _inputs(client, deal_total)
    if not _allowed(ctx, inputs, entity):
        return None
    values = ctx.rules.values(ctx.rules.mapping(ctx.config.flows.mapping_of("clients")), inputs)
    linked = ctx.bas_ref("client", client.company_id)
    if linked and ctx.bas.get("counterparty", linked) is not None:
        _update(ctx, linked, values, entity)
        return linked
    found = objects.find_counterparty(ctx.bas, client.tax_code)
    heads = [r for r in found if not r.get("ОбособленноеПодразделение")] or found
    if heads:
        ref = str(heads[0]["Ref_Key"])
        ctx.decide(FLOW, "match by tax code", {"tax_code": client.tax_code}, ref, entity=entity)
        _update(ctx, ref, values, entity)
    else:
        ref = _create(ctx, client, values, entity)
    ctx.link("client", client.company_id, ref)
    return ref


def _inputs(client: Client, deal_total: Decimal | None) -> dict[str, Any]:
    return {
        "company": client.company,
        "requisite": client.requisite,
        "deal_total": deal_total if deal_total is not None else Decimal(0),
    }


def _allowed(ctx: FlowContext, inputs: dict[str, Any], entity: tuple[str, str]) -> bool:
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("clients"))
    conditions = [mapping.when, ctx.rules.conditions.get(FLOW)]
    for condition in (c for c in conditions if c is not None):
        result = bool(ctx.rules.evaluate(condition, inputs))
        shown = {"deal_total": inputs["deal_total"], "company": inputs["company"].get("TITLE")}
        ctx.decide(FLOW, condition.source, shown, result, entity=entity, matched=result)
        if not result:
            return False
    return True


def _create(
    ctx: FlowContext, client: Client, values: dict[str, Any], entity: tuple[str, str]
) -> str:
    fields = dict(values)
    name = str(fields.pop("Description", client.company.get("TITLE", "")))
    fields.pop(ctx.bas.profile.tax_code_field, None)
    if client.is_person:
        fields["ЮридическоеФизическоеЛицо"] = "ФизическоеЛицо"
    ref = objects.create_counterparty(
        ctx.bas, name, client.tax_code, ref=ref_for("client", client.company_id), **fields
    )
    ctx.decide(FLOW, "create counterparty", {"tax_code": client.tax_code}, ref, entity=entity)
    flow = ctx.config.flows.clients
    if flow is None or flow.contract:
        ensure_contract(ctx, ref)
    return ref


def _update(ctx: FlowContext, ref: str, values: dict[str, Any], entity: tuple[str, str]) -> None:
    """The CRM owns client data: BAS's mirror gets the CRM's values where they differ."""
    current = ctx.bas.get("counterparty", ref) or {}
    stale = {k: v for k, v in values.items() if current.get(k) != v and v not in (None, "")}
    if stale:
        ctx.guard("client", "crm", list(stale))
        ctx.decide(FLOW, "update counterparty", {"changed": sorted(stale)}, ref, entity=entity)
        ctx.bas.put("counterparty", stale, key=ref)


def ensure_contract(ctx: FlowContext, counterparty: str) -> str:
    """The counterparty's sales contract: its main one if BAS has any, else one we create."""
    contracts = list(ctx.bas.iterate("contract", {"Owner_Key": counterparty}))
    usable = [c for c in contracts if not c.get("DeletionMark")]
    if usable:
        return str(usable[0]["Ref_Key"])
    return objects.create_contract(
        ctx.bas,
        counterparty,
        organisation(ctx),
        currency(ctx),
        name="Основний договір",
        ref=ref_for("contract", counterparty),
    )


def organisation(ctx: FlowContext) -> str:
    wanted = ctx.config.systems.bas.organisation

    def load() -> str:
        found = [o for o in ctx.bas.iterate("organisation") if not o.get("DeletionMark")]
        if wanted:
            found = [o for o in found if wanted in (o.get("КодПоЕДРПОУ"), o.get("ИНН"))]
        if len(found) != 1:
            raise Permanent(
                "BAS has several organisations: set systems.bas.organisation to our ЄДРПОУ"
                if len(found) > 1
                else "BAS has no such organisation (systems.bas.organisation)"
            )
        return str(found[0]["Ref_Key"])

    return str(ctx.cached("organisation", load))


def currency(ctx: FlowContext) -> str:
    def load() -> str:
        for record in ctx.bas.iterate("currency", {"Code": "980"}):
            return str(record["Ref_Key"])
        raise Permanent("BAS has no currency with code 980 (UAH)")

    return str(ctx.cached("currency", load))
