"""`crmbridge setup`: from an inbound webhook and an OData address to a config `check` passes.

Three steps, and nothing is written before the third:
1. survey (reads only): the portal's scopes, funnels and stages, the deal fields crmbridge needs
   that exist already; the infobase's `$metadata` (which profile fits, what is not published),
   organisations and price types;
2. answers: what flags did not say is asked (the funnel's invoice and paid stages, the
   organisation and price type when there are several); without anybody to ask, it is an error
   naming the flag;
3. after one "yes": the missing deal fields are created (`crm.deal.userfield.add`), and the
   config is written with the names the portal gave them.

Run again, it finds the fields it made and writes the same file: nothing changes. An existing
config that differs is kept as `<name>.bak`. Events cannot be bound with an inbound webhook
(`event.bind` needs an application), so setup prints the outgoing-webhook form's entries.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import httpx
import yaml

from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
from crmbridge.connectors.bitrix24.oauth import OAUTH_SERVER
from crmbridge.errors import ConfigError
from crmbridge.readiness import template
from crmbridge.readiness.ask import Asker
from crmbridge.readiness.survey import (
    DEAL_FIELDS,
    EVENTS,
    HOOK,
    DealField,
    Options,
    Survey,
    check_addresses,
    survey,
)

__all__ = ["Options", "run"]


def run(options: Options, asker: Asker, *, assume_yes: bool) -> Path:
    check_addresses(options)
    with httpx.Client(follow_redirects=False) as client:
        found = survey(options, client, asker)
        values, missing = _answers(options, found, asker, _previous(options.config))
        _show_plan(options, found, missing, asker)
        if not assume_yes and not asker.yes_no("Create the fields and write the config?"):
            raise ConfigError("nothing written: setup was cancelled")
        names = {f.role: f.full_name for f in DEAL_FIELDS}  # until the portal names them
        if found.crm is not None:
            names |= _create_fields(found.crm, missing) | _existing_names(found)
            _bind_events(options, found.crm, asker)
    text = template.render(_with_names(values, names))
    _write(options.config, text, asker)
    _next_steps(options, found, asker)
    return options.config


# 2. answers -------------------------------------------------------------------------------------
def _previous(path: Path) -> dict[str, str]:
    """What an earlier run wrote that no flag repeats: the token the person pasted from the
    outgoing-webhook form, and the dashboard's credentials (a re-run must not change them)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    crm = ((data.get("systems") or {}).get("crm") or {}) if isinstance(data, dict) else {}
    web = (data.get("web") or {}) if isinstance(data, dict) else {}
    found = {
        "application_token": crm.get("application_token"),
        "web_token": web.get("token"),
        "web_password": (web.get("users") or {}).get("admin"),
    }
    return {k: str(v) for k, v in found.items() if isinstance(v, str) and v}


def _answers(
    options: Options, survey: Survey, asker: Asker, previous: dict[str, str]
) -> tuple[template.Values, list[DealField]]:
    invoice, paid = _stage_answers(options, survey, asker)
    organisation = _organisation(options, survey, asker)
    price_type = options.price_type or (
        asker.choose(
            "Which price type feeds the CRM?",
            [(p, p) for p in survey.price_types],
            flag="--price-type",
        )
        if survey.price_types
        else "Оптова ціна"
    )
    bp30 = survey.profile == "bp30"
    values = template.Values(
        crm=_crm_section(options, previous),
        odata_url=options.odata_url,
        bas_user=options.bas_user,
        bas_password=options.bas_password,
        profile=survey.profile,
        organisation=organisation,
        price_type=price_type,
        tax_field="ИНН" if bp30 else "КодПоЕДРПОУ",
        requisite_field="RQ_INN" if bp30 else "RQ_EDRPOU",
        invoice_stage=invoice,
        paid_stage=paid,
        number_field="",
        status_field="",
        pdf_field="",
        database=options.database,
        web_token=previous.get("web_token") or secrets.token_urlsafe(24),
        web_password=previous.get("web_password") or secrets.token_urlsafe(12),
    )
    missing = [f for f in DEAL_FIELDS if f.full_name not in survey.existing]
    return values, missing


def _crm_section(options: Options, previous: dict[str, str]) -> dict[str, str]:
    if options.webhook_url is not None:
        token = options.application_token or previous.get("application_token")
        return {
            "webhook_url": options.webhook_url,
            "application_token": token or "${B24_APPLICATION_TOKEN}",
        }
    assert options.portal and options.client_id and options.client_secret
    found = {"auth": "oauth", "portal": options.portal, "client_id": options.client_id}
    found["client_secret"] = options.client_secret
    if options.oauth_server != OAUTH_SERVER:
        found["oauth_server"] = options.oauth_server
    return found


def _stage_answers(options: Options, survey: Survey, asker: Asker) -> tuple[str, str]:
    """The invoice and paid stages: asked among the funnel's (the flags' checked against them);
    before an application is installed, the flags' or the portal's usual ones, chosen again on
    the run after the install."""
    if survey.crm is None:
        return options.invoice_stage or "PREPAYMENT_INVOICE", options.paid_stage or "WON"
    stages = _stages(survey.crm, _funnel(options, survey, asker))
    invoice = options.invoice_stage or asker.choose(
        "Which stage means «issue the invoice»?", stages, flag="--invoice-stage"
    )
    paid = options.paid_stage or asker.choose(
        "Which stage means «paid»?", stages, flag="--paid-stage"
    )
    for flag, stage in (("--invoice-stage", invoice), ("--paid-stage", paid)):
        if stage not in dict(stages):
            listed = ", ".join(s for s, _ in stages)
            raise ConfigError(f"{flag} {stage!r}: the funnel has no such stage ({listed})")
    return invoice, paid


