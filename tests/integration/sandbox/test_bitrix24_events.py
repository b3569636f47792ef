"""Outgoing events (form-encoded, async, never retried) and the offline event queue.

`event.*` methods need an application's context, so handlers are bound by an installed app.
"""

from __future__ import annotations

import threading

from tests.integration.sandbox.b24 import Portal, Receiver, running_portal, wait_until
from tests.support.servers import free_port

PAYLOAD_KEYS = {
    "event",
    "event_handler_id",
    "data[FIELDS][ID]",
    "ts",
    "auth[domain]",
    "auth[client_endpoint]",
    "auth[server_endpoint]",
    "auth[member_id]",
    "auth[application_token]",
    "__content_type__",
}


def _events(forms: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(f["event"], f["data[FIELDS][ID]"]) for f in forms]


def test_outgoing_webhook_gets_form_encoded_id_only_events(receiver: Receiver) -> None:
    with running_portal(outgoing_webhook=receiver.url) as portal:
        portal.result("crm.deal.update", {"id": 3, "fields": {"TITLE": "Змінено"}})
        receiver.wait_for(lambda forms: len(forms) == 1)
        form = receiver.forms[0]
        assert set(form) == PAYLOAD_KEYS
        assert form["__content_type__"] == "application/x-www-form-urlencoded"
        assert (form["event"], form["data[FIELDS][ID]"]) == ("ONCRMDEALUPDATE", "3")
        assert form["auth[application_token]"] == "sandbox-app-token"
        assert form["auth[client_endpoint]"] == f"{portal.base}/bitrix24/rest/"
        assert form["ts"] == str(int(portal.clock.now().timestamp()))
        wait_until(lambda: portal.control.stats()["events_emitted"] == 1)


def test_webhook_covers_deal_company_and_product_events(receiver: Receiver) -> None:
    with running_portal(outgoing_webhook=receiver.url) as portal:
        deal = portal.result("crm.deal.add", {"fields": {"TITLE": "x"}})
        company = portal.result("crm.company.add", {"fields": {"TITLE": "y"}})
        portal.result("crm.company.update", {"id": company, "fields": {"TITLE": "z"}})
        portal.result("crm.product.update", {"id": 1, "fields": {"PRICE": 1}})
        portal.result("crm.deal.productrows.set", {"id": deal, "rows": []})
        receiver.wait_for(lambda forms: len(forms) == 5)
        assert _events(receiver.forms) == [
            ("ONCRMDEALADD", str(deal)),
            ("ONCRMCOMPANYADD", str(company)),
            ("ONCRMCOMPANYUPDATE", str(company)),
            ("ONCRMPRODUCTUPDATE", "1"),
            ("ONCRMDEALUPDATE", str(deal)),
        ]


def test_event_bind_get_unbind(portal: Portal, receiver: Receiver) -> None:
    app = portal.app()
    bind = {"event": "ONCRMCOMPANYADD", "handler": receiver.url}
    assert app.result("event.bind", bind) is True
    assert app.result("event.bind", {"event": "ONCRMDEALUPDATE", "handler": receiver.url})
    assert app.result("event.get") == [
        {"event": "ONCRMCOMPANYADD", "handler": receiver.url, "auth_type": "0", "offline": 0},
        {"event": "ONCRMDEALUPDATE", "handler": receiver.url, "auth_type": "0", "offline": 0},
    ]
    portal.result("crm.company.add", {"fields": {"TITLE": "Перша"}})
    receiver.wait_for(lambda forms: len(forms) == 1)
    assert receiver.forms[0]["event"] == "ONCRMCOMPANYADD"
    assert receiver.forms[0]["event_handler_id"] == "1"
    assert app.result("event.unbind", bind) == {"count": 1}
    portal.result("crm.company.add", {"fields": {"TITLE": "Друга"}})
    portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "після"}})
    receiver.wait_for(lambda forms: len(forms) == 2)  # one sender: order is kept
    assert _events(receiver.forms)[1] == ("ONCRMDEALUPDATE", "1")


def test_bind_errors(portal: Portal, receiver: Receiver) -> None:
    app = portal.app()
    unknown = app.call("event.bind", {"event": "ONSOMETHING", "handler": receiver.url})
    assert unknown.status_code == 400
    assert unknown.json() == {
        "error": "ERROR_EVENT_NOT_FOUND",
        "error_description": "Event not found",
    }
    app.result("event.bind", {"event": "ONCRMDEALADD", "handler": receiver.url})
    again = app.call("event.bind", {"event": "ONCRMDEALADD", "handler": receiver.url})
    assert again.json() == {
        "error": "ERROR_HANDLER_ALREADY_EXIST",
        "error_description": "Handler already exists!",
    }


