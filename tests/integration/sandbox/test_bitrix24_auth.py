"""Inbound webhooks with their own user and scopes: what each may call, and the refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crmbridge.sandbox.bitrix24 import Bitrix24Sandbox
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import build
from tests.integration.sandbox.b24 import Portal
from tests.support.sandbox import running_sandbox

WEBHOOK_SCOPE = {
    "error": "insufficient_scope",
    "error_description": (
        "The request requires higher privileges than provided by the webhook token"
    ),
}


def call(portal: Portal, base: str, method: str, params: dict[str, Any] | None = None) -> Any:
    return portal.client.post(base + method, json=params or {})


def test_the_default_webhook_keeps_every_scope_crmbridge_uses(portal: Portal) -> None:
    granted = portal.result("scope")
    assert {"crm", "task", "user", "disk"} <= set(granted)
    assert granted == sorted(granted)


def test_a_crm_only_webhook_is_refused_tasks_and_users(portal: Portal) -> None:
    hook = portal.sandbox.create_webhook(user=1, scopes=["crm"])
    assert hook.startswith(f"{portal.base}/bitrix24/rest/1/") and "/sandbox/" not in hook
    assert call(portal, hook, "scope").json()["result"] == ["crm"]
    assert call(portal, hook, "crm.deal.get", {"id": 1}).json()["result"]["ID"] == "1"
    for method in ("tasks.task.list", "user.get"):
        refused = call(portal, hook, method)
        assert (refused.status_code, refused.json()) == (401, WEBHOOK_SCOPE)


def test_a_method_of_a_missing_scope_is_refused_even_where_the_sandbox_has_no_such_method(
    portal: Portal,
) -> None:
    tasks_only = portal.sandbox.create_webhook(user=1, scopes=["task"])
    crm_only = portal.sandbox.create_webhook(user=1, scopes=["crm"])
    assert call(portal, tasks_only, "crm.lead.fields").status_code == 401
    unknown = call(portal, crm_only, "crm.lead.fields")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "ERROR_METHOD_NOT_FOUND")


def test_inside_a_batch_the_refusal_has_no_description(portal: Portal) -> None:
    hook = portal.sandbox.create_webhook(user=1, scopes=["crm"])
    cmd = {"deal": "crm.deal.get?id=1", "tasks": "tasks.task.list"}
    answer = call(portal, hook, "batch", {"cmd": cmd})
    assert answer.status_code == 200
    body = answer.json()["result"]
    assert body["result"]["deal"]["ID"] == "1"
    assert body["result_error"] == {
        "tasks": {"error": "insufficient_scope", "error_description": ""}
    }


def test_methods_and_method_get_follow_the_scopes(portal: Portal) -> None:
    hook = portal.sandbox.create_webhook(user=1, scopes=["crm"])
    names = call(portal, hook, "methods").json()["result"]
    assert "crm.deal.get" in names and "scope" in names
    assert not any(n.startswith(("tasks.", "user.")) for n in names)
    assert "tasks.task.add" in call(portal, hook, "methods", {"full": True}).json()["result"]
    by_scope = call(portal, hook, "methods", {"scope": "task"}).json()["result"]
    assert by_scope and all(n.startswith("tasks.") for n in by_scope)

    def method_get(name: str) -> Any:
        return call(portal, hook, "method.get", {"name": name}).json()["result"]

    assert method_get("crm.deal.get") == {"isExisting": True, "isAvailable": True}
    assert method_get("tasks.task.add") == {"isExisting": True, "isAvailable": False}
    assert method_get("no.such.method") == {"isExisting": False, "isAvailable": False}
    assert method_get("") == {"isExisting": False, "isAvailable": False}


def test_each_webhook_runs_as_its_own_user(portal: Portal) -> None:
    hook = portal.sandbox.create_webhook(user=5, scopes=["task"])
    created = call(portal, hook, "tasks.task.add", {"fields": {"TITLE": "Від користувача 5"}})
    assert created.json()["result"]["task"]["createdBy"] == "5"
    assert call(portal, hook.replace("/rest/5/", "/rest/1/"), "scope").status_code == 401


def test_an_unknown_scope_is_refused() -> None:
    sandbox = Bitrix24Sandbox(build(), SandboxControl(), rate=None)
    with pytest.raises(ValueError, match="unknown scopes: crmm"):
        sandbox.create_webhook(scopes=["crmm"])


def test_the_control_endpoint_creates_a_webhook_and_refuses_a_bad_request() -> None:
    with running_sandbox() as sandbox:
        control = f"{sandbox.settings.public_url}/sandbox/bitrix24/webhooks"
        made = httpx.post(control, json={"user": 1, "scopes": ["crm"]})
        assert made.status_code == 201
        url = made.json()["url"]
        assert httpx.post(url + "scope").json()["result"] == ["crm"]
        for bad in ({"user": 1, "scopes": ["crmm"]}, {"user": 0, "scopes": []}, {"scopes": 1}):
            refused = httpx.post(control, json=bad)
            assert refused.status_code == 400, bad
            assert "error" in refused.json()


def test_created_webhooks_survive_a_snapshot(portal: Portal) -> None:
    hook = portal.sandbox.create_webhook(user=1, scopes=["crm"])
    saved = portal.sandbox.snapshot()
    again = Bitrix24Sandbox(build(), SandboxControl(), rate=None, public_url=portal.base)
    again.restore(saved)
    code = hook.rstrip("/").rsplit("/", 1)[1]
    found = again.webhooks.find("1", code)
    assert found is not None and found.scopes == frozenset({"crm"})