def _funnel(options: Options, survey: Survey, asker: Asker) -> int:
    given = options.invoice_stage or options.paid_stage
    if given and given.startswith("C") and ":" in given:
        return int(given[1:].split(":", 1)[0])
    if given:
        return 0
    choices = [(str(i), name) for i, name in sorted(survey.funnels.items())] or [("0", "")]
    return int(
        asker.choose("Which deal funnel do invoices come from?", choices, flag="--invoice-stage")
    )


def _stages(crm: Bitrix24Connector, funnel: int) -> list[tuple[str, str]]:
    entity = "DEAL_STAGE" if funnel == 0 else f"DEAL_STAGE_{funnel}"
    found = crm.rest.result("crm.status.list", {"filter": {"ENTITY_ID": entity}}) or []
    return [(str(s["STATUS_ID"]), str(s.get("NAME") or "")) for s in found]


def _organisation(options: Options, survey: Survey, asker: Asker) -> str | None:
    if options.organisation:
        return options.organisation
    if len(survey.organisations) <= 1:
        return None  # the only one is taken at run time
    choices = [(code, f"{label} ({code})") for code, label in survey.organisations]
    return asker.choose("Which organisation issues the invoices?", choices, flag="--organisation")


# 3. writing -------------------------------------------------------------------------------------
def _show_plan(options: Options, survey: Survey, missing: list[DealField], asker: Asker) -> None:
    if survey.crm is None:
        asker.say("the deal fields and stages are chosen on the run after the install")
        missing = []
    for f in missing:
        asker.say(f"will create the deal field {f.full_name} ({f.type}) «{f.label}»")
    for f in DEAL_FIELDS:
        if survey.crm is not None and f not in missing:
            asker.say(f"the deal field {f.full_name} is there already")
    if survey.unpublished:
        asker.say("BAS does not publish (yet): " + ", ".join(survey.unpublished))
    asker.say(f"will write {options.config}")


def _create_fields(crm: Bitrix24Connector, missing: list[DealField]) -> dict[str, str]:
    """role → the FIELD_NAME the portal gave each field it created."""
    made = {}
    for f in missing:
        fields = {
            "FIELD_NAME": f.name,
            "USER_TYPE_ID": f.type,
            "XML_ID": f"crmbridge_{f.role}",
            "EDIT_FORM_LABEL": f.label,
            "LIST_COLUMN_LABEL": f.label,
            "MULTIPLE": "Y" if f.multiple else "N",
        }
        new_id = crm.rest.result("crm.deal.userfield.add", {"fields": fields})
        created = crm.rest.result("crm.deal.userfield.get", {"id": new_id}) or {}
        made[f.role] = str(created.get("FIELD_NAME") or f.full_name)
    return made


def _existing_names(survey: Survey) -> dict[str, str]:
    return {f.role: f.full_name for f in DEAL_FIELDS if f.full_name in survey.existing}


def _with_names(values: template.Values, names: dict[str, str]) -> template.Values:
    return replace(
        values, number_field=names["number"], status_field=names["status"], pdf_field=names["pdf"]
    )


def _write(path: Path, text: str, asker: Asker) -> None:
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            asker.say(f"{path} is up to date: nothing changed")
            return
        backup = path.with_name(path.name + ".bak")
        path.replace(backup)
        asker.say(f"the previous {path.name} is kept as {backup.name}")
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    asker.say(f"wrote {path}")


def _bind_events(options: Options, crm: Bitrix24Connector, asker: Asker) -> None:
    """An application binds the events itself (`event.bind`); the install route did, so this
    only adds what is missing (a handler removed since). A webhook cannot: see _next_steps."""
    if options.webhook_url is not None:
        return
    bound = crm.rest.result("event.get") or []
    have = {
        str(b.get("event", "")).upper() for b in bound if "/hooks/bitrix24" in str(b.get("handler"))
    }
    handlers = [str(b.get("handler")) for b in bound if "/hooks/bitrix24" in str(b.get("handler"))]
    handler = handlers[0] if handlers else _handler(options)
    for event in EVENTS:
        if event not in have:
            crm.rest.result("event.bind", {"event": event, "handler": handler})
            asker.say(f"bound {event} to {handler}")
    if set(EVENTS) <= have:
        asker.say(f"the events are bound: {', '.join(EVENTS)}")


def _handler(options: Options) -> str:
    return (options.public_url or "https://<crmbridge host>").rstrip("/") + HOOK


def _next_steps(options: Options, survey: Survey, asker: Asker) -> None:
    if options.webhook_url is None:
        if survey.crm is None:
            asker.say("Next, in the portal: Applications → Developer resources → Other → Local")
            asker.say("  application, server side, «uses only API», scopes crm and task;")
            asker.say(f"  installation path: {_handler(options)}/install")
            asker.say(f"Start crmbridge serve --config {options.config} where that address")
            asker.say("  reaches it, click Install, then run this setup again.")
            return
        asker.say(f"Then: crmbridge check --config {options.config}")
        return
    asker.say("Next, in the portal: Applications → Developer resources → Other → Outgoing webhook")
    asker.say(f"  handler URL: {_handler(options)}")
    asker.say(f"  events: {', '.join(EVENTS)}")
    if not options.application_token:
        asker.say("  then put the token it shows into systems.crm.application_token")
    asker.say(f"Then: crmbridge check --config {options.config}")
