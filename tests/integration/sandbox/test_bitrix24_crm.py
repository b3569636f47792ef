"""Legacy CRM methods of the Bitrix24 emulator: records, lists, filters, writes, errors."""

from __future__ import annotations

import pytest

from crmbridge.sandbox.seed import build
from tests.integration.sandbox.b24 import Portal

NOT_FOUND = {"error": "", "error_description": "Not found"}


def test_deal_values_are_strings_as_in_legacy_methods(portal: Portal) -> None:
    deal = portal.result("crm.deal.get", {"id": 1})
    for key in ("ID", "OPPORTUNITY", "CATEGORY_ID", "COMPANY_ID", "ASSIGNED_BY_ID"):
        assert isinstance(deal[key], str), key
    assert deal["LEAD_ID"] is None
    assert deal["STAGE_SEMANTIC_ID"] == "P" and deal["CLOSED"] == "N"
    assert deal["OPPORTUNITY"].count(".") == 1 and len(deal["OPPORTUNITY"].split(".")[1]) == 2


def test_seed_is_loaded(portal: Portal) -> None:
    seed = build()
    deals = portal.result("crm.deal.list", {"select": ["ID", "TITLE", "COMPANY_ID", "STAGE_ID"]})
    assert [d["TITLE"] for d in deals] == [d.title for d in seed.deals]
    assert {d["STAGE_ID"] for d in deals} == {"NEW", "PREPARATION"}
    companies = portal.result("crm.company.list", {})
    assert [c["TITLE"] for c in companies] == [c.title for c in seed.companies]
    users = portal.result("user.get", {})
    assert [u["ID"] for u in users] == [str(r.id) for r in seed.reps]
    assert users[0]["ACTIVE"] is True


def test_requisites_carry_tax_codes_and_point_at_companies(portal: Portal) -> None:
    seed = build()
    with_code = next(c for c in seed.companies if c.edrpou)
    found = portal.result(
        "crm.requisite.list",
        {
            "filter": {"RQ_EDRPOU": with_code.edrpou},
            "select": ["ENTITY_TYPE_ID", "ENTITY_ID", "RQ_EDRPOU", "RQ_INN"],
        },
    )
    assert found == [
        {
            "ID": found[0]["ID"],
            "ENTITY_TYPE_ID": "4",
            "ENTITY_ID": str(with_code.id),
            "RQ_EDRPOU": with_code.edrpou,
            "RQ_INN": with_code.inn,
        }
    ]
    without = [c for c in seed.companies if c.edrpou is None]
    every = portal.result("crm.requisite.list", {"select": ["ENTITY_ID"]})
    assert {r["ENTITY_ID"] for r in every}.isdisjoint({str(c.id) for c in without})


def test_crm_products_mirror_the_bas_catalog(portal: Portal) -> None:
    seed = build()
    products = portal.result("crm.product.list", {"select": ["ID", "NAME", "XML_ID", "PRICE"]})
    assert len(products) == seed.crm_product_count
    for i, product in enumerate(products):
        assert product["ID"] == str(i + 1)
        assert product["XML_ID"] == seed.products[i].ref_key
        assert product["NAME"] == seed.products[i].name
        assert isinstance(product["PRICE"], str)


def test_list_pages_of_fifty_with_next_and_total(portal: Portal) -> None:
    for n in range(60):
        portal.sandbox.call("crm.deal.add", {"fields": {"TITLE": f"Масова {n}"}})
    first = portal.call("crm.deal.list", {"select": ["ID"]}).json()
    assert len(first["result"]) == 50 and first["next"] == 50 and first["total"] == 67
    last = portal.call("crm.deal.list", {"select": ["ID"], "start": 50}).json()
    assert len(last["result"]) == 17 and "next" not in last and last["total"] == 67
    assert last["result"][-1] == {"ID": "67"}


