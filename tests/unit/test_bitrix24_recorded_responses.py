"""The connector's parsers against recorded real responses (one test per fixture).

Fixtures: tests/fixtures/recorded/bitrix24/*.json (each names its `_source`). Each body is served
by a fake transport exactly as recorded, with its recorded HTTP status, and read through the same
code the connector uses on the wire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmbridge.connectors.bitrix24 import events, wire
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.batch import Command
from crmbridge.connectors.bitrix24.deals import Deals
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.http import HttpCaller, RemoteNotFound, Throttled
from crmbridge.connectors.ratelimit import Budget, LeakyBucket
from crmbridge.connectors.redact import Redactor
from crmbridge.errors import Permanent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "recorded" / "bitrix24"
WEBHOOK = "https://example.bitrix24.com/rest/1/recorded-code/"


def recorded(name: str) -> tuple[int, dict[str, Any]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert data["_source"]["repo"]
    return int(data.get("_status", 200)), data["response"]


def replaying(name: str) -> RestClient:
    status, body = recorded(name)
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    caller = HttpCaller(
        httpx.Client(transport=transport),
        system="bitrix24",
        limiter=LeakyBucket(Budget(1000, 1000)),
        recorder=None,
        redactor=Redactor(["recorded-code"]),
        throttle=wire.throttle,
    )
    return RestClient(caller, Webhook(WEBHOOK))


def test_batch_add() -> None:
    answer = replaying("batch_add").batch({"order0000000000": Command("crm.contact.add")})
    assert answer.results == {"order0000000000": 58943}
    assert answer.errors == {}


def test_batch_all_failed() -> None:
    answer = replaying("batch_all_failed").batch(
        {"a": Command("crm.lead.get", {"id": 0}), "b": Command("crm.lead.get", {"id": 9})}
    )
    assert answer.results == {}
    assert "ID is not defined" in str(answer.errors["a"])
    assert isinstance(answer.errors["b"], RemoteNotFound)


def test_batch_list_empty() -> None:
    answer = replaying("batch_list_empty").batch({"order0000000000": Command("crm.lead.list")})
    assert answer.results == {"order0000000000": []}
    assert answer.totals == {"order0000000000": 0}


def test_batch_mix_success_and_errors() -> None:
    # Numeric keys: errors come back as a list; they belong to the commands without a result.
    sent = {k: Command("crm.lead.get", {"id": k}) for k in ("0", "35943", "1")}
    answer = replaying("batch_mix_success_and_errors").batch(sent)
    assert answer.results == {"35943": {"ID": "35943"}}
    assert set(answer.errors) == {"0", "1"}
    assert "ID is not defined" in str(answer.errors["0"])
    assert isinstance(answer.errors["1"], RemoteNotFound)


def test_batch_single_get() -> None:
    answer = replaying("batch_single_get").batch({"order0": Command("crm.lead.get", {"id": 1})})
    assert answer.results["order0"]["ID"] == "35943"
    assert answer.results["order0"]["COMPANY_ID"] is None


def test_crm_category_list() -> None:
    categories = Deals(replaying("crm_category_list")).categories()
    assert [c["id"] for c in categories] == [0, 1]
    assert categories[0]["isDefault"] == "Y"


def test_crm_deal_get() -> None:
    deal = replaying("crm_deal_get").result("crm.deal.get", {"id": 410})
    assert deal["ID"] == "410" and deal["OPPORTUNITY"] == "1000000.00"


def test_crm_deal_productrows_get() -> None:
    [row] = Deals(replaying("crm_deal_productrows_get")).rows(5)
    assert row["OWNER_TYPE"] == "D" and row["PRICE"] == 899.1 and row["PRODUCT_ID"] == 450


def test_crm_timeline_comment_get() -> None:
    comment = replaying("crm_timeline_comment_get").result("crm.timeline.comment.get", {"id": 999})
    assert comment["ENTITY_TYPE"] == "deal"
    assert all("urlDownload" in f for f in comment["FILES"].values())


def test_error_deal_not_found() -> None:
    with pytest.raises(RemoteNotFound, match="Not found"):
        replaying("error_deal_not_found").call("crm.deal.get", {"id": 1})


def test_error_method_not_found() -> None:
    with pytest.raises(Permanent, match="ERROR_METHOD_NOT_FOUND") as caught:
        replaying("error_method_not_found").call("crm.nothing")
    assert not isinstance(caught.value, RemoteNotFound)


def test_error_no_auth_found() -> None:
    with pytest.raises(Permanent, match="NO_AUTH_FOUND") as caught:
        replaying("error_no_auth_found").call("crm.deal.get", {"id": 1})
    assert "recorded-code" not in str(caught.value)


def test_error_query_limit_exceeded() -> None:
    rest = replaying("error_query_limit_exceeded")
    with pytest.raises(Throttled) as caught:
        rest.call("crm.deal.get", {"id": 1})
    assert caught.value.retry_after == wire.LIMIT_PAUSE
    assert isinstance(rest.caller.limiter, LeakyBucket)
    assert rest.caller.limiter.reserve() >= wire.LIMIT_PAUSE


def test_event_offline_get() -> None:
    # The documented example has EVENT_DATA false and a lead event: nothing to act on.
    reserved = events.OfflineEvents(replaying("event_offline_get")).reserve()
    assert reserved.process_id is None and reserved.events == []


def test_event_offline_list() -> None:
    answer = replaying("event_offline_list").call("event.offline.list")
    assert answer.result[0]["EVENT_NAME"] == "ONCRMCOMPANYADD" and answer.total is not None


def test_list_one_page() -> None:
    answer = replaying("list_one_page").call("crm.lead.list")
    assert len(answer.result) == 3 and answer.total == 39 and answer.next is None


def test_tasks_task_add() -> None:
    assert Deals(replaying("tasks_task_add")).add_task(7, "Відвантажити", 1) == "456"


def test_tasks_task_list_page() -> None:
    answer = replaying("tasks_task_list_page").call("tasks.task.list")
    assert answer.next == 50 and answer.total == 1570
    assert [t["id"] for t in answer.result["tasks"]] == ["8618", "9398"]


def test_every_recorded_fixture_has_a_test() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert names <= tested, names - tested
