"""Object-level helpers against the BAS emulator: where the two profiles differ, both run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from crmbridge.connectors.onec import objects
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.objects import InvoiceHeader, Line
from crmbridge.sandbox.bas.seeding import OLD_PRICE_PERIOD
from crmbridge.sandbox.server import Sandbox
from tests.integration.connectors.bas_support import PROFILES, bas_connector
from tests.support.sandbox import running_sandbox


@pytest.fixture(scope="module", params=PROFILES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with running_sandbox(profile=request.param, seed_size=12) as running:
        yield running


@pytest.fixture
def bas(sandbox: Sandbox) -> Iterator[BasConnector]:
    with bas_connector(sandbox) as connector:
        yield connector


def header(sandbox: Sandbox, counterparty: int = 0) -> InvoiceHeader:
    party = sandbox.seed.counterparties[counterparty]
    contracts = sandbox.bas.store.rows("Catalog_ДоговорыКонтрагентов")
    contract = next(c["Ref_Key"] for c in contracts if c["Owner_Key"] == party.ref_key)
    return InvoiceHeader(
        organisation=sandbox.seed.organisation.ref_key,
        counterparty=party.ref_key,
        contract=contract,
        currency=sandbox.seed.currency_ref_key,
        date=datetime(2026, 3, 4, 10, 0),
        comment="CRM deal 4711",
    )


def lines(sandbox: Sandbox) -> list[Line]:
    goods = next(p for p in sandbox.seed.products if not p.is_service)
    service = next(p for p in sandbox.seed.products if p.is_service)
    return [
        Line(goods.ref_key, Decimal(2), goods.price, goods.vat_rate),
        Line(service.ref_key, Decimal(1), service.price, service.vat_rate, True, "Налаштування"),
    ]


def test_find_counterparty_by_the_profiles_tax_code(sandbox: Sandbox, bas: BasConnector) -> None:
    party = sandbox.seed.counterparties[2]
    found = objects.find_counterparty(bas, party.edrpou)
    assert found[0]["Ref_Key"] in {party.ref_key, party.head_ref_key}
    assert party.ref_key in {r["Ref_Key"] for r in found}
    assert objects.find_counterparty(bas, "00000000") == []


def test_branches_come_after_their_head(sandbox: Sandbox, bas: BasConnector) -> None:
    branch = next(p for p in sandbox.seed.counterparties if p.head_ref_key)
    found = objects.find_counterparty(bas, branch.edrpou)
    assert [r["Ref_Key"] for r in found][:1] == [branch.head_ref_key]
    assert found[-1]["ОбособленноеПодразделение"] is True


def test_create_counterparty_and_contract(sandbox: Sandbox, bas: BasConnector) -> None:
    ref = objects.create_counterparty(bas, "ТОВ «Світанок»", "43211234", Комментарий="з CRM")
    assert [r["Ref_Key"] for r in objects.find_counterparty(bas, "43211234")] == [ref]
    contract = objects.create_contract(
        bas,
        ref,
        sandbox.seed.organisation.ref_key,
        sandbox.seed.currency_ref_key,
        name="Основний договір",
    )
    stored = bas.get("contract", contract)
    assert stored is not None and stored["Owner_Key"] == ref
    assert stored["ВидДоговора"] == "СПокупателем"
    if bas.profile.name == "bas-buh":  # settles by documents, so Сделка on payments means it
        assert stored["ВедениеВзаиморасчетов"] == "ПоРасчетнымДокументам"


def test_invoice_lines_go_to_the_profiles_sections(sandbox: Sandbox, bas: BasConnector) -> None:
    created = objects.create_invoice(bas, header(sandbox), lines(sandbox))
    goods, service = lines(sandbox)
    stored = sandbox.bas.invoice(created["Ref_Key"])
    assert Decimal(str(stored["СуммаДокумента"])) == goods.amount + service.amount
    assert created["Number"] and created["Posted"] is False
    if bas.profile.name == "bas-buh":
        assert [r["Номенклатура_Key"] for r in stored["Товары"]] == [goods.product]
        assert [r["Номенклатура_Key"] for r in stored["Услуги"]] == [service.product]
        assert stored["Услуги"][0]["Содержание"] == "Налаштування"
    else:
        assert [r["Номенклатура_Key"] for r in stored["Товары"]] == [goods.product, service.product]
        assert [r["LineNumber"] for r in stored["Товары"]] == ["1", "2"]
    bas.post("invoice", created["Ref_Key"])
    assert sandbox.bas.invoice(created["Ref_Key"])["Posted"] is True


def test_invoice_vat_is_included_in_the_amount(sandbox: Sandbox, bas: BasConnector) -> None:
    goods = next(p for p in sandbox.seed.products if p.vat_rate == "НДС20")
    line = Line(goods.ref_key, Decimal(3), goods.price, "НДС20")
    created = objects.create_invoice(bas, header(sandbox), [line])
    row = created[bas.profile.goods_section][0]
    assert Decimal(str(row["СуммаНДС"])) == (goods.price * 3 / 6).quantize(Decimal("0.01"))


def test_invoice_with_own_ref_is_created_once(sandbox: Sandbox, bas: BasConnector) -> None:
    ref = "7d1c0f4e-1b2a-5c3d-8e4f-000000004711"
    first = objects.create_invoice(bas, header(sandbox), lines(sandbox), ref=ref)
    again = objects.create_invoice(bas, header(sandbox), lines(sandbox), ref=ref)
    assert first["Number"] == again["Number"]
    assert [i["Ref_Key"] for i in sandbox.bas.invoices()].count(ref) == 1


def test_prices_of_a_price_type_are_the_latest(sandbox: Sandbox, bas: BasConnector) -> None:
    found = objects.prices(bas, sandbox.seed.price_type_ref_key)
    assert found == {p.ref_key: p.price for p in sandbox.seed.products}
    older = objects.prices(
        bas, sandbox.seed.price_type_ref_key, datetime.fromisoformat(OLD_PRICE_PERIOD)
    )
    assert older == {
        p.ref_key: (p.price * Decimal("0.9")).quantize(Decimal("0.01"))
        for p in sandbox.seed.products
    }
    assert objects.prices(bas, "5b6f4c1e-0000-4000-8000-000000000000") == {}


def test_products_leave_folders_out(sandbox: Sandbox, bas: BasConnector) -> None:
    found = list(objects.products(bas))
    assert sorted(r["Ref_Key"] for r in found) == sorted(p.ref_key for p in sandbox.seed.products)
    assert len(list(objects.products(bas, folders=True))) == len(found) + 2
