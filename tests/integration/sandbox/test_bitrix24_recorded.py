"""The emulator answers in the shapes of recorded real responses (same keys, same JSON types).

Fixtures: tests/fixtures/recorded/bitrix24/*.json and emulator/*.json, each citing its source in
`_source`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sandbox.b24 import Portal, assert_same_shape, running_portal

FIXTURES = Path(__file__).parents[2] / "fixtures" / "recorded" / "bitrix24"


def recorded(name: str) -> dict[str, Any]:
    """A fixture by file name, at the top level or in `emulator/` (shapes no connector reads)."""
    path = FIXTURES / name if (FIXTURES / name).exists() else FIXTURES / "emulator" / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert data["_source"]["repo"] and data["_source"]["path"]
    return data


def _drop(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _drop(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_drop(v, keys) for v in value]
    return value


def compare(name: str, emulated: Any, *, lenient: bool = False) -> None:
    data = recorded(name)
    response = _drop(data["response"], set(data.get("_portal_specific", [])))
    unchecked = set(data.get("_unchecked", []))
    if "_predates" in data:
        unchecked.add(data["_predates"])
    emulated = _drop(emulated, unchecked)
    response = _drop(response, set(data.get("_unchecked", [])))
    assert_same_shape(response, emulated, lenient=lenient)


def without_sandbox_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("UF_CRM_")}


def test_batch_single_get(portal: Portal) -> None:
    body = portal.call("batch", {"cmd": {"order0": "crm.deal.get?id=1"}}).json()
    body["result"]["result"]["order0"] = {
        k: body["result"]["result"]["order0"][k]
        for k in ("ID", "TITLE", "OPPORTUNITY", "ASSIGNED_BY_ID", "COMPANY_ID")
    }
    compare("batch_single_get.json", body)


def test_batch_mix_success_and_errors(portal: Portal) -> None:
    cmd = {"35943": "crm.deal.list?filter[ID]=1&select[]=ID", "1": "crm.deal.get?id=x"}
    cmd["2"] = "crm.deal.get?id=404"
    body = portal.call("batch", {"cmd": cmd}).json()
    body["result"]["result"]["35943"] = body["result"]["result"]["35943"][0]
    del body["result"]["result_total"]["35943"]
    body["result"]["result_total"] = list(body["result"]["result_total"].values())
    compare("batch_mix_success_and_errors.json", body)
    assert (
        body["result"]["result_error"]
        == recorded("batch_mix_success_and_errors.json")["response"]["result"]["result_error"]
    )


def test_batch_all_failed(portal: Portal) -> None:
    body = portal.call("batch", {"cmd": ["crm.deal.get?id=x", "crm.deal.get?id=404"]}).json()
    compare("batch_all_failed.json", body)
    assert body["result"] == recorded("batch_all_failed.json")["response"]["result"]


def test_batch_list_empty(portal: Portal) -> None:
    cmd = {"order0000000000": "crm.deal.list?filter[ID]=0"}
    compare("batch_list_empty.json", portal.call("batch", {"cmd": cmd}).json())


def test_batch_add(portal: Portal) -> None:
    cmd = {"order0000000000": "crm.deal.add?fields[TITLE]=Recorded"}
    compare("batch_add.json", portal.call("batch", {"cmd": cmd}).json())


def test_list_one_page(portal: Portal) -> None:
    body = portal.call("crm.deal.list", {"select": ["ID", "TITLE"]}).json()
    assert "next" not in body
    compare("list_one_page.json", body)


def test_crm_category_list(portal: Portal) -> None:
    compare("crm_category_list.json", portal.call("crm.category.list", {"entityTypeId": 2}).json())


def test_tasks_task_list_page(portal: Portal) -> None:
    for n in range(51):
        portal.sandbox.call("tasks.task.add", {"fields": {"TITLE": f"t{n}"}})
    query = {"select": ["ID", "STATUS", "SUB_STATUS"]}
    compare("tasks_task_list_page.json", portal.call("tasks.task.list", query).json())


def test_tasks_task_add(portal: Portal) -> None:
    body = portal.call("tasks.task.add", {"fields": {"TITLE": "Recorded"}}).json()
    task = {k: v for k, v in body["result"]["task"].items() if k != "subStatus"}
    compare("tasks_task_add.json", {"result": {"task": task}}, lenient=True)
    core = {"id", "title", "status", "responsibleId", "createdBy", "createdDate", "ufCrmTask"}
    assert core <= set(task)


def test_crm_deal_get(portal: Portal) -> None:
    body = portal.call("crm.deal.get", {"id": 1}).json()
    body["result"] = without_sandbox_fields(body["result"])
    compare("crm_deal_get.json", body)


def test_crm_deal_productrows_get(portal: Portal) -> None:
    compare(
        "crm_deal_productrows_get.json", portal.call("crm.deal.productrows.get", {"id": 1}).json()
    )


def test_crm_timeline_comment_get(portal: Portal) -> None:
    fields = {
        "ENTITY_ID": 2,
        "ENTITY_TYPE": "deal",
        "COMMENT": "c",
        "FILES": [["a.pdf", "JVBERg=="]],
    }
    cid = portal.result("crm.timeline.comment.add", {"fields": fields})
    body = portal.call("crm.timeline.comment.get", {"id": cid}).json()
    data = recorded("crm_timeline_comment_get.json")["response"]
    assert set(body["result"]) == set(data["result"])
    files = body["result"].pop("FILES")
    assert_same_shape(data["result"].pop("FILES")["1"], next(iter(files.values())), lenient=True)
    assert_same_shape(data["result"], body["result"])


def test_event_offline_get(portal: Portal) -> None:
    app = portal.app()  # event.* need an application's context
    app.result("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "x"}})
    compare("event_offline_get.json", app.call("event.offline.get", {}).json())


def test_event_offline_list(portal: Portal) -> None:
    app = portal.app()
    app.result("event.bind", {"event": "ONCRMCOMPANYADD", "event_type": "offline"})
    portal.result("crm.company.add", {"fields": {"TITLE": "x"}})
    compare("event_offline_list.json", app.call("event.offline.list", {}).json())


@pytest.mark.parametrize(
    ("name", "method", "params"),
    [
        ("error_method_not_found.json", "no.such.method", {}),
        ("error_deal_not_found.json", "crm.deal.get", {"id": 404}),
    ],
)
def test_error_bodies(portal: Portal, name: str, method: str, params: dict[str, Any]) -> None:
    data = recorded(name)
    response = portal.call(method, params)
    assert (response.status_code, response.json()) == (data["_status"], data["response"])


def test_error_no_auth_found(portal: Portal) -> None:
    data = recorded("error_no_auth_found.json")
    response = portal.client.get(f"{portal.base}/bitrix24/rest/1/not-the-code/user.get")
    assert (response.status_code, response.json()) == (data["_status"], data["response"])


def test_error_query_limit_exceeded() -> None:
    data = recorded("error_query_limit_exceeded.json")
    with running_portal(rate=2.0, burst=1) as portal:
        portal.call("user.get")
        response = portal.call("user.get")
        assert (response.status_code, response.json()) == (data["_status"], data["response"])
