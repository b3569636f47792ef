"""`Bitrix24Crm`: the flows' `Crm` port (flows/ports.py) over a `Bitrix24Connector`.

Where the business words meet Bitrix24's: a deal's total is `OPPORTUNITY`, its stage `STAGE_ID`,
its client the company `COMPANY_ID` whose tax code lives in a requisite (`RQ_EDRPOU`, `RQ_INN`,
or a person's `RQ_DRFO`), a document goes to the timeline (and the file field, when configured),
a task is bound to the deal by `UF_CRM_TASK: D_<id>`, and a product's accounting key is `XML_ID`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.connectors.base import ChangedEvent, Record
from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
from crmbridge.connectors.bitrix24.deals import INVOICE_PDF_FIELD
from crmbridge.connectors.http import RemoteNotFound
from crmbridge.flows.ports import (
    ChangedKind,
    Client,
    Deal,
    DealBundle,
    DealRow,
    Document,
    Task,
    TaxCodeKind,
)

# The requisite field of each tax-code kind; a ФОП's РНОКПП (`RQ_DRFO`) stands in for either.
TAX_FIELDS: Mapping[TaxCodeKind, str] = {"edrpou": "RQ_EDRPOU", "inn": "RQ_INN"}
PERSON_TAX_FIELD = "RQ_DRFO"
# What crm.deal.productrows.get returns but .set does not take.
READ_ONLY_ROW = frozenset(
    {
        "ID",
        "OWNER_ID",
        "OWNER_TYPE",
        "PRICE_EXCLUSIVE",
        "PRICE_NETTO",
        "PRICE_BRUTTO",
        "PRICE_ACCOUNT",
        "STORE_ID",
        "RESERVE_ID",
        "RESERVE_QUANTITY",
        "TYPE",
    }
)


def deal_of(record: Record) -> Deal:
    company = str(record.get("COMPANY_ID") or "0")
    responsible = record.get("ASSIGNED_BY_ID")
    return Deal(
        id=str(record["ID"]),
        title=str(record.get("TITLE") or ""),
        total=Decimal(str(record.get("OPPORTUNITY") or 0)),
        stage=str(record.get("STAGE_ID") or ""),
        responsible=str(responsible) if responsible else None,
        client_id=None if company == "0" else company,
        fields=record,
    )


def row_of(record: Record) -> DealRow:
    product = str(record.get("PRODUCT_ID") or "0")
    discounted = any(
        Decimal(str(record.get(f) or 0)) != 0 for f in ("DISCOUNT_RATE", "DISCOUNT_SUM")
    )
    return DealRow(
        product_id=None if product == "0" else product,
        name=str(record.get("PRODUCT_NAME") or ""),
        quantity=Decimal(str(record.get("QUANTITY") or 0)),
        price=Decimal(str(record.get("PRICE") or 0)),
        discounted=discounted,
        fields=record,
    )


def tax_requisite(requisites: Iterable[Record], kind: TaxCodeKind) -> tuple[Record, str] | None:
    """The first requisite carrying a tax code of `kind` (or a person's РНОКПП), and the code."""
    for requisite in requisites:
        code = str(requisite.get(TAX_FIELDS[kind]) or requisite.get(PERSON_TAX_FIELD) or "")
        if code.strip():
            return requisite, code.strip()
    return None


def client_of(company: Record, requisites: list[Record], kind: TaxCodeKind) -> Client:
    found = tax_requisite(requisites, kind)
    requisite, code = found if found else ((requisites[0] if requisites else {}), None)
    company = {k: v for k, v in company.items() if k != "REQUISITES"}
    return Client(
        id=str(company["ID"]),
        title=str(company.get("TITLE") or ""),
        tax_code=code,
        tax_field=TAX_FIELDS[kind],
        inputs={"company": company, "requisite": requisite},
    )


class Bitrix24Deals:
    def __init__(
        self, connector: Bitrix24Connector, kind: TaxCodeKind, attach: Sequence[str], field: str
    ) -> None:
        self._b24, self._kind, self._attach, self._field = connector, kind, attach, field

    def get(self, deal_id: str) -> Deal | None:
        found = self._b24.get("deal", deal_id)
        return deal_of(found) if found is not None else None

    def bundle(self, deal_id: str) -> DealBundle | None:
        try:
            found = self._b24.deals.bundle(deal_id)
        except RemoteNotFound:
            return None
        company = found["company"]
        client = client_of(company, found["requisites"], self._kind) if company else None
        return DealBundle(deal_of(found["deal"]), [row_of(r) for r in found["rows"]], client)

    def rows(self, deal_id: str) -> list[DealRow]:
        return [row_of(r) for r in self._b24.deals.rows(deal_id)]

    def of_client(self, client_id: str) -> Iterator[Deal]:
        return (deal_of(d) for d in self._b24.iterate("deal", {"COMPANY_ID": client_id}))

    def open(self) -> Iterator[Deal]:
        return (deal_of(d) for d in self._b24.iterate("deal", {"CLOSED": "N"}))

    def set_fields(self, deal_id: str, values: Mapping[str, Any]) -> None:
        self._b24.put("deal", dict(values), key=deal_id)

    def move_to_stage(self, deal_id: str, stage: str) -> None:
        self._b24.put("deal", {"STAGE_ID": stage}, key=deal_id)

    def set_rows(self, deal_id: str, rows: Sequence[DealRow]) -> None:
        self._b24.deals.set_rows(deal_id, [_writable(row) for row in rows])

    def find_note(self, deal_id: str, tag: str) -> str | None:
        params = {
            "filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"},
            "select": ["ID", "COMMENT"],
        }
        comments = self._b24.rest.result("crm.timeline.comment.list", params) or []
        found = [c for c in comments if tag in str(c.get("COMMENT") or "")]
        return str(found[0]["ID"]) if found else None

    def attach(self, deal_id: str, document: Document) -> str:
        if "field" in self._attach:
            return self._b24.deals.attach_pdf(
                deal_id, document.name, document.content, comment=document.note, field=self._field
            ).comment_id
        data = base64.b64encode(document.content).decode("ascii")
        fields: dict[str, Any] = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}
        fields.update(COMMENT=document.note, FILES=[[document.name, data]])
        return str(self._b24.rest.result("crm.timeline.comment.add", {"fields": fields}))

    def find_task(self, deal_id: str, tag: str) -> str | None:
        for task in self._b24.deals.tasks(deal_id):
            if tag in str(task.get("description") or task.get("DESCRIPTION") or ""):
                return str(task.get("id") or task.get("ID"))
        return None

    def add_task(self, deal: Deal, task: Task) -> str:
        return self._b24.deals.add_task(
            deal.id,
            task.title,
            deal.responsible or 1,
            description=task.description,
            deadline=task.deadline.isoformat(),
        )


