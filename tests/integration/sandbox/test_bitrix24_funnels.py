"""Deal funnels: the default one and «Дилери» (id 1), their stages, and deals kept in their funnel.

Sources: `bitrix24/b24restdocs` `api-reference/crm/universal/category/crm-category-list.md`,
`crm/status/crm-status-list.md`, `crm/status/crm-status-add.md` (the `C<id>:` prefix),
`crm/outdated/category-old/crm-deal-category-stage-list.md`, `crm/deals/crm-deal-add.md` and
`crm-deal-update.md`; recorded shapes in `tests/fixtures/recorded/bitrix24/`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.sandbox.b24 import Portal, assert_same_shape
from tests.integration.sandbox.test_bitrix24_recorded import compare, recorded

DEALERS = ["C1:NEW", "C1:PREPAYMENT_INVOICE", "C1:WON", "C1:LOSE"]


def stages(portal: Portal, entity: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = portal.result(
        "crm.status.list", {"filter": {"ENTITY_ID": entity}}
    )
    return found


def test_deals_have_two_funnels(portal: Portal) -> None:
    body = portal.call("crm.category.list", {"entityTypeId": 2}).json()
    categories = body["result"]["categories"]
    assert [(c["id"], c["name"], c["isDefault"]) for c in categories] == [
        (0, "Загальна", "Y"),
        (1, "Дилери", "N"),
    ]
    assert body["total"] == 2
    other = recorded("crm_category_list.json")["response"]["result"]["categories"][1]
    assert_same_shape(other, categories[1])


def test_category_list_of_a_type_without_funnels(portal: Portal) -> None:
    response = portal.call("crm.category.list", {"entityTypeId": 999})
    assert response.status_code == 400
    assert response.json() == {"error": "NOT_FOUND", "error_description": "Smart process not found"}


def test_the_second_funnels_stages_carry_its_prefix_and_category(portal: Portal) -> None:
    found = stages(portal, "DEAL_STAGE_1")
    assert [s["STATUS_ID"] for s in found] == DEALERS
    assert {s["CATEGORY_ID"] for s in found} == {"1"}
    assert [s["EXTRA"]["SEMANTICS"] for s in found] == ["process", "process", "success", "failure"]
    assert [s["SEMANTICS"] for s in found] == [None, None, "S", "F"]
    assert [s["SYSTEM"] for s in found] == ["Y", "N", "Y", "Y"]
    default = stages(portal, "DEAL_STAGE")
    assert {s["CATEGORY_ID"] for s in default} == {None} and len(default) == 7
    everything = portal.result("crm.status.list")
    assert {s["ENTITY_ID"] for s in everything} == {"DEAL_STAGE", "DEAL_STAGE_1", "DEAL_TYPE"}
    assert len({s["ID"] for s in everything}) == len(everything)


def test_status_list_has_the_documented_shape(portal: Portal) -> None:
    compare(
        "crm_status_list.json",
        portal.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}).json(),
    )
    data = recorded("crm_status_list.json")["response"]["result"][0]
    assert_same_shape(data, stages(portal, "DEAL_STAGE_1")[0])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id": 1}, DEALERS),
        ({"ID": "1"}, DEALERS),
        ({}, ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "UC_PAID", "EXECUTING", "WON", "LOSE"]),
        (
            {"id": ""},
            ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "UC_PAID", "EXECUTING", "WON", "LOSE"],
        ),
        ({"id": 7}, []),
    ],
)
def test_the_older_dealcategory_stage_list(
    portal: Portal, params: dict[str, Any], expected: list[str]
) -> None:
    found = portal.result("crm.dealcategory.stage.list", params)
    assert [s["STATUS_ID"] for s in found] == expected
    assert all(
        set(s) == {"NAME", "SORT", "STATUS_ID"} and isinstance(s["SORT"], int) for s in found
    )


def test_dealcategory_stage_list_has_the_recorded_shape(portal: Portal) -> None:
    body = portal.call("batch", {"halt": 0, "cmd": ["crm.dealcategory.stage.list?ID=0&"]}).json()
    compare("crm_dealcategory_stage_list.json", body)


@pytest.mark.parametrize(
    ("fields", "stage"),
    [
        ({"CATEGORY_ID": 1}, "C1:NEW"),
        ({"STAGE_ID": "C1:PREPAYMENT_INVOICE", "CATEGORY_ID": "1"}, "C1:PREPAYMENT_INVOICE"),
        ({"CATEGORY_ID": 1, "STAGE_ID": "WON"}, "C1:NEW"),  # another funnel's stage [assumed]
        ({"STAGE_ID": "C1:WON"}, "NEW"),  # no category: the default funnel
    ],
)
def test_a_deal_is_added_to_a_funnel_at_its_stage(
    portal: Portal, fields: dict[str, Any], stage: str
) -> None:
    deal_id = portal.result("crm.deal.add", {"fields": {"TITLE": "Дилер", **fields}})
    deal = portal.result("crm.deal.get", {"id": deal_id})
    category = "1" if stage.startswith("C1:") else "0"
    assert (deal["CATEGORY_ID"], deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"]) == (
        category,
        stage,
        "P",
    )


def test_a_deal_keeps_its_funnel_and_takes_only_its_stages(portal: Portal) -> None:
    deal_id = portal.result("crm.deal.add", {"fields": {"TITLE": "Дилер", "CATEGORY_ID": 1}})
    for fields in ({"STAGE_ID": "WON"}, {"STAGE_ID": "NO_SUCH"}, {"CATEGORY_ID": 0}):
        portal.result("crm.deal.update", {"id": deal_id, "fields": fields})
        deal = portal.result("crm.deal.get", {"id": deal_id})
        assert (deal["CATEGORY_ID"], deal["STAGE_ID"]) == ("1", "C1:NEW"), fields
    portal.result("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "C1:WON"}})
    deal = portal.result("crm.deal.get", {"id": deal_id})
    assert (deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("C1:WON", "S", "Y")
    portal.result("crm.deal.update", {"id": 1, "fields": {"STAGE_ID": "C1:LOSE"}})
    assert portal.result("crm.deal.get", {"id": 1})["STAGE_ID"] == "PREPARATION"
    listed = portal.result("crm.deal.list", {"filter": {"CATEGORY_ID": 1}, "select": ["ID"]})
    assert listed == [{"ID": str(deal_id)}]
