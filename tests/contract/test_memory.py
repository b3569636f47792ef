"""The port contract over the in-memory fakes (connectors/memory.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crmbridge.connectors.memory import FakeAccounting, FakeCrm
from crmbridge.flows.ports import Client, Deal, DealRow, Product
from crmbridge.taxcodes import with_edrpou_check
from tests.contract.ports import AccountingContract, CrmContract


class MemoryCrm:
    deal_id, missing_id, stage, owned_field, external_key = "1", "404", "PAID", "NUMBER", "ext"
    row_prices = True

    def __init__(self) -> None:
        self.crm = FakeCrm(external_key="ext")
        self.crm.add_client(Client("7", "Альфа", "31000000", "ЄДРПОУ", {"company": {}}))
        rows = [DealRow("11", "Папір", Decimal(2), Decimal(189), False)]
        self.crm.add_deal(Deal("1", "Папір", Decimal(378), "INVOICE", "5", "7"), rows)

    def product_values(self, n: int) -> dict[str, Any]:
        return {"NAME": f"Товар {n}", "ext": f"ref-{n}"}

    def touch(self) -> None:
        self.crm.touch("deal", self.deal_id)


class MemoryAccounting:
    missing_ref = "00000000-0000-0000-0000-000000000404"

    def __init__(self) -> None:
        self.accounting = FakeAccounting()
        self._product = self.accounting.add_product(Product("p1", "Папір", {}), Decimal(189))

    def product(self) -> Product:
        return self._product

    def tax_code(self, n: int) -> str:
        return with_edrpou_check(f"{4100000 + n}")

    def counterparty_values(self, n: int) -> dict[str, Any]:
        return {"Description": f"Контракт {n}"}

    def pay(self, invoice_ref: str, amount: Decimal) -> None:
        self.accounting.record_payment(invoice_ref, amount)


class TestMemoryCrm(CrmContract):
    @pytest.fixture
    def world(self) -> MemoryCrm:
        return MemoryCrm()


class TestMemoryAccounting(AccountingContract):
    @pytest.fixture
    def world(self) -> MemoryAccounting:
        return MemoryAccounting()
