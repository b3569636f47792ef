"""Installing a local application: the ONAPPINSTALL delivery, and the events the app binds."""

from __future__ import annotations

from typing import Any

from tests.integration.sandbox.b24 import Portal, Receiver, wait_until
from tests.support.servers import free_port

INSTALL_KEYS = {
    "event",
    "data[VERSION]",
    "data[ACTIVE]",
    "data[INSTALLED]",
    "data[LANGUAGE_ID]",
    "ts",
    "auth[access_token]",
    "auth[expires]",
    "auth[expires_in]",
    "auth[scope]",
    "auth[domain]",
    "auth[server_endpoint]",
    "auth[status]",
    "auth[client_endpoint]",
    "auth[member_id]",
    "auth[user_id]",
    "auth[refresh_token]",
    "auth[application_token]",
    "__content_type__",
}
WRONG_AUTH_TYPE = {
    "error": "WRONG_AUTH_TYPE",
    "error_description": (
        "Current authorization type is denied for this method Application context required"
    ),
}


def rest(portal: Portal, method: str, token: str, params: dict[str, Any] | None = None) -> Any:
    return portal.client.post(
        f"{portal.base}/bitrix24/rest/{method}", json={**(params or {}), "auth": token}
    )


def test_install_posts_onappinstall_to_the_handler(portal: Portal, receiver: Receiver) -> None:
    app = portal.sandbox.apps.register(scopes=["crm", "task"], handler=receiver.url)
    done = portal.sandbox.install_app(app.client_id)
    assert done.delivered == 200
    [form] = receiver.forms
    assert set(form) == INSTALL_KEYS
    assert form["__content_type__"] == "application/x-www-form-urlencoded"
    assert (form["event"], form["data[INSTALLED]"], form["auth[status]"]) == (
        "ONAPPINSTALL",
        "Y",
        "L",
    )
    host = portal.base.removeprefix("http://")
    assert form["auth[domain]"] == host  # the portal here, not the authorization server
    assert form["auth[client_endpoint]"] == f"{portal.base}/bitrix24/rest/"
    assert form["auth[scope]"] == "crm,task" and form["auth[user_id]"] == "1"
    assert form["ts"] == str(int(portal.clock.now().timestamp()))
    assert form["auth[application_token]"] == done.app.application_token
    token = form["auth[access_token]"]
    assert rest(portal, "crm.deal.get", token, {"id": 1}).status_code == 200


def test_a_failed_install_delivery_is_not_retried(portal: Portal, receiver: Receiver) -> None:
    receiver.status = 500
    app = portal.sandbox.apps.register(scopes=["crm"], handler=receiver.url)
    assert portal.sandbox.install_app(app.client_id).delivered == 500
    assert len(receiver.forms) == 1
    nobody = portal.sandbox.apps.register(
        scopes=["crm"], handler=f"http://127.0.0.1:{free_port()}/install"
    )
    assert portal.sandbox.install_app(nobody.client_id).delivered is None


def test_the_drop_events_fault_loses_the_install_delivery(
    portal: Portal, receiver: Receiver
) -> None:
    app = portal.sandbox.apps.register(scopes=["crm"], handler=receiver.url)
    portal.control.set_fault("bitrix24", "drop_events")
    lost = portal.sandbox.install_app(app.client_id)
    assert lost.delivered is None and receiver.forms == []
    assert lost.app.installed and lost.auth["access_token"]


def test_events_bound_by_an_app_carry_its_application_token(
    portal: Portal, receiver: Receiver
) -> None:
    app = portal.sandbox.apps.register(scopes=["crm"], handler="")
    auth = portal.sandbox.install_app(app.client_id).auth
    bound = rest(
        portal,
        "event.bind",
        auth["access_token"],
        {"event": "ONCRMDEALUPDATE", "handler": receiver.url},
    )
    assert bound.json()["result"] is True
    portal.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "змінено"}})
    receiver.wait_for(lambda forms: len(forms) == 1)
    form = receiver.forms[0]
    assert form["auth[application_token]"] == auth["application_token"]
    assert (form["auth[scope]"], form["auth[status]"]) == ("crm", "L")
    assert form["data[FIELDS][ID]"] == "2"


def test_a_reinstall_removes_the_apps_event_handlers(portal: Portal, receiver: Receiver) -> None:
    app = portal.sandbox.apps.register(scopes=["crm"], handler="")
    auth = portal.sandbox.install_app(app.client_id).auth
    bind = {"event": "ONCRMDEALUPDATE", "handler": receiver.url}
    rest(portal, "event.bind", auth["access_token"], bind)
    again = portal.sandbox.install_app(app.client_id).auth
    assert rest(portal, "event.get", again["access_token"]).json()["result"] == []
    portal.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "нікому"}})
    wait_until(lambda: portal.control.stats()["bitrix24"]["requests"] >= 3)
    assert receiver.forms == []


def test_application_methods_through_an_inbound_webhook_are_refused(portal: Portal) -> None:
    for method, params in (
        ("event.bind", {"event": "ONCRMDEALUPDATE", "handler": "https://example.com/h"}),
        ("event.get", {}),
        ("event.unbind", {"event": "ONCRMDEALUPDATE", "handler": "https://example.com/h"}),
        ("event.offline.get", {}),
        ("event.offline.list", {}),
        ("event.offline.clear", {"process_id": "x"}),
    ):
        refused = portal.call(method, params)
        assert (refused.status_code, refused.json()) == (403, WRONG_AUTH_TYPE), method
    assert portal.sandbox.call("event.get") == []  # nothing was bound
