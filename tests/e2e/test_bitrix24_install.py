"""`POST /hooks/bitrix24/install` on the web app in OAuth mode, installed by the sandbox portal:
a real install stores the tokens and binds the events; a forged one is refused and changes
nothing; a reinstall replaces the tokens; events are checked against the stored app token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from crmbridge.app import Application
from crmbridge.clock import SystemClock
from crmbridge.config.load import load_config
from crmbridge.connectors.bitrix24 import DatabaseTokenStore, NotInstalled, Tokens
from crmbridge.sandbox.bitrix24.apps import LocalApp
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import inbox
from crmbridge.store.database import Database
from crmbridge.store.schema import exchanges
from crmbridge.web.app import create_app
from tests.support.oauth import EXAMPLE, oauth_config
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port, serve_app

FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Bridge:
    url: str
    sandbox: Sandbox
    app: LocalApp
    db: Database

    def stored(self) -> Tokens | None:
        try:
            return DatabaseTokenStore(self.db, SystemClock()).load()
        except NotInstalled:
            return None

    def post(self, path: str, form: list[tuple[str, str]]) -> httpx.Response:
        return httpx.post(self.url + path, content=urlencode(form), headers=FORM, timeout=30)


@pytest.fixture
def bridge(db: Database, tmp_path: Path) -> Iterator[Bridge]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_sandbox() as sandbox:
        app = sandbox.bitrix24.apps.register(
            scopes=["crm", "task"], handler=f"{url}/hooks/bitrix24/install"
        )
        config = oauth_config(sandbox, app.client_id, app.client_secret, tmp_path)
        env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
        application = Application(load_config(config, env).config, db)
        with serve_app(create_app(application), port=port):
            yield Bridge(url, sandbox, app, db)
        application.close()


def a_real_install_form(bridge: Bridge) -> list[tuple[str, str]]:
    """What the portal posts for an install, taken from one whose delivery got lost."""
    bridge.sandbox.control.set_fault("bitrix24", "drop_events")
    try:
        return bridge.sandbox.bitrix24.install_app(bridge.app.client_id).form
    finally:
        bridge.sandbox.control.clear_faults()


def event(token: str, deal: int = 3) -> list[tuple[str, str]]:
    return [
        ("event", "ONCRMDEALUPDATE"),
        ("data[FIELDS][ID]", str(deal)),
        ("ts", "1764310000"),
        ("auth[application_token]", token),
    ]


def test_an_install_stores_the_tokens_and_binds_the_events(bridge: Bridge) -> None:
    done = bridge.sandbox.bitrix24.install_app(bridge.app.client_id)
    assert done.delivered == 200
    stored = bridge.stored()
    assert stored is not None
    assert stored.access_token == done.auth["access_token"]
    assert stored.refresh_token == done.auth["refresh_token"]
    assert stored.application_token == done.auth["application_token"]
    assert (stored.member_id, stored.scope) == (done.auth["member_id"], "crm,task")
    bound = {(b["event"], b["handler"]) for b in bridge.sandbox.bitrix24.call("event.get")}
    assert ("ONCRMDEALUPDATE", f"{bridge.url}/hooks/bitrix24") in bound
    assert ("ONCRMCOMPANYUPDATE", f"{bridge.url}/hooks/bitrix24") in bound
    with bridge.db.read() as conn:
        logged = " ".join(str(r) for r in conn.execute(select(exchanges)).all())
    assert "app.info" in logged and "event.bind" in logged
    assert done.auth["access_token"] not in logged and done.app.client_secret not in logged


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auth[client_endpoint]", "https://evil.example/rest/"),
        ("auth[access_token]", "forged0000000000000000000000000"),
        ("auth[member_id]", "0" * 32),
    ],
)
def test_a_forged_install_is_refused_and_nothing_is_stored(
    bridge: Bridge, field: str, value: str
) -> None:
    form = [(k, value if k == field else v) for k, v in a_real_install_form(bridge)]
    refused = bridge.post("/hooks/bitrix24/install", form)
    assert refused.status_code in (401, 403), refused.text
    assert bridge.stored() is None
    assert bridge.sandbox.bitrix24.call("event.get") == []


def test_another_applications_install_is_refused(bridge: Bridge) -> None:
    other = bridge.sandbox.bitrix24.apps.register(scopes=["crm"], handler="")
    form = bridge.sandbox.bitrix24.install_app(other.client_id).form
    refused = bridge.post("/hooks/bitrix24/install", form)
    assert refused.status_code == 403 and "client_id" in refused.json()["error"]
    assert bridge.stored() is None


def test_a_malformed_install_is_refused(bridge: Bridge) -> None:
    assert bridge.post("/hooks/bitrix24/install", [("event", "ONAPPINSTALL")]).status_code == 400
    form = [(k, v) for k, v in a_real_install_form(bridge) if k != "auth[refresh_token]"]
    assert bridge.post("/hooks/bitrix24/install", form).status_code == 400
    wrong = [(k, "ONAPPUPDATE" if k == "event" else v) for k, v in a_real_install_form(bridge)]
    assert bridge.post("/hooks/bitrix24/install", wrong).status_code == 400
    assert bridge.stored() is None


def test_a_reinstall_replaces_the_tokens_and_the_event_token(bridge: Bridge) -> None:
    first = bridge.sandbox.bitrix24.install_app(bridge.app.client_id).auth
    assert bridge.post("/hooks/bitrix24", event(first["application_token"])).status_code == 200
    second = bridge.sandbox.bitrix24.install_app(bridge.app.client_id).auth
    stored = bridge.stored()
    assert stored is not None and stored.access_token == second["access_token"]
    assert stored.application_token == second["application_token"]
    old = bridge.post("/hooks/bitrix24", event(first["application_token"], deal=4))
    assert old.status_code == 401
    assert bridge.post("/hooks/bitrix24", event(second["application_token"])).status_code == 200
    assert inbox.for_entity(bridge.db, "deal", "4") == []


def test_before_the_install_no_event_is_accepted(bridge: Bridge) -> None:
    refused = bridge.post("/hooks/bitrix24", event("sandbox-app-token"))
    assert refused.status_code == 401
    assert inbox.for_entity(bridge.db, "deal", "3") == []


def test_in_webhook_mode_there_is_no_install_route(db: Database) -> None:
    with running_sandbox() as sandbox:
        env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
        application = Application(load_config(EXAMPLE, env).config, db)
        with serve_app(create_app(application)) as url:
            answer = httpx.post(
                f"{url}/hooks/bitrix24/install", content="event=ONAPPINSTALL", headers=FORM
            )
        application.close()
    assert answer.status_code == 404 and "auth: oauth" in answer.json()["error"]