def test_start_minus_one_skips_the_count(portal: Portal) -> None:
    for n in range(55):
        portal.sandbox.call("crm.deal.add", {"fields": {"TITLE": f"Масова {n}"}})
    body = portal.call(
        "crm.deal.list",
        {"select": ["ID"], "order": {"ID": "ASC"}, "filter": {">ID": 0}, "start": -1},
    ).json()
    assert body["total"] == 0 and "next" not in body
    assert len(body["result"]) == 50
    tail = portal.call(
        "crm.deal.list", {"select": ["ID"], "filter": {">ID": 50}, "start": -1}
    ).json()
    assert [d["ID"] for d in tail["result"]] == [str(i) for i in range(51, 63)]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"=STAGE_ID": "NEW"}, ["5", "6", "7"]),
        ({"STAGE_ID": "PREPARATION"}, ["1", "2", "3", "4"]),
        ({">ID": 5}, ["6", "7"]),
        ({">=ID": "5"}, ["5", "6", "7"]),
        ({"<ID": 3}, ["1", "2"]),
        ({"<=ID": 3}, ["1", "2", "3"]),
        ({"!STAGE_ID": "NEW"}, ["1", "2", "3", "4"]),
        ({"%TITLE": "енерг"}, ["5"]),
        ({"@ID": [2, 4]}, ["2", "4"]),
        ({"COMPANY_ID": 3, "STAGE_ID": "PREPARATION"}, ["3"]),
        ({"UNKNOWN_FIELD": "x"}, []),
    ],
)
def test_filter_operators(portal: Portal, flt: dict[str, object], expected: list[str]) -> None:
    deals = portal.result("crm.deal.list", {"filter": flt, "select": ["ID"]})
    assert [d["ID"] for d in deals] == expected


def test_order_by_several_fields(portal: Portal) -> None:
    deals = portal.result(
        "crm.deal.list", {"order": {"STAGE_ID": "ASC", "ID": "DESC"}, "select": ["ID"]}
    )
    assert [d["ID"] for d in deals] == ["7", "6", "5", "4", "3", "2", "1"]
    by_amount = portal.result("crm.deal.list", {"order": {"OPPORTUNITY": "DESC"}, "select": ["*"]})
    amounts = [float(d["OPPORTUNITY"]) for d in by_amount]
    assert amounts == sorted(amounts, reverse=True)


def test_select_star_omits_user_fields_unless_asked(portal: Portal) -> None:
    plain = portal.result("crm.deal.list", {"select": ["*"], "filter": {"ID": 1}})[0]
    assert "TITLE" in plain and "UF_CRM_INVOICE_NUMBER" not in plain
    full = portal.result("crm.deal.list", {"select": ["*", "UF_*"], "filter": {"ID": 1}})[0]
    assert full["UF_CRM_INVOICE_NUMBER"] is None and full["UF_CRM_INVOICE_PDF"] == []


def test_add_ignores_unknown_and_read_only_fields(portal: Portal) -> None:
    new_id = portal.result(
        "crm.deal.add",
        {
            "fields": {
                "TITLE": "Нова",
                "NO_SUCH_FIELD": "x",
                "ID": 999,
                "COMPANY_ID": 2,
                "CATEGORY_ID": 5,
            }
        },
    )
    assert isinstance(new_id, int) and new_id == 8
    deal = portal.result("crm.deal.get", {"id": new_id})
    assert deal["TITLE"] == "Нова" and deal["COMPANY_ID"] == "2" and "NO_SUCH_FIELD" not in deal
    assert deal["STAGE_ID"] == "NEW" and deal["CATEGORY_ID"] == "0" and deal["OPENED"] == "Y"


