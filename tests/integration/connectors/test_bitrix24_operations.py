"""Bitrix24-specific operations against the sandbox over real HTTP: deals, companies, files,
tasks, products, offline events. Assertions read the sandbox's own state."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from crmbridge.connectors.bitrix24 import Bitrix24Connector
from crmbridge.connectors.http import RemoteNotFound
from crmbridge.errors import Permanent
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from crmbridge.store.journal import exchanges_for
from tests.integration.connectors.bitrix24_support import b24_app_connector, sandbox_and_connector

PDF = b"%PDF-1.4\n% \xd0\xa0\xd0\xb0\xd1\x85\xd1\x83\xd0\xbd\xd0\xbe\xd0\xba\n%%EOF\n"


@pytest.fixture
def b24() -> Iterator[tuple[Sandbox, Bitrix24Connector]]:
    with sandbox_and_connector(None) as pair:
        yield pair


def stored(sandbox: Sandbox, table: str) -> dict[int, dict[str, object]]:
    with sandbox.bitrix24.portal.lock:
        return {k: dict(v) for k, v in sandbox.bitrix24.portal.table(table).items()}


def test_deal_bundle_reads_deal_rows_company_and_requisites_in_one_request(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    seeded = next(d for d in sandbox.seed.deals if d.company_id)
    company = next(c for c in sandbox.seed.companies if c.id == seeded.company_id)
    sandbox.control.reset_stats()
    bundle = connector.deals.bundle(seeded.id)
    assert sandbox.control.stats()["bitrix24"]["by_method"] == {"batch": 1}
    assert bundle["deal"]["ID"] == str(seeded.id)
    assert bundle["company"]["ID"] == str(company.id)
    assert len(bundle["rows"]) == len(seeded.rows)
    assert [r["RQ_EDRPOU"] for r in bundle["requisites"]] == (
        [company.edrpou] if company.edrpou else []
    )


def test_deal_bundle_without_a_company(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    _, connector = b24
    deal_id = connector.put("deal", {"TITLE": "Без компанії"})
    bundle = connector.deals.bundle(deal_id)
    assert bundle["company"] is None and bundle["requisites"] == [] and bundle["rows"] == []


def test_deal_bundle_of_a_missing_deal(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    with pytest.raises(RemoteNotFound):
        b24[1].deals.bundle(99999)


def test_company_with_requisites_and_lookup_by_tax_code(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    company = next(c for c in sandbox.seed.companies if c.edrpou)
    found = connector.companies.with_requisites(company.id)
    assert found["TITLE"] == company.title
    assert [r["RQ_EDRPOU"] for r in found["REQUISITES"]] == [company.edrpou]
    assert connector.companies.find_by_tax_code(str(company.edrpou)) == str(company.id)
    assert connector.companies.find_by_tax_code("00000000") is None


def test_lookup_by_ipn_and_a_new_requisite(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    sandbox, connector = b24
    company_id = connector.put("company", {"TITLE": "ФОП Шевченко Т. Г."})
    requisite_id = connector.companies.add_requisite(
        company_id, {"NAME": "ФОП", "RQ_DRFO": "3012345678"}, preset_id=3
    )
    assert stored(sandbox, "requisite")[int(requisite_id)]["ENTITY_ID"] == company_id
    assert connector.companies.find_by_tax_code("3012345678") == company_id


def test_product_rows_replace_and_recompute_the_amount(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    deal_id = connector.put("deal", {"TITLE": "Рядки"})
    rows = [
        {"PRODUCT_ID": 1, "PRODUCT_NAME": "Папір А4", "PRICE": 120, "QUANTITY": 3},
        {"PRODUCT_ID": 0, "PRODUCT_NAME": "Доставка", "PRICE": 250.5, "QUANTITY": 1},
    ]
    connector.deals.set_rows(deal_id, rows)
    assert [r["PRODUCT_NAME"] for r in connector.deals.rows(deal_id)] == ["Папір А4", "Доставка"]
    assert sandbox.bitrix24.deal(int(deal_id))["OPPORTUNITY"] == "610.50"
    connector.deals.set_rows(deal_id, rows[:1])
    assert len(connector.deals.rows(deal_id)) == 1


def test_stages_categories_and_user_fields(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    _, connector = b24
    assert [c["id"] for c in connector.deals.categories()] == [0, 1]  # default, «Дилери»
    stages = [s["STATUS_ID"] for s in connector.deals.stages()]
    assert stages[0] == "NEW" and "PREPAYMENT_INVOICE" in stages and "DEAL_TYPE" not in stages
    fields = connector.deals.fields()
    assert fields["UF_CRM_INVOICE_PDF"]["type"] == "file"
    assert fields["UF_CRM_INVOICE_PDF"]["isMultiple"] is True


def test_user_fields_are_written_and_read(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    _, connector = b24
    deal_id = connector.put("deal", {"TITLE": "Поля"})
    connector.put("deal", {"UF_CRM_INVOICE_NUMBER": "СФ-000017"}, deal_id)
    deal = connector.get("deal", deal_id)
    assert deal is not None and deal["UF_CRM_INVOICE_NUMBER"] == "СФ-000017"


def test_attach_pdf_posts_a_comment_and_keeps_earlier_files(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    deal_id = connector.put("deal", {"TITLE": "Рахунок"})
    first = connector.deals.attach_pdf(deal_id, "Рахунок-1.pdf", PDF, comment="Рахунок №1")
    second = connector.deals.attach_pdf(deal_id, "Рахунок-2.pdf", PDF + b"2", comment="№2")
    assert len(second.file_ids) == 2 and second.file_ids[0] == first.file_ids[0]
    comments = sandbox.bitrix24.comments(int(deal_id))
    assert [c["COMMENT"] for c in comments] == ["Рахунок №1", "№2"]
    [attached] = comments[0]["FILES"].values()
    assert attached["name"] == "Рахунок-1.pdf"
    with sandbox.bitrix24.portal.lock:
        files = sandbox.bitrix24.portal.files
        contents = [base64.b64decode(files[i]["content"]) for i in second.file_ids]
    assert contents == [PDF, PDF + b"2"]


def test_a_task_is_bound_to_the_deal(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    sandbox, connector = b24
    deal_id = connector.put("deal", {"TITLE": "Оплачено"})
    task_id = connector.deals.add_task(
        deal_id, "Відвантажити замовлення", 2, description="Оплату отримано", deadline=None
    )
    task = stored(sandbox, "task")[int(task_id)]
    assert task["UF_CRM_TASK"] == [f"D_{deal_id}"] and task["RESPONSIBLE_ID"] == "2"
    assert [t["id"] for t in connector.deals.tasks(deal_id)] == [task_id]


def test_upsert_products_creates_then_updates_by_xml_id(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    before = len(stored(sandbox, "product"))
    records = [
        {"NAME": f"Товар «{n}»", "XML_ID": f"ref-{n:04d}", "PRICE": "10.00"} for n in range(120)
    ]
    sandbox.control.reset_stats()
    ids = connector.upsert_products(records)
    assert sandbox.control.stats()["bitrix24"]["by_method"] == {"batch": 4}  # 1 lookup + 3 writes
    assert len(set(ids)) == 120 and len(stored(sandbox, "product")) == before + 120
    changed = [{**r, "PRICE": "12.50"} for r in records[:60]]
    assert connector.upsert_products(changed) == ids[:60]
    products = stored(sandbox, "product")
    assert len(products) == before + 120
    assert {products[int(i)]["PRICE"] for i in ids[:60]} == {"12.50"}
    assert products[int(ids[60])]["NAME"] == "Товар «60»"


def test_upsert_refuses_records_without_distinct_keys(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    with pytest.raises(Permanent):
        b24[1].upsert_products([{"NAME": "a", "XML_ID": "x"}, {"NAME": "b", "XML_ID": "x"}])
    with pytest.raises(Permanent):
        b24[1].upsert_products([{"NAME": "a"}])


def test_iterate_with_a_cyrillic_filter(b24: tuple[Sandbox, Bitrix24Connector]) -> None:
    _, connector = b24
    key = connector.put("company", {"TITLE": "Ґрунтовна «Їжачок» & Co"})
    found = list(connector.iterate("company", {"%TITLE": "Їжачок"}))
    assert [c["ID"] for c in found] == [key]


def test_catching_up_on_many_changes_reads_each_page_once(
    b24: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24
    records = [{"NAME": f"Т{n}", "XML_ID": f"x{n}"} for n in range(400)]
    connector.upsert_products(records)  # 400 products stamped within a second or two
    sandbox.control.reset_stats()
    cursor, reported = None, []
    while page := connector.changes("product", cursor):
        cursor = page.cursor
        if not page.records:
            break
        reported += [r["ID"] for r in page.records]
    assert len(reported) == len(set(reported)) == len(stored(sandbox, "product"))
    lists = sandbox.control.stats()["bitrix24"]["by_method"]["crm.product.list"]
    # 410 records = 9 pages; resuming from the cursor's position, not from its lower bound,
    # keeps it near that (the last, empty poll re-reads the overlap window once).
    assert lists <= 2 * 9 + 12, lists


@pytest.fixture
def b24_app(b24: tuple[Sandbox, Bitrix24Connector]) -> Iterator[tuple[Sandbox, Bitrix24Connector]]:
    """The same sandbox, through an installed local application (event.* need one)."""
    sandbox, _ = b24
    with httpx.Client() as client:
        yield sandbox, b24_app_connector(sandbox, client)


def test_offline_events_are_reserved_until_confirmed(
    b24_app: tuple[Sandbox, Bitrix24Connector],
) -> None:
    sandbox, connector = b24_app
    sandbox.bitrix24.call("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    deal_id = sandbox.seed.deals[0].id
    sandbox.bitrix24.update_deal(deal_id, {"TITLE": "перша зміна"})
    sandbox.bitrix24.update_deal(deal_id, {"TITLE": "друга зміна"})  # collapses into one record
    first = connector.offline.reserve()
    assert [(e.event_type, e.entity_kind, e.entity_id) for e in first.events] == [
        ("ONCRMDEALUPDATE", "deal", str(deal_id))
    ]
    assert connector.offline.reserve().events == []  # reserved: not handed to anyone else
    sandbox.bitrix24.update_deal(sandbox.seed.deals[1].id, {"TITLE": "третя"})
    again = connector.offline.reserve(process_id=first.process_id)  # after a crash
    assert {e.entity_id for e in again.events} == {str(deal_id), str(sandbox.seed.deals[1].id)}
    connector.offline.confirm(again)
    assert connector.offline.reserve(process_id=first.process_id).events == []
    assert sandbox.bitrix24.call("event.offline.list", {}) == []


def test_operations_are_in_the_exchange_log_under_the_deal(db: Database) -> None:
    with sandbox_and_connector(db) as (_, connector):
        deal_id = connector.put("deal", {"TITLE": "Журнал"})
        connector.deals.attach_pdf(deal_id, "r.pdf", PDF * 2000, comment="Рахунок")
    rows = exchanges_for(db, business_key=f"deal:{deal_id}")
    assert [r["operation"] for r in rows] == [
        "crm.deal.get",
        "crm.timeline.comment.add",
        "crm.deal.update",
        "crm.deal.get",
    ]
    assert all(len(r["request_body"]) < 4200 for r in rows)  # a big PDF is cut, not stored
