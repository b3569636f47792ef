"""The application wires the Bitrix24 connector its config asks for: an inbound webhook, or the
OAuth application with its tokens in the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.app import Application
from crmbridge.clock import SystemClock
from crmbridge.config.load import load_config
from crmbridge.connectors.bitrix24 import DatabaseTokenStore, NotInstalled, Tokens
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.support.oauth import EXAMPLE, oauth_config
from tests.support.sandbox import running_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


def oauth_app(sandbox: Sandbox, db: Database, tmp_path: Path) -> tuple[Application, str]:
    registered = sandbox.bitrix24.apps.register(scopes=["crm", "task"], handler="")
    path = oauth_config(sandbox, registered.client_id, registered.client_secret, tmp_path)
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    return Application(load_config(path, env).config, db), registered.client_id


def test_an_oauth_config_uses_the_installed_tokens(
    sandbox: Sandbox, db: Database, tmp_path: Path
) -> None:
    app, client_id = oauth_app(sandbox, db, tmp_path)
    try:
        with pytest.raises(NotInstalled):
            app.crm().deals.get("1")
        auth = sandbox.bitrix24.install_app(client_id).auth
        tokens = Tokens(auth["access_token"], auth["refresh_token"], auth["client_endpoint"])
        DatabaseTokenStore(db, SystemClock()).save(tokens)
        deal = app.crm().deals.get("1")
        assert deal is not None and deal.id == "1"
        assert app.crm() is app.context().crm
    finally:
        app.close()


def test_a_webhook_config_still_uses_the_webhook(sandbox: Sandbox, db: Database) -> None:
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    app = Application(load_config(EXAMPLE, env).config, db)
    try:
        assert app.crm().deals.get("2") is not None
        assert "sandbox" not in repr(app.crm())
    finally:
        app.close()