def test_update_writes_user_fields_and_derives_stage_fields(portal: Portal) -> None:
    fields = {
        "STAGE_ID": "WON",
        "UF_CRM_INVOICE_NUMBER": "СФ-000123",
        "UF_CRM_PAYMENT_STATUS": "paid",
        "WHATEVER": 1,
    }
    assert portal.result("crm.deal.update", {"id": 3, "fields": fields}) is True
    deal = portal.result("crm.deal.get", {"id": 3})
    assert deal["UF_CRM_INVOICE_NUMBER"] == "СФ-000123"
    assert deal["UF_CRM_PAYMENT_STATUS"] == "paid"
    assert (deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("WON", "S", "Y")


@pytest.mark.parametrize("method", ["crm.deal.get", "crm.company.get", "crm.product.get"])
def test_get_of_missing_record_is_not_found(portal: Portal, method: str) -> None:
    response = portal.call(method, {"id": 9999})
    assert response.status_code == 400
    assert response.json() == NOT_FOUND


def test_update_of_missing_deal_and_bad_ids(portal: Portal) -> None:
    missing = portal.call("crm.deal.update", {"id": 9999, "fields": {"TITLE": "x"}})
    assert (missing.status_code, missing.json()) == (400, NOT_FOUND)
    bad = portal.call("crm.deal.get", {"id": "abc"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "", "error_description": "ID is not defined or invalid."}
    no_fields = portal.call("crm.deal.add", {"fields": "TITLE"})
    assert no_fields.json() == {
        "error": "",
        "error_description": "Parameter 'fields' must be array.",
    }


def test_company_add_update_with_phone(portal: Portal) -> None:
    fields = {"TITLE": "Нова Компанія", "PHONE": [{"VALUE": "+380441112233", "VALUE_TYPE": "WORK"}]}
    cid = portal.result("crm.company.add", {"fields": fields})
    portal.result("crm.company.update", {"id": cid, "fields": {"TITLE": "Перейменована"}})
    company = portal.result("crm.company.get", {"id": cid})
    assert company["TITLE"] == "Перейменована" and company["HAS_PHONE"] == "Y"
    assert company["PHONE"][0]["VALUE"] == "+380441112233"
    assert set(company["PHONE"][0]) == {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}
    listed = portal.result("crm.company.list", {"filter": {"ID": cid}})[0]
    assert "PHONE" not in listed  # multi-fields only when selected
    selected = portal.result("crm.company.list", {"filter": {"ID": cid}, "select": ["PHONE"]})
    assert selected[0]["PHONE"][0]["VALUE"] == "+380441112233"


def test_contacts(portal: Portal) -> None:
    contacts = portal.result("crm.contact.list", {"filter": {"COMPANY_ID": 2}})
    assert len(contacts) == 1 and contacts[0]["COMPANY_ID"] == "2"
    contact = portal.result("crm.contact.get", {"id": contacts[0]["ID"]})
    assert contact["NAME"] and contact["LAST_NAME"]


def test_requisite_add_update_and_documented_errors(portal: Portal) -> None:
    fields = {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 7, "PRESET_ID": 1, "RQ_EDRPOU": "44001239"}
    rid = portal.result("crm.requisite.add", {"fields": {**fields, "NAME": "Реквізити"}})
    portal.result("crm.requisite.update", {"id": rid, "fields": {"RQ_INN": "440012340123"}})
    found = portal.result("crm.requisite.list", {"filter": {"RQ_EDRPOU": "44001239"}})
    assert found[0]["ENTITY_ID"] == "7" and found[0]["RQ_INN"] == "440012340123"
    cases = [
        ({**fields, "ENTITY_TYPE_ID": None}, "ENTITY_TYPE_ID is not defined or invalid."),
        ({**fields, "ENTITY_ID": 0}, "ENTITY_ID is not defined or invalid."),
        ({**fields, "PRESET_ID": ""}, "PRESET_ID is not defined or invalid."),
        ({**fields, "ENTITY_ID": 555}, "Entity not found."),
    ]
    for bad, message in cases:
        response = portal.call("crm.requisite.add", {"fields": bad})
        assert response.status_code == 400
        assert response.json() == {"error": "", "error_description": message}


def test_product_add_update(portal: Portal) -> None:
    pid = portal.result("crm.product.add", {"fields": {"NAME": "Новий товар", "PRICE": 12.5}})
    portal.result("crm.product.update", {"id": pid, "fields": {"XML_ID": "ref-1", "PRICE": "99"}})
    product = portal.result("crm.product.get", {"id": pid})
    assert (product["NAME"], product["PRICE"], product["XML_ID"]) == (
        "Новий товар",
        "99.00",
        "ref-1",
    )


def test_deal_fields_describe_the_user_fields(portal: Portal) -> None:
    fields = portal.result("crm.deal.fields")
    assert fields["STAGE_ID"]["statusType"] == "DEAL_STAGE"
    assert fields["UF_CRM_INVOICE_NUMBER"]["type"] == "string"
    assert fields["UF_CRM_PAYMENT_STATUS"]["type"] == "string"
    pdf = fields["UF_CRM_INVOICE_PDF"]
    assert (pdf["type"], pdf["isMultiple"], pdf["isDynamic"]) == ("file", True, True)


def test_funnel_stages_and_category(portal: Portal) -> None:
    stages = portal.result("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    assert [s["STATUS_ID"] for s in stages] == [
        "NEW",
        "PREPARATION",
        "PREPAYMENT_INVOICE",
        "UC_PAID",
        "EXECUTING",
        "WON",
        "LOSE",
    ]
    names = {s["STATUS_ID"]: s["NAME"] for s in stages}
    assert names["PREPAYMENT_INVOICE"] == "Рахунок" and names["UC_PAID"] == "Оплачено"
    assert stages[-2]["EXTRA"]["SEMANTICS"] == "success"
    categories = portal.call("crm.category.list", {"entityTypeId": 2}).json()
    assert categories["result"]["categories"][0]["id"] == 0 and categories["total"] == 2
