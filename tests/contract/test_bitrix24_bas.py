"""The port contract over Bitrix24 and BAS, each through the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.bitrix24 import connect
from crmbridge.connectors.bitrix24.crm import Bitrix24Crm
from crmbridge.connectors.onec.accounting import BasAccounting
from crmbridge.connectors.onec.wiring import BasSettings
from crmbridge.connectors.onec.wiring import connect as connect_bas
from crmbridge.connectors.ratelimit import bitrix24_limiter
from crmbridge.flows.ports import Product
from crmbridge.sandbox.server import Sandbox
from crmbridge.taxcodes import with_edrpou_check
from tests.contract.ports import AccountingContract, CrmContract, stamp
from tests.support.sandbox import running_sandbox

PROFILES = ("bas-buh", "bp30")


class Bitrix24World:
    deal_id, missing_id, stage = "1", "987654", "EXECUTING"
    owned_field, external_key = "UF_CRM_INVOICE_NUMBER", "XML_ID"
    row_prices = True

    def __init__(self, sandbox: Sandbox, client: httpx.Client, profile: str) -> None:
        self.sandbox = sandbox
        limiter = bitrix24_limiter(rate=100, burst=100)
        connector = connect(client, sandbox.bitrix24_webhook, limiter=limiter, recorder=None)
        kind = "inn" if profile == "bp30" else "edrpou"
        self.crm = Bitrix24Crm(connector, tax_code_kind=kind, attach=("timeline", "field"))

    def product_values(self, n: int) -> dict[str, Any]:
        return {"NAME": f"Контрактний товар {n}", "XML_ID": f"contract-{n}", "PRICE": "10.00"}

    def touch(self) -> None:
        self.sandbox.bitrix24.update_deal(int(self.deal_id), {"COMMENTS": f"змінено {stamp()}"})


class BasWorld:
    missing_ref = "00000000-0000-0000-0000-000000000404"

    def __init__(self, sandbox: Sandbox, client: httpx.Client) -> None:
        self.sandbox = sandbox
        user, password = sandbox.bas_credentials
        settings = BasSettings(
            odata_url=sandbox.odata_url,
            user=user,
            password=password,
            profile=sandbox.settings.profile,
        )
        connector = connect_bas(settings, client, recorder=None, clock=FakeClock(), limiter=None)
        self.accounting = BasAccounting(connector, price_type="Оптова ціна")

    def product(self) -> Product:
        prices = self.accounting.catalog.prices()
        ref = next(i.ref for i in self.accounting.catalog.items() if i.ref in prices)
        found = self.accounting.invoices.product(ref)
        assert found is not None
        return found

    def tax_code(self, n: int) -> str:
        if self.accounting.tax_code_kind == "inn":
            return f"41000000{n:04d}"
        return with_edrpou_check(f"{4100000 + n}")

    def counterparty_values(self, n: int) -> dict[str, Any]:
        return {"Description": f"Контракт {n}", "НаименованиеПолное": f"ТОВ «Контракт {n}»"}

    def pay(self, invoice_ref: str, amount: Decimal) -> None:
        self.sandbox.bas.record_payment(invoice_ref, amount)


@pytest.fixture(scope="module", params=PROFILES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with running_sandbox(profile=request.param) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


class TestBitrix24(CrmContract):
    @pytest.fixture
    def world(self, sandbox: Sandbox, client: httpx.Client) -> Bitrix24World:
        return Bitrix24World(sandbox, client, sandbox.settings.profile)


class TestBas(AccountingContract):
    @pytest.fixture
    def world(self, sandbox: Sandbox, client: httpx.Client) -> BasWorld:
        return BasWorld(sandbox, client)