def test_failed_deliveries_are_never_retried(portal: Portal, receiver: Receiver) -> None:
    app = portal.app()
    receiver.status = 500
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    app.result("event.bind", {"event": "ONCRMDEALUPDATE", "handler": dead})
    app.result("event.bind", {"event": "ONCRMDEALUPDATE", "handler": receiver.url})
    portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "a"}})
    portal.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "b"}})
    wait_until(lambda: portal.control.stats()["events_emitted"] == 4)
    assert _events(receiver.forms) == [("ONCRMDEALUPDATE", "1"), ("ONCRMDEALUPDATE", "2")]


def test_drop_events_fault_loses_events(portal: Portal, receiver: Receiver) -> None:
    app = portal.app()
    app.result("event.bind", {"event": "ONCRMDEALUPDATE", "handler": receiver.url})
    portal.control.set_fault("bitrix24", "drop_events", rate=1.0)
    portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "lost"}})
    portal.control.clear_faults()
    portal.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "kept"}})
    receiver.wait_for(lambda forms: len(forms) == 1)
    assert _events(receiver.forms) == [("ONCRMDEALUPDATE", "2")]
    wait_until(lambda: portal.control.stats()["events_emitted"] == 1)


def test_own_changes_echo_back_so_loops_are_possible(portal: Portal, receiver: Receiver) -> None:
    app = portal.app()
    app.result("event.bind", {"event": "ONCRMDEALUPDATE", "handler": receiver.url})
    for n in range(3):  # a naive integration answering each event with an update
        portal.result("crm.deal.update", {"id": 6, "fields": {"COMMENTS": f"round {n}"}})
        receiver.wait_for(lambda forms, n=n: len(forms) == n + 1)
    assert _events(receiver.forms) == [("ONCRMDEALUPDATE", "6")] * 3


def test_offline_queue_collapses_reserves_and_clears(portal: Portal) -> None:
    app = portal.app()
    assert app.result("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    assert app.result("event.get")[0]["offline"] == 1
    for title in ("a", "b", "c"):
        portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": title}})
    portal.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "d"}})
    listed = app.call("event.offline.list", {}).json()
    assert listed["total"] == 2
    assert [r["EVENT_DATA"]["FIELDS"]["ID"] for r in listed["result"]] == [1, 2]
    assert {r["PROCESS_ID"] for r in listed["result"]} == {""}

    reserved = app.result("event.offline.get", {"clear": 0, "limit": 1})
    process = reserved["process_id"]
    assert isinstance(process, str) and len(reserved["events"]) == 1
    assert reserved["events"][0]["EVENT_NAME"] == "ONCRMDEALUPDATE"
    portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "e"}})  # a new record now
    assert app.call("event.offline.list", {}).json()["total"] == 3

    assert app.result("event.offline.clear", {"process_id": process}) is True
    rest = app.result("event.offline.get", {})  # clear=1 by default
    assert rest["process_id"] is None
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in rest["events"]] == [2, 1]
    assert app.result("event.offline.list", {}) == []


def test_offline_clear_by_id_within_a_process(portal: Portal) -> None:
    app = portal.app()
    app.result("event.bind", {"event": "ONCRMCOMPANYUPDATE", "event_type": "offline"})
    for cid in (1, 2, 3):
        portal.result("crm.company.update", {"id": cid, "fields": {"COMMENTS": "x"}})
    got = app.result("event.offline.get", {"clear": 0})
    first = got["events"][0]["ID"]
    app.result("event.offline.clear", {"process_id": got["process_id"], "id": [first]})
    left = app.result("event.offline.list", {})
    assert [r["ID"] for r in left] == [e["ID"] for e in got["events"][1:]]
    assert all(r["PROCESS_ID"] == got["process_id"] for r in left)
    again = app.result("event.offline.get", {"clear": 0, "process_id": got["process_id"]})
    assert len(again["events"]) == 2


def test_close_stops_the_sender_thread(receiver: Receiver) -> None:
    with running_portal(outgoing_webhook=receiver.url) as portal:
        portal.result("crm.deal.update", {"id": 1, "fields": {"TITLE": "x"}})
        receiver.wait_for(lambda forms: len(forms) == 1)
        assert any(t.name == "b24-events" for t in threading.enumerate())
        portal.sandbox.close()
        assert not any(t.name == "b24-events" for t in threading.enumerate())
