"""The portal's data in memory: tables of wire-shaped records, loaded from the shared seed.

Records are kept exactly as legacy methods print them (string scalars, null for empty refs) so
reads are a copy and `snapshot()` is plain JSON. Product rows are typed, as the real rows are.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bitrix24 import records
from crmbridge.sandbox.seed import VAT_RATES, Seed

TABLES = (
    *("user", "deal", "company", "contact", "requisite", "product", "comment", "task"),
    "userfield",  # user-field declarations (userfields.py); records carry their values
)
# The user fields crmbridge needs, as an administrator would create them (crm.deal.userfield.add).
CRMBRIDGE_FIELDS = (
    {"FIELD_NAME": "INVOICE_NUMBER", "USER_TYPE_ID": "string", "LABEL": "Номер рахунку"},
    {"FIELD_NAME": "PAYMENT_STATUS", "USER_TYPE_ID": "string", "LABEL": "Статус оплати"},
    {
        "FIELD_NAME": "INVOICE_PDF",
        "USER_TYPE_ID": "file",
        "MULTIPLE": "Y",
        "LABEL": "Рахунок (PDF)",
    },
)

# Contacts are not in the shared seed; each company gets one person so crm.contact.* has data.
_CONTACT_NAMES = (
    ("Ігор", "Мельник"),
    ("Світлана", "Ткаченко"),
    ("Богдан", "Кравченко"),
    ("Наталія", "Олійник"),
    ("Тарас", "Лисенко"),
    ("Ірина", "Гончаренко"),
    ("Василь", "Руденко"),
)


@dataclass
class Portal:
    """All portal state; callers hold `lock` while they read or change it."""

    tables: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in TABLES}
    )
    rows: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # deal id → product rows
    files: dict[int, dict[str, Any]] = field(default_factory=dict)  # file id → name, base64, size
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def next_id(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def table(self, kind: str) -> dict[int, dict[str, Any]]:
        return self.tables[kind]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "tables": {k: _str_keys(t) for k, t in self.tables.items()},
                    "rows": {str(i): r for i, r in self.rows.items()},
                    "files": {str(i): f for i, f in self.files.items()},
                    "counters": self.counters,
                }
            )

    def restore(self, data: dict[str, Any]) -> None:
        data = copy.deepcopy(data)
        with self.lock:
            # A table the snapshot predates (user fields before they were state) stays as seeded.
            self.tables = {
                name: _int_keys(data["tables"][name])
                if name in data["tables"]
                else self.tables[name]
                for name in TABLES
            }
            self.rows = _int_keys(data["rows"])
            self.files = _int_keys(data["files"])
            self.counters = dict(data["counters"])


def _str_keys(mapping: dict[int, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in mapping.items()}


def _int_keys(mapping: dict[str, Any]) -> dict[int, Any]:
    return {int(k): v for k, v in mapping.items()}


def load_seed(seed: Seed, now: datetime, *, user_fields: bool = True) -> Portal:
    """The seeded portal; without `user_fields`, a new customer's portal: no `UF_CRM_*` yet."""
    from crmbridge.sandbox.bitrix24 import userfields  # it imports Portal from this module

    portal = Portal()
    for spec in CRMBRIDGE_FIELDS if user_fields else ():
        userfields.create(portal, userfields.DEAL, spec)
    for rep in seed.reps:
        portal.tables["user"][rep.id] = records.user(rep)
    for i, product in enumerate(seed.products[: seed.crm_product_count]):
        pid = portal.next_id("product")
        portal.tables["product"][pid] = records.product(pid, product, now)
        assert pid == i + 1  # the seed's promise: CRM product ID = index + 1
    for company in seed.companies:
        _load_company(portal, company, now)
    for deal in seed.deals:
        did = portal.next_id("deal")
        portal.tables["deal"][did] = records.deal(did, deal, now)
        portal.tables["deal"][did].update(userfields.blank(portal, userfields.DEAL))
        portal.rows[did] = [_seed_row(portal, seed, did, row, n) for n, row in enumerate(deal.rows)]
        portal.tables["deal"][did]["OPPORTUNITY"] = records.rows_total(portal.rows[did])
    return portal


def _load_company(portal: Portal, company: Any, now: datetime) -> None:
    cid = portal.next_id("company")
    field_ids = (portal.next_id("multifield"), portal.next_id("multifield"))
    portal.tables["company"][cid] = records.company(cid, company, now, field_ids)
    name, last = _CONTACT_NAMES[(cid - 1) % len(_CONTACT_NAMES)]
    contact_id = portal.next_id("contact")
    portal.tables["contact"][contact_id] = records.contact(
        contact_id, name, last, cid, company.assigned_by_id, now
    )
    if company.edrpou is not None:
        rid = portal.next_id("requisite")
        portal.tables["requisite"][rid] = records.requisite(rid, company, now)


def _seed_row(portal: Portal, seed: Seed, deal_id: int, row: Any, n: int) -> dict[str, Any]:
    product = seed.products[row.product_index]
    netto = product.price
    price = netto * (100 - row.discount_rate) / 100
    spec = {
        "PRODUCT_ID": row.product_index + 1,
        "PRODUCT_NAME": product.name,
        "PRICE": str(price),
        "QUANTITY": str(row.quantity),
        "DISCOUNT_TYPE_ID": 2,
        "DISCOUNT_RATE": str(row.discount_rate),
        "TAX_RATE": str(VAT_RATES.get(product.vat_rate, Decimal(0))),
        "TAX_INCLUDED": "Y",
        "MEASURE_NAME": product.unit,
        "SORT": (n + 1) * 10,
    }
    return records.product_row(portal.next_id("row"), deal_id, spec)
