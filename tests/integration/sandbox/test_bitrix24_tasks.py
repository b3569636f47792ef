"""`tasks.task.*` (camelCase, string values) and `user.get`."""

from __future__ import annotations

from tests.integration.sandbox.b24 import Portal


def test_task_add_get_list(portal: Portal) -> None:
    fields = {
        "TITLE": "Перевірити оплату",
        "RESPONSIBLE_ID": 3,
        "UF_CRM_TASK": ["D_1", "CO_1"],
        "DEADLINE": "2026-01-31T18:00:00+02:00",
    }
    task = portal.result("tasks.task.add", {"fields": fields})["task"]
    assert task["id"] == "1" and task["responsibleId"] == "3" and task["status"] == "2"
    assert task["ufCrmTask"] == ["D_1", "CO_1"] and task["group"] == []
    assert portal.result("tasks.task.get", {"taskId": 1})["task"]["title"] == "Перевірити оплату"
    portal.result("tasks.task.add", {"fields": {"TITLE": "Інше", "RESPONSIBLE_ID": 5}})
    body = portal.call(
        "tasks.task.list", {"filter": {"RESPONSIBLE_ID": 3}, "select": ["ID", "TITLE"]}
    )
    listed = body.json()
    assert listed["total"] == 1
    assert listed["result"]["tasks"] == [{"id": "1", "title": "Перевірити оплату", "group": []}]


def test_task_without_title_is_refused(portal: Portal) -> None:
    response = portal.call("tasks.task.add", {"fields": {"RESPONSIBLE_ID": 1}})
    assert response.status_code == 400 and response.json()["error"] == "ERROR_CORE"
    missing = portal.call("tasks.task.get", {"taskId": 42})
    assert missing.status_code == 400


def test_user_get_by_id_and_filter(portal: Portal) -> None:
    assert [u["NAME"] for u in portal.result("user.get", {"ID": 3})] == ["Андрій"]
    found = portal.result("user.get", {"FILTER": {"EMAIL": "maria@example.com"}})
    assert [u["ID"] for u in found] == ["5"]
