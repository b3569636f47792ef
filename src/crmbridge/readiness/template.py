"""The config `crmbridge setup` writes: the typical scenario with the answers filled in.

Plain text with comments, so the person who opens it later sees what each value is for. Every
value goes through `quote` (a JSON string is a YAML scalar), so a password with a colon or a
name with quotes stays what it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Values:
    crm: dict[str, str]  # systems.crm after `type`: the webhook and its token, or the app
    odata_url: str
    bas_user: str
    bas_password: str
    profile: str
    organisation: str | None
    price_type: str
    tax_field: str  # КодПоЕДРПОУ (bas-buh) or ИНН (bp30)
    requisite_field: str  # RQ_EDRPOU or RQ_INN
    invoice_stage: str
    paid_stage: str
    number_field: str  # the deal fields, as the portal named them
    status_field: str
    pdf_field: str
    database: str
    web_token: str
    web_password: str


def quote(value: str) -> str:
    return value if value.startswith("${") and value.endswith("}") else json.dumps(value)


def render(v: Values) -> str:
    organisation = f"\n    organisation: {quote(v.organisation)}" if v.organisation else ""
    crm = "".join(f"\n    {key}: {quote(value)}" for key, value in v.crm.items())
    return f"""\
# Written by `crmbridge setup`; run it again to change the answers, or edit by hand and run
# `crmbridge check --config <this file>`. The file holds passwords: keep it readable by the
# service's user only (setup writes it with mode 0600), or move them to ${{ENV}} variables.
database: {quote(v.database)}

systems:
  crm:
    type: bitrix24{crm}
  bas:
    type: bas
    profile: {v.profile}
    odata_url: {quote(v.odata_url)}
    user: {quote(v.bas_user)}
    password: {quote(v.bas_password)}{organisation}
    price_type: {quote(v.price_type)}

ownership:
  entities: {{client: crm, deal: crm, product: bas, invoice: bas, payment: bas}}
  fields:  # the deal fields setup created: BAS's data inside the CRM
    deal.{v.number_field}: bas
    deal.{v.status_field}: bas
    deal.{v.pdf_field}: bas

mappings:
  client:
    entity: client
    direction: crm->bas
    fields:
      Description: company.TITLE
      {v.tax_field}: requisite.{v.requisite_field}
  product:
    entity: product
    direction: bas->crm
    fields:
      NAME: product["Description"]
      PRICE: price
      CURRENCY_ID: '"UAH"'
      XML_ID: product["Ref_Key"]
  deal_invoice:
    entity: deal
    direction: bas->crm
    fields:
      {v.number_field}: invoice["Number"]
      {v.status_field}: status

flows:
  clients: {{mapping: client}}
  catalog: {{mapping: product, poll_every: 900}}
  issue_invoice:
    invoice_stage: {quote(v.invoice_stage)}
    mapping: deal_invoice
    attach: [timeline, field]
    pdf_field: {v.pdf_field}
  payments:
    paid_stage: {quote(v.paid_stage)}

web:  # the dashboard and /api: Authorization: Bearer <token>, or the user admin
  token: {quote(v.web_token)}
  users:
    admin: {quote(v.web_password)}
"""
