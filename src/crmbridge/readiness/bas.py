"""The BAS half of `crmbridge check`: the publication answers, the profile fits, what the enabled
flows need is published, and what the config names exists in this infobase.

The first read is `$metadata`, through the same OData client the flows use but without the
maintenance pause (the check reports a lock-out instead of waiting it out). Everything after it
needs that read to have worked, so a failing first read is the only finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from crmbridge.clock import Clock, SystemClock
from crmbridge.config.load import LoadedConfig
from crmbridge.config.locate import Located
from crmbridge.connectors.onec import publication, wiring
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.metadata import Metadata
from crmbridge.connectors.onec.metadata import parse as parse_metadata
from crmbridge.connectors.onec.profile import PRODUCTS, PROFILES
from crmbridge.connectors.onec.query import Query
from crmbridge.connectors.onec.settings import BasSystem
from crmbridge.connectors.onec.system import bas_settings
from crmbridge.documents.sources import print_sets
from crmbridge.errors import CrmbridgeError
from crmbridge.readiness import mappings
from crmbridge.readiness.findings import Finding, bas_answer, transport
from crmbridge.systems import Report

TIMEOUT = httpx.Timeout(30, connect=10)  # a check waits less than a flow would
INVOICES = publication.FLOW_SETS["payments"][0]
# Expression inputs that are BAS records, and the set whose fields they have.
BAS_INPUTS = {"product": PRODUCTS, "invoice": INVOICES}
# Business entity written into BAS by a mapping → its entity set.
BAS_TARGETS = {"client": publication.FLOW_SETS["clients"][0], "product": PRODUCTS}


@dataclass
class Reached:
    odata: ODataClient
    metadata: Metadata


def reach(
    loaded: LoadedConfig, client: httpx.Client, clock: Clock, sets: Iterable[str]
) -> tuple[Reached | None, list[Finding]]:
    """Read `$metadata`; then the profile and the composition. `sets` are what the enabled
    flows need published."""
    system = loaded.config.systems.bas
    assert isinstance(system, BasSystem)
    settings = replace(bas_settings(system), timeout=TIMEOUT)
    odata = wiring.odata_client(
        settings, client, recorder=None, clock=clock, throttle=lambda _response: None
    )
    tried = f"GET {odata.base}$metadata as «{system.user}»"
    try:
        metadata = parse_metadata(odata.metadata())
    except CrmbridgeError as exc:
        host = urlsplit(odata.base).netloc
        return None, [transport("bas", tried, exc, host) or bas_answer(tried, exc, system.user)]
    missing = publication.unpublished(metadata, sets)
    fits = [name for name, p in PROFILES.items() if not p.check(metadata)]
    if fits and system.profile not in fits:  # the sets needed depend on the profile: say that
        return Reached(odata, metadata), _profile(tried, system.profile, metadata, [])
    findings = [_composition(tried, missing)] if missing else []
    findings += _profile(tried, system.profile, metadata, missing)
    return Reached(odata, metadata), findings


def _composition(tried: str, missing: list[str]) -> Finding:
    problem = f"not in the OData composition, but the enabled flows need them: {', '.join(missing)}"
    fix = (
        "publish them (УстановитьСоставСтандартногоИнтерфейсаOData; docs/real-systems.md lists "
        "the sets per profile), or turn off the flows that need them"
    )
    return Finding("bas", tried, problem, fix)


def _profile(tried: str, profile: str, metadata: Metadata, missing: list[str]) -> list[Finding]:
    """The configured profile must fit; a mismatch names the one that does."""
    problems = [
        p for p in PROFILES[profile].check(metadata) if p.field.split(".")[0] not in missing
    ]
    if not problems:
        return []
    fits = [name for name, p in PROFILES.items() if not p.check(metadata)]
    shown = "; ".join(str(p) for p in problems[:3])
    if fits:
        problem = f"the profile {profile} does not fit this infobase ({shown}); {fits[0]} does"
        return [Finding("bas", tried, problem, f"set systems.bas.profile: {fits[0]}")]
    fix = "crmbridge knows " + ", ".join(PROFILES) + "; see docs/real-systems.md"
    return [Finding("bas", tried, f"no known profile fits this infobase ({shown})", fix)]


def organisation(reached: Reached, wanted: str | None) -> list[Finding]:
    """Our company: the one with `systems.bas.organisation` as its code, or the only one."""
    tried = f"GET {reached.odata.base}{publication.ORGANISATIONS}"
    found = _live(reached, publication.ORGANISATIONS)
    listed = ", ".join(f"{_code(o)} «{o.get('Description')}»" for o in found)
    if wanted:
        if any(wanted in (o.get("КодПоЕДРПОУ"), o.get("ИНН")) for o in found):
            return []
        problem = f"no organisation has the code {wanted} (there are: {listed or 'none'})"
        return [Finding("bas", tried, problem, "set systems.bas.organisation to one of them")]
    if len(found) == 1:
        return []
    problem = f"{len(found)} organisations ({listed or 'none'}), and the invoices need one"
    return [Finding("bas", tried, problem, "set systems.bas.organisation to our ЄДРПОУ")]


def price_type(reached: Reached, wanted: str | None) -> list[Finding]:
    """The price type that feeds the CRM: `systems.bas.price_type`, or the only one."""
    tried = f"GET {reached.odata.base}{publication.PRICE_TYPES}"
    names = [str(t.get("Description")) for t in _live(reached, publication.PRICE_TYPES)]
    if (wanted in names) if wanted else len(names) == 1:
        return []
    listed = ", ".join(f"«{n}»" for n in names) or "none"
    if wanted:
        problem = f"there is no price type «{wanted}» (there are: {listed})"
    else:
        problem = f"{len(names)} price types ({listed}), and the catalog flow needs one"
    return [Finding("bas", tried, problem, "set systems.bas.price_type to one of them")]


def mapped_fields(loaded: LoadedConfig, metadata: Metadata) -> list[Located]:
    """Fields a mapping writes into BAS, or reads from a BAS record, that `$metadata` lacks:
    1C would silently drop a misspelt field."""
    problems = []
    for where, mapping, field, source in mappings.expressions(loaded):
        entity_set = BAS_TARGETS.get(mapping.entity) if mapping.target == "bas" else None
        if entity_set is not None and field is not None:
            for p in metadata.check_fields(entity_set, [field]):
                problems.append(loaded.at(where, f"BAS $metadata: {p}"))
        for variable, read, read_set in mappings.reads(source, BAS_INPUTS):
            entity = metadata.entity(read_set)
            if entity is not None and read not in entity.properties:
                message = f"reads {variable}[{read!r}], which {read_set} does not have"
                problems.append(loaded.at(where, message))
    return problems


def _live(reached: Reached, entity_set: str) -> list[dict[str, Any]]:
    records = reached.odata.find(entity_set, Query(orderby=("Ref_Key",)))
    return [r for r in records if not r.get("DeletionMark")]


def _code(organisation: dict[str, Any]) -> str:
    return str(organisation.get("КодПоЕДРПОУ") or organisation.get("ИНН") or "?")


def check_infobase(loaded: LoadedConfig, report: Report) -> None:
    """The BAS half of `crmbridge check` (see this module's docstring)."""
    config = loaded.config
    system = config.systems.bas
    assert isinstance(system, BasSystem) and report.client is not None
    client = report.client
    flows = _enabled_flows(loaded)
    invoice = config.flows.issue_invoice
    printed = invoice is not None and invoice.enabled and invoice.pdf == "render"
    extra = print_sets(system.profile) if printed else ()
    needed = publication.needed(flows, extra)
    reached, findings = reach(loaded, client, SystemClock(), needed)
    report.problems += [str(f) for f in findings]
    if reached is None or findings:
        return
    more: list[Finding] = []
    try:
        if {"clients", "issue_invoice"} & set(flows):
            more += organisation(reached, system.organisation)
        if "catalog" in flows or "reconcile" in flows:
            more += price_type(reached, system.price_type)
    except CrmbridgeError as exc:
        tried = "reading the organisations and price types"
        more.append(Finding("bas", tried, exc.message, "see docs/real-systems.md"))
    report.problems += [str(f) for f in more]
    report.problems += [str(p) for p in mapped_fields(loaded, reached.metadata)]
    report.checked.append(f"BAS {reached.odata.root} (profile {system.profile})")


def _enabled_flows(loaded: LoadedConfig) -> list[str]:
    flows = loaded.config.flows
    names = ("clients", "issue_invoice", "payments", "catalog", "reconcile")
    return [n for n in names if (f := getattr(flows, n)) is not None and f.enabled]
