"""Catalog and prices BAS → CRM: full load in batches, resumable, then increments."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmbridge.app import Application
from crmbridge.flows import catalog
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import links
from crmbridge.store.database import Database
from tests.e2e.test_cli_database import crmbridge
from tests.support.sandbox import running_sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
SIZE = 130


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(seed_size=SIZE) as running:
        yield running


def _crm_products(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    found = {}
    start = 0
    while True:
        page = sandbox.bitrix24.call(
            "crm.product.list",
            {
                "select": ["ID", "NAME", "PRICE", "XML_ID"],
                "filter": {">ID": start},
                "order": {"ID": "ASC"},
                "start": -1,
            },
        )
        if not page:
            break
        found.update({str(p["XML_ID"]): p for p in page})
        start = int(page[-1]["ID"])
    return found


def test_full_load_then_an_increment(sandbox: Sandbox, app: Application, db: Database) -> None:
    ctx = app.context()
    saved: list[dict[str, Any]] = []
    first = catalog.sync(ctx, full=True, state=None, save=saved.append)
    products = [
        p for p in sandbox.bas.service.store.rows("Catalog_Номенклатура") if not p.get("IsFolder")
    ]
    assert first.seen == len(products) == SIZE and first.written == SIZE
    crm = _crm_products(sandbox)
    prices = {
        r["Номенклатура_Key"]: Decimal(str(r["Цена"]))
        for r in sandbox.bas.service.store.rows("InformationRegister_ЦеныНоменклатуры")
    }
    for product in products:
        mirrored = crm[str(product["Ref_Key"])]
        assert mirrored["NAME"] == product["Description"]
        assert Decimal(str(mirrored["PRICE"])) == prices[product["Ref_Key"]]
        assert links.crm_id(db, "product", str(product["Ref_Key"])) == str(mirrored["ID"])
    batches = sandbox.control.stats()["bitrix24"]["by_method"]["batch"]
    assert batches <= SIZE // 50 + 3  # 50 writes per request, plus the lookups

    ref = str(products[7]["Ref_Key"])
    changed = httpx.patch(
        f"{sandbox.odata_url}Catalog_Номенклатура(guid'{ref}')?$format=json",
        json={"Description": "Нова назва"},
        auth=("Адміністратор".encode(), b"sandbox"),
    )
    assert changed.status_code == 200
    again = catalog.sync(ctx, full=False, state=saved[-1], save=saved.append)
    assert (again.seen, again.written) == (SIZE, 1)
    assert _crm_products(sandbox)[ref]["NAME"] == "Нова назва"


def test_an_interrupted_full_load_resumes(
    sandbox: Sandbox, app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = app.context()
    monkeypatch.setattr(catalog, "CHUNK", 50)
    monkeypatch.setattr(catalog, "FIRST_CHUNK", 50)
    saved: list[dict[str, Any]] = []
    original = ctx.crm.products.upsert
    calls = {"n": 0}

    def failing_second_time(records: list[dict[str, Any]], **kw: Any) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("the network went away")
        return original(records, **kw)

    monkeypatch.setattr(ctx.crm.products, "upsert", failing_second_time)
    with pytest.raises(ConnectionError):
        catalog.sync(ctx, full=True, state=None, save=saved.append)
    assert len(saved[-1]["fingerprints"]) == 50 and saved[-1]["full_running"]
    monkeypatch.setattr(ctx.crm.products, "upsert", original)
    resumed = catalog.sync(ctx, full=True, state=saved[-1], save=saved.append)
    assert (resumed.seen, resumed.written) == (SIZE - 50, SIZE - 50)
    assert len(_crm_products(sandbox)) == SIZE
    assert len(saved[-1]["fingerprints"]) == SIZE and not saved[-1]["full_running"]


def test_the_command_shows_progress_and_counts(sandbox: Sandbox, db_url: str) -> None:
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url, "CRMBRIDGE_DATABASE_URL": db_url}
    result = crmbridge("sync", "catalog", "--full", "--config", str(EXAMPLE), env=env)
    assert result.returncode == 0, result.stderr
    assert f"{SIZE} products read, {SIZE} written, 0 unchanged" in result.stdout


def test_a_new_price_reaches_open_deals_but_not_a_manual_discount(
    sandbox: Sandbox, app: Application, db: Database
) -> None:
    from crmbridge.store import journal

    ctx = app.context()
    saved: list[dict[str, Any]] = []
    catalog.sync(ctx, full=True, state=None, save=saved.append)
    rows = sandbox.bitrix24.call("crm.deal.productrows.get", {"id": 2})
    discounted = [
        {
            "PRODUCT_ID": r["PRODUCT_ID"],
            "PRICE": r["PRICE"],
            "QUANTITY": r["QUANTITY"],
            "DISCOUNT_TYPE_ID": 2,
            "DISCOUNT_RATE": 10,
        }
        for r in rows
    ]
    sandbox.bitrix24.call("crm.deal.productrows.set", {"id": 2, "rows": discounted})
    kept = sandbox.bitrix24.call("crm.deal.productrows.get", {"id": 2})[0]["PRICE"]
    seed = sandbox.seed
    for index in (0, 1):  # deal 1 has product 0 at list price; deal 2 product 1, discounted
        sandbox.bas.service.store.add_record(
            "InformationRegister_ЦеныНоменклатуры",
            {
                "Period": "2030-01-01T00:00:00",
                "Номенклатура_Key": seed.products[index].ref_key,
                "ТипЦен_Key": seed.price_type_ref_key,
                "Цена": Decimal("777.00"),
                "Валюта_Key": seed.currency_ref_key,
            },
        )
    result = catalog.sync(ctx, full=False, state=saved[-1], save=saved.append)
    assert result.written == 2
    deal1 = sandbox.bitrix24.call("crm.deal.productrows.get", {"id": 1})
    assert [Decimal(str(r["PRICE"])) for r in deal1 if str(r["PRODUCT_ID"]) == "1"] == [
        Decimal("777.00")
    ]
    deal2 = sandbox.bitrix24.call("crm.deal.productrows.get", {"id": 2})
    assert deal2[0]["PRICE"] == kept
    rules = [d["rule"] for d in journal.decisions_for(db, "deal", "2")]
    assert rules == ["keep a manual discount"]