def _writable(row: DealRow) -> dict[str, Any]:
    """The row as crm.deal.productrows.set takes it: the price and quantity the flow set, and
    no discount left over when the flow dropped it."""
    values = {k: v for k, v in row.fields.items() if k not in READ_ONLY_ROW}
    values.update(PRICE=str(row.price), QUANTITY=str(row.quantity))
    if not row.discounted:
        values.update(DISCOUNT_RATE=0, DISCOUNT_SUM=0)
    return values


class Bitrix24Clients:
    def __init__(self, connector: Bitrix24Connector, kind: TaxCodeKind) -> None:
        self._b24, self._kind = connector, kind

    def get(self, client_id: str) -> Client | None:
        try:
            company = self._b24.companies.with_requisites(client_id)
        except RemoteNotFound:
            return None
        return client_of(company, list(company.get("REQUISITES") or []), self._kind)


class Bitrix24Products:
    def __init__(self, connector: Bitrix24Connector) -> None:
        self._b24 = connector

    def external_id(self, product_id: str) -> str | None:
        product = self._b24.get("product", product_id)
        return str((product or {}).get("XML_ID") or "") or None

    def upsert(self, values: Sequence[Mapping[str, Any]]) -> list[str]:
        return self._b24.upsert_products([dict(v) for v in values])


class Bitrix24Crm:
    system = "bitrix24"

    def __init__(
        self,
        connector: Bitrix24Connector,
        *,
        tax_code_kind: TaxCodeKind = "edrpou",
        attach: Sequence[str] = ("timeline",),
        pdf_field: str = INVOICE_PDF_FIELD,
    ) -> None:
        self.connector = connector
        self.deals = Bitrix24Deals(connector, tax_code_kind, attach, pdf_field)
        self.clients = Bitrix24Clients(connector, tax_code_kind)
        self.products = Bitrix24Products(connector)

    def __repr__(self) -> str:
        return f"Bitrix24Crm({self.connector!r})"

    def parse_delivery(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        return self.connector.parse_webhook(body, headers)

    def changed(
        self, kind: ChangedKind, cursor: dict[str, Any] | None, *, since: datetime
    ) -> tuple[list[str], dict[str, Any]]:
        """By `DATE_MODIFY` (connectors/bitrix24/paging.py); a first read starts at `since`."""
        start = cursor or {"since": since.isoformat(timespec="seconds")}
        page = self.connector.changes(kind, start)
        return [str(r["ID"]) for r in page.records], page.cursor
