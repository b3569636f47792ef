"""Deal user fields as portal state: `crm.deal.userfield.{add,list,get,update,delete}`.

Sources: `bitrix24/b24restdocs`, `api-reference/crm/deals/user-defined-fields/*.md` (parameters,
answers and error tables) and `crm/requisites/user-fields/crm-requisite-userfield-add.md` (the body
of a duplicate name); recorded shapes in `tests/fixtures/recorded/bitrix24/`.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from crmbridge.sandbox.bitrix24.userfields import LABELS
from tests.integration.sandbox.b24 import Portal, assert_same_shape, running_portal
from tests.integration.sandbox.test_bitrix24_recorded import compare, recorded

SEEDED = ["UF_CRM_INVOICE_NUMBER", "UF_CRM_PAYMENT_STATUS", "UF_CRM_INVOICE_PDF"]


def add(portal: Portal, **fields: Any) -> int:
    new_id = portal.result("crm.deal.userfield.add", {"fields": fields})
    assert isinstance(new_id, int)
    return new_id


def error(portal: Portal, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str]]:
    response = portal.call(method, params)
    return response.status_code, response.json()


def test_the_seed_creates_crmbridges_three_fields(portal: Portal) -> None:
    body = portal.call("crm.deal.userfield.list", {}).json()
    assert [f["FIELD_NAME"] for f in body["result"]] == SEEDED
    assert [f["USER_TYPE_ID"] for f in body["result"]] == ["string", "string", "file"]
    assert body["total"] == 3 and "next" not in body
    pdf = body["result"][2]
    assert (pdf["ENTITY_ID"], pdf["MULTIPLE"], pdf["MANDATORY"]) == ("CRM_DEAL", "Y", "N")
    assert not set(LABELS) & set(pdf)  # labels come only with filter.LANG


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("manager_note", "UF_CRM_MANAGER_NOTE"),
        ("UF_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("UF_CRM_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("A" * 43, "UF_CRM_" + "A" * 43),
    ],
)
def test_add_names_the_field_as_the_portal_does(portal: Portal, given: str, stored: str) -> None:
    field_id = add(portal, FIELD_NAME=given, USER_TYPE_ID="string")
    assert portal.result("crm.deal.userfield.get", {"id": field_id})["FIELD_NAME"] == stored


def test_a_new_field_is_described_and_carried_by_every_deal(portal: Portal) -> None:
    add(portal, FIELD_NAME="CONTRACT", USER_TYPE_ID="string", LABEL="Договір", MANDATORY="Y")
    add(portal, FIELD_NAME="TAGS", USER_TYPE_ID="string", MULTIPLE="Y")
    described = portal.result("crm.deal.fields")["UF_CRM_CONTRACT"]
    assert described["isDynamic"] is True and described["isRequired"] is True
    assert described["title"] == "UF_CRM_CONTRACT"
    assert described["listLabel"] == described["formLabel"] == described["filterLabel"] == "Договір"
    assert described["settings"]["DEFAULT_VALUE"] == ""
    before = portal.result("crm.deal.get", {"id": 1})
    assert (before["UF_CRM_CONTRACT"], before["UF_CRM_TAGS"]) == (None, [])
    fields = {"UF_CRM_CONTRACT": "Д-17", "UF_CRM_TAGS": ["опт", "дилер"]}
    portal.result("crm.deal.update", {"id": 1, "fields": fields})
    after = portal.result("crm.deal.get", {"id": 1})
    assert (after["UF_CRM_CONTRACT"], after["UF_CRM_TAGS"]) == ("Д-17", ["опт", "дилер"])
    new_id = portal.result("crm.deal.add", {"fields": {"TITLE": "Нова", "UF_CRM_CONTRACT": "Д-18"}})
    assert portal.result("crm.deal.get", {"id": new_id})["UF_CRM_CONTRACT"] == "Д-18"
    listed = portal.result(
        "crm.deal.list", {"filter": {"UF_CRM_CONTRACT": "Д-17"}, "select": ["ID"]}
    )
    assert listed == [{"ID": "1"}]


def test_a_new_file_field_holds_files_like_the_invoice_pdf(portal: Portal) -> None:
    add(portal, FIELD_NAME="ACT_PDF", USER_TYPE_ID="file", MULTIPLE="Y")
    pdf = {"fileData": ["act.pdf", base64.b64encode(b"%PDF-act").decode()]}
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_ACT_PDF": pdf}})
    value = portal.result("crm.deal.get", {"id": 2})["UF_CRM_ACT_PDF"]
    assert [set(v) for v in value] == [{"id", "showUrl", "downloadUrl"}]
    assert portal.client.get(value[0]["downloadUrl"]).content == b"%PDF-act"
    single = add(portal, FIELD_NAME="SCAN", USER_TYPE_ID="file")
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_SCAN": pdf}})
    scan = portal.result("crm.deal.get", {"id": 2})["UF_CRM_SCAN"]
    assert set(scan) == {"id", "showUrl", "downloadUrl"}  # one file: an object, not a list
    assert portal.result("crm.deal.userfield.get", {"id": single})["MULTIPLE"] == "N"


NOT_FOUND_NAME = "The 'FIELD_NAME' field is not found."
NOT_FOUND_TYPE = "The 'USER_TYPE_ID' field is not found."
TOO_LONG = "Field name is too long (more than 50 characters)."
BAD_CHARS = "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."


@pytest.mark.parametrize(
    ("fields", "code", "description"),
    [
        ({"USER_TYPE_ID": "string"}, "", NOT_FOUND_NAME),
        ({"FIELD_NAME": "  ", "USER_TYPE_ID": "string"}, "", NOT_FOUND_NAME),
        ({"FIELD_NAME": "NOTE"}, "", NOT_FOUND_TYPE),
        ({}, "", f"{NOT_FOUND_TYPE}\n{NOT_FOUND_NAME}"),
        ({"FIELD_NAME": "A" * 44, "USER_TYPE_ID": "string"}, "ERROR_CORE", TOO_LONG),
        ({"FIELD_NAME": "НОТАТКА", "USER_TYPE_ID": "string"}, "ERROR_CORE", BAD_CHARS),
        ({"FIELD_NAME": "INVOICE-NO", "USER_TYPE_ID": "string"}, "ERROR_CORE", BAD_CHARS),
        (
            {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "text"},
            "ERROR_CORE",
            "Invalid user type specified.",
        ),
        (
            {"FIELD_NAME": "INVOICE_NUMBER", "USER_TYPE_ID": "string"},
            "ERROR_CORE",
            "The field UF_CRM_INVOICE_NUMBER for the CRM_DEAL object already exists.",
        ),
        (
            {"FIELD_NAME": "uf_crm_invoice_pdf", "USER_TYPE_ID": "file"},
            "ERROR_CORE",
            "The field UF_CRM_INVOICE_PDF for the CRM_DEAL object already exists.",
        ),
    ],
)
def test_add_refuses_as_the_portal_does(
    portal: Portal, fields: dict[str, Any], code: str, description: str
) -> None:
    status, body = error(portal, "crm.deal.userfield.add", {"fields": fields})
    assert (status, body) == (400, {"error": code, "error_description": description})
    names = [f["FIELD_NAME"] for f in portal.result("crm.deal.userfield.list")]
    assert names == SEEDED  # nothing was created


def test_add_without_fields_object(portal: Portal) -> None:
    status, body = error(portal, "crm.deal.userfield.add", {"fields": "x"})
    assert (status, body) == (
        400,
        {"error": "", "error_description": "Parameter 'fields' must be array."},
    )


def test_get_prints_labels_per_language_and_list_with_lang_as_strings(portal: Portal) -> None:
    field_id = add(portal, FIELD_NAME="CONTRACT", USER_TYPE_ID="string", LABEL="Договір")
    got = portal.result("crm.deal.userfield.get", {"id": field_id})
    assert got["ID"] == str(field_id) and got["SORT"] == "100" and got["XML_ID"] is None
    assert got["EDIT_FORM_LABEL"]["ua"] == got["EDIT_FORM_LABEL"]["en"] == "Договір"
    listed = portal.result("crm.deal.userfield.list", {"filter": {"LANG": "ua", "ID": field_id}})
    assert [f["LIST_COLUMN_LABEL"] for f in listed] == ["Договір"]
    assert listed[0]["ERROR_MESSAGE"] == "Договір"  # LABEL fills every label not given


def test_update_changes_what_the_documentation_allows(portal: Portal) -> None:
    field_id = add(portal, FIELD_NAME="CONTRACT", USER_TYPE_ID="string", LABEL="Договір")
    changes = {
        "MANDATORY": "Y",
        "SORT": 50,
        "XML_ID": "contract",
        "SETTINGS": {"DEFAULT_VALUE": "б/н"},
        "LIST_COLUMN_LABEL": {"ua": "Договір №"},
        "FIELD_NAME": "OTHER",
        "USER_TYPE_ID": "integer",
        "MULTIPLE": "Y",
    }
    assert portal.result("crm.deal.userfield.update", {"id": field_id, "fields": changes}) is True
    got = portal.result("crm.deal.userfield.get", {"id": field_id})
    assert (got["MANDATORY"], got["SORT"], got["XML_ID"]) == ("Y", "50", "contract")
    assert (got["FIELD_NAME"], got["USER_TYPE_ID"], got["MULTIPLE"]) == (
        "UF_CRM_CONTRACT",
        "string",
        "N",
    )
    assert got["SETTINGS"]["DEFAULT_VALUE"] == "б/н" and got["SETTINGS"]["ROWS"] == 1
    assert got["LIST_COLUMN_LABEL"]["ua"] == "Договір №" and got["LIST_COLUMN_LABEL"]["en"] == ""
    assert got["EDIT_FORM_LABEL"]["ua"] == "Договір"  # not sent: kept
    described = portal.result("crm.deal.fields")["UF_CRM_CONTRACT"]
    assert (described["isRequired"], described["listLabel"]) == (True, "Договір №")
    first = portal.result("crm.deal.userfield.list")[0]
    assert first["FIELD_NAME"] == "UF_CRM_CONTRACT"  # SORT 50 comes before the seed's 100


def test_delete_removes_the_field_from_descriptions_and_deals(portal: Portal) -> None:
    field_id = add(portal, FIELD_NAME="CONTRACT", USER_TYPE_ID="string")
    portal.result("crm.deal.update", {"id": 1, "fields": {"UF_CRM_CONTRACT": "Д-17"}})
    assert portal.result("crm.deal.userfield.delete", {"id": field_id}) is True
    assert "UF_CRM_CONTRACT" not in portal.result("crm.deal.fields")
    assert "UF_CRM_CONTRACT" not in portal.result("crm.deal.get", {"id": 1})
    status, body = error(portal, "crm.deal.userfield.get", {"id": field_id})
    assert (status, body["error"]) == (400, "ERROR_NOT_FOUND")
    again = add(portal, FIELD_NAME="CONTRACT", USER_TYPE_ID="integer")  # the name is free again
    assert portal.result("crm.deal.get", {"id": 1})["UF_CRM_CONTRACT"] is None
    assert again > field_id


@pytest.mark.parametrize("method", ["get", "update", "delete"])
def test_get_update_delete_errors(portal: Portal, method: str) -> None:
    name = f"crm.deal.userfield.{method}"
    fields = {"fields": {"SORT": 1}} if method == "update" else {}
    for bad in (0, -1, "abc", None):
        status, body = error(portal, name, {"id": bad, **fields})
        assert (status, body) == (
            400,
            {"error": "", "error_description": "ID is not defined or invalid."},
        )
    status, body = error(portal, name, {"id": 999, **fields})
    assert (status, body) == (
        400,
        {"error": "ERROR_NOT_FOUND", "error_description": "The entity with ID '999' is not found."},
    )


def test_update_without_fields_object(portal: Portal) -> None:
    status, body = error(portal, "crm.deal.userfield.update", {"id": 1, "fields": "x"})
    assert (status, body) == (
        400,
        {"error": "", "error_description": "Parameter 'fields' must be array."},
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": {"USER_TYPE_ID": "file"}}, ["UF_CRM_INVOICE_PDF"]),
        ({"filter": {"MULTIPLE": "N"}}, ["UF_CRM_INVOICE_NUMBER", "UF_CRM_PAYMENT_STATUS"]),
        ({"filter": {"FIELD_NAME": "UF_CRM_PAYMENT_STATUS"}}, ["UF_CRM_PAYMENT_STATUS"]),
        ({"filter": {"NO_SUCH_KEY": "x"}}, SEEDED),
        ({"order": {"FIELD_NAME": "DESC"}}, sorted(SEEDED, reverse=True)),
        ({"order": {"USER_TYPE_ID": "ASC", "ID": "DESC"}}, SEEDED[2:] + SEEDED[1::-1]),
    ],
)
def test_list_filter_and_order(portal: Portal, params: dict[str, Any], expected: list[str]) -> None:
    assert [f["FIELD_NAME"] for f in portal.result("crm.deal.userfield.list", params)] == expected


@pytest.mark.parametrize("name", ["filter", "order"])
def test_list_refuses_a_filter_or_order_that_is_not_an_object(portal: Portal, name: str) -> None:
    status, body = error(portal, "crm.deal.userfield.list", {name: "x"})
    assert (status, body) == (
        400,
        {"error": "", "error_description": f"Parameter '{name}' must be array."},
    )


def test_enumeration_items_get_ids(portal: Portal) -> None:
    items = [{"VALUE": "Опт", "DEF": "Y"}, {"VALUE": ""}, {"VALUE": "Роздріб", "SORT": 20}]
    field_id = add(portal, FIELD_NAME="CHANNEL", USER_TYPE_ID="enumeration", LIST=items)
    got = portal.result("crm.deal.userfield.get", {"id": field_id})
    assert [(i["VALUE"], i["DEF"], i["SORT"]) for i in got["LIST"]] == [
        ("Опт", "Y", "0"),
        ("Роздріб", "N", "20"),
    ]
    assert all(i["ID"].isdigit() for i in got["LIST"])


def test_answers_have_the_documented_shape(portal: Portal) -> None:
    field_id = add(portal, FIELD_NAME="HELLO_WORLD", USER_TYPE_ID="string", MULTIPLE="Y")
    compare(
        "crm_deal_userfield_get.json",
        portal.call("crm.deal.userfield.get", {"id": field_id}).json(),
    )
    listed = portal.call("crm.deal.userfield.list", {"filter": {"LANG": "en"}}).json()
    data = recorded("crm_deal_userfield_list.json")["response"]
    by_type = {f["USER_TYPE_ID"]: f for f in listed["result"]}
    for item in data["result"]:
        assert_same_shape(item, by_type[item["USER_TYPE_ID"]])
    lead = recorded("crm_lead_fields.json")["response"]["result"]["UF_CRM_1594289616952"]
    assert_same_shape(lead, portal.result("crm.deal.fields")["UF_CRM_INVOICE_NUMBER"])


def test_a_fresh_portal_has_none_of_crmbridges_fields() -> None:
    with running_portal(user_fields=False) as fresh:
        assert fresh.call("crm.deal.userfield.list", {}).json()["total"] == 0
        assert not [n for n in fresh.result("crm.deal.fields") if n.startswith("UF_")]
        assert not [n for n in fresh.result("crm.deal.get", {"id": 1}) if n.startswith("UF_")]
        assert fresh.client.get(f"{fresh.base}/bitrix24/").status_code == 200  # the demo page
        add(fresh, FIELD_NAME="INVOICE_NUMBER", USER_TYPE_ID="string")
        fresh.result("crm.deal.update", {"id": 1, "fields": {"UF_CRM_INVOICE_NUMBER": "СФ-1"}})
        assert fresh.result("crm.deal.get", {"id": 1})["UF_CRM_INVOICE_NUMBER"] == "СФ-1"
