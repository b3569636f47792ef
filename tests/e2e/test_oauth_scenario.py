"""`crmbridge serve --with-worker` in OAuth mode as a process, installed by the sandbox portal,
then the typical scenario with the access tokens expiring halfway, on SQLite and PostgreSQL.

The admin registers crmbridge as a local application and installs it: the portal posts
ONAPPINSTALL to the bridge, which verifies it, keeps the tokens and binds the deal events. The
rep's click reaches the bridge as the application's event; the invoice is issued with the app's
token. Then every access token expires (an hour passes for them), the accountant's payment is
found by the poller, and the bridge renews its token once to move the deal to "Paid".
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx

from crmbridge.clock import SystemClock
from crmbridge.connectors.bitrix24 import DatabaseTokenStore
from crmbridge.store.database import open_database
from crmbridge.store.journal import exchanges_for
from tests.support.bridge import serving
from tests.support.oauth import oauth_config
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port
from tests.support.waiting import wait_for

DEAL = 5


def test_installed_by_the_portal_it_issues_and_closes_an_invoice_across_a_token_expiry(
    tmp_path: Path, db_url: str
) -> None:
    port = free_port()
    with running_sandbox() as sandbox:
        portal = sandbox.bitrix24
        app = portal.apps.register(
            scopes=["crm", "task"], handler=f"http://127.0.0.1:{port}/hooks/bitrix24/install"
        )
        config = oauth_config(sandbox, app.client_id, app.client_secret, tmp_path)
        env = {
            "CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url,
            "CRMBRIDGE_DATABASE_URL": db_url,
            "CRMBRIDGE_POLL_EVERY": "0.5",
        }
        log = tmp_path / "serve.log"
        with serving(config, port, env, log):
            installed = portal.install_app(app.client_id)
            assert installed.delivered == 200

            page = f"{sandbox.settings.public_url}/bitrix24/sandbox/deals/{DEAL}/invoice"
            assert httpx.post(page).status_code in (200, 303)
            deal = wait_for(
                lambda: (d := portal.deal(DEAL)).get("UF_CRM_INVOICE_NUMBER") and d,
                timeout=60,
                what="the invoice number on the deal",
            )
            [invoice] = [
                i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]
            ]
            assert deal["UF_CRM_INVOICE_NUMBER"] == invoice["Number"]
            assert portal.oauth.refreshes == 0

            portal.oauth.expire_access_tokens()  # an hour passes for every access token
            sandbox.bas.record_payment(invoice["Ref_Key"], Decimal(str(invoice["СуммаДокумента"])))
            wait_for(lambda: portal.deal(DEAL)["STAGE_ID"] == "UC_PAID", timeout=60, what="paid")

            def tasks() -> list[object]:  # the task comes right after the stage, not with it
                found = portal.call("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{DEAL}"}})
                return list(found["tasks"])

            wait_for(lambda: len(tasks()) > 0, timeout=60, what="the rep's task")
            assert len(tasks()) == 1

    assert portal.oauth.refreshes == 1  # one renewal for the serve process and its worker
    db = open_database(db_url)
    stored = DatabaseTokenStore(db, SystemClock()).load()
    refreshed = [e for e in exchanges_for(db) if e["operation"] == "oauth.refresh"]
    db.dispose()
    assert stored.access_token != installed.auth["access_token"]
    assert stored.application_token == installed.auth["application_token"]
    assert len(refreshed) == 1 and refreshed[0]["status"] == 200
    text = log.read_text(encoding="utf-8") + str(refreshed)
    for secret in (
        app.client_secret,
        installed.auth["access_token"],
        installed.auth["refresh_token"],
        installed.auth["application_token"],
        stored.access_token,
        stored.refresh_token,
    ):
        assert secret not in text
