"""A `FlowContext` over the in-memory fakes and a real SQLite file: the flows' unit tier.

The config speaks the fakes' dialect: a client's mapping reads `company`, the deal's
accounting-owned fields are `INVOICE_NUMBER` and `PAY_STATUS`, products carry `XML_ID`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmbridge.clock import FakeClock
from crmbridge.config.model import Config
from crmbridge.connectors.memory import FakeAccounting, FakeCrm
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Client, Deal, DealRow, Product
from crmbridge.flows.rules import compile_rules
from crmbridge.store.database import open_database
from crmbridge.store.migrate import migrate

CONFIG: dict[str, Any] = {
    "systems": {
        "crm": {
            "type": "bitrix24",
            "webhook_url": "http://unused/rest/1/x/",
            "application_token": "t",
        },
        "bas": {"type": "bas", "odata_url": "http://unused/", "user": "u", "password": "p"},
    },
    "ownership": {
        "entities": {"client": "crm", "deal": "crm", "product": "bas", "invoice": "bas"},
        "fields": {"deal.INVOICE_NUMBER": "bas", "deal.PAY_STATUS": "bas"},
    },
    "mappings": {
        "client": {
            "entity": "client",
            "direction": "crm->bas",
            "fields": {"Description": "company.TITLE", "Email": "company.EMAIL"},
        },
        "product": {
            "entity": "product",
            "direction": "bas->crm",
            "fields": {"NAME": 'product["name"]', "PRICE": "price", "XML_ID": 'product["ref"]'},
        },
        "deal_invoice": {
            "entity": "deal",
            "direction": "bas->crm",
            "fields": {"INVOICE_NUMBER": 'invoice["Number"]', "PAY_STATUS": "status"},
        },
    },
    "flows": {
        "clients": {},
        "catalog": {},
        "issue_invoice": {"invoice_stage": "INVOICE"},
        "payments": {"paid_stage": "PAID"},
    },
}


@dataclass
class World:
    ctx: FlowContext
    crm: FakeCrm
    accounting: FakeAccounting
    clock: FakeClock


def world(tmp_path: Path, **flows: Any) -> World:
    """Fakes, a migrated SQLite file and a context; `flows` overrides sections of `flows:`."""
    raw = {**CONFIG, "flows": {**CONFIG["flows"], **flows}}
    config = Config.model_validate(raw)
    db = open_database(f"sqlite:///{tmp_path / 'flows.db'}")
    migrate(db)
    crm, accounting, clock = FakeCrm(), FakeAccounting(), FakeClock()
    ctx = FlowContext(crm, accounting, db, clock, config, compile_rules(config))
    return World(ctx, crm, accounting, clock)


PAPER = Product("ref-paper", "Папір А4", {"name": "Папір А4", "ref": "ref-paper"})


def typical(w: World, *, tax_code: str | None = "31000000") -> Deal:
    """Company 7 (Альфа-Трейд) with deal 1: two reams of paper, in the invoice stage."""
    w.accounting.add_product(PAPER, Decimal("189.00"))
    w.crm.products.upsert([{"NAME": "Папір А4", "XML_ID": PAPER.ref}])
    product_id = next(iter(w.crm.state.products))
    inputs = {"company": {"TITLE": "Альфа-Трейд", "EMAIL": "a@alfa.ua"}}
    w.crm.add_client(Client("7", "Альфа-Трейд", tax_code, "ЄДРПОУ", inputs))
    row = DealRow(product_id, "Папір А4", Decimal(2), Decimal("189.00"), False)
    deal = Deal("1", "Папір", Decimal("378.00"), "INVOICE", "5", "7")
    return w.crm.add_deal(deal, [row])
