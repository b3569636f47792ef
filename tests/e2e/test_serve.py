"""`crmbridge serve --with-worker` as a process, the sandbox posting its events to it.

The whole loop over real HTTP: the rep's click on the sandbox page fires ONCRMDEALUPDATE at the
intake; the worker issues the invoice; the accountant's payment is found by the poller.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from crmbridge.sandbox.server import Sandbox
from crmbridge.store import inbox
from crmbridge.store.database import open_database
from tests.support.bridge import serving
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sandbox.yaml"
DEAL = 3


@pytest.fixture
def bridge(tmp_path: Path, db_url: str) -> Iterator[tuple[str, Sandbox, str]]:
    port = free_port()
    with running_sandbox(outgoing_webhook=f"http://127.0.0.1:{port}/hooks/bitrix24") as sandbox:
        env = {
            "CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url,
            "CRMBRIDGE_DATABASE_URL": db_url,
            "CRMBRIDGE_POLL_EVERY": "0.5",
        }
        with serving(EXAMPLE, port, env, tmp_path / "serve.log") as url:
            yield url, sandbox, db_url


def test_click_to_paid_over_real_http(bridge: tuple[str, Sandbox, str]) -> None:
    _, sandbox, _ = bridge
    page = f"{sandbox.settings.public_url}/bitrix24/sandbox/deals/{DEAL}/invoice"
    assert httpx.post(page).status_code in (200, 303)
    deal = wait_for(
        lambda: (d := sandbox.bitrix24.deal(DEAL)).get("UF_CRM_INVOICE_NUMBER") and d,
        timeout=60,
        what="the invoice number on the deal",
    )
    [invoice] = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
    assert deal["UF_CRM_INVOICE_NUMBER"] == invoice["Number"] and invoice["Posted"]
    sandbox.bas.record_payment(invoice["Ref_Key"], Decimal(str(invoice["СуммаДокумента"])))
    wait_for(lambda: sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "UC_PAID", timeout=60, what="paid")
    assert sandbox.bitrix24.deal(DEAL)["UF_CRM_PAYMENT_STATUS"] == "Оплачено"


def test_forged_and_malformed_webhooks_are_refused_and_not_stored(
    bridge: tuple[str, Sandbox, str],
) -> None:
    url, _, db_url = bridge
    forged = "event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&auth[application_token]=forged"
    missing = "event=ONCRMDEALUPDATE&data[FIELDS][ID]=1"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert httpx.post(f"{url}/hooks/bitrix24", content=forged, headers=form).status_code == 401
    assert httpx.post(f"{url}/hooks/bitrix24", content=missing, headers=form).status_code == 401
    bad = "event=ONCRMDEALUPDATE&auth[application_token]=sandbox-app-token&%%%"
    assert httpx.post(f"{url}/hooks/bitrix24", content=bad, headers=form).status_code == 400
    big = "x=" + "a" * (1024 * 1024 + 1)
    assert httpx.post(f"{url}/hooks/bitrix24", content=big, headers=form).status_code == 413
    db = open_database(db_url)
    assert inbox.for_entity(db, "deal", "1") == []
    db.dispose()


def test_the_same_delivery_three_times_is_stored_once_and_makes_one_invoice(
    bridge: tuple[str, Sandbox, str],
) -> None:
    url, sandbox, db_url = bridge
    sandbox.bitrix24.set_deal_stage(2, "PREPAYMENT_INVOICE")  # the portal posts its own event too
    body = (
        "event=ONCRMDEALUPDATE&event_handler_id=7&data%5BFIELDS%5D%5BID%5D=2&ts=1764310000"
        "&auth%5Bdomain%5D=sandbox&auth%5Bapplication_token%5D=sandbox-app-token"
    )
    form = {"content-type": "application/x-www-form-urlencoded"}
    answers = [httpx.post(f"{url}/hooks/bitrix24", content=body, headers=form) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicates"] for a in answers] == [0, 1, 1]
    wait_for(
        lambda: sandbox.bitrix24.deal(2).get("UF_CRM_INVOICE_NUMBER"), timeout=60, what="invoice"
    )
    db = open_database(db_url)
    stored = [e for e in inbox.for_entity(db, "deal", "2") if e["event_id"].endswith(":1764310000")]
    db.dispose()
    assert len(stored) == 1
    assert len([i for i in sandbox.bas.invoices() if "[crm:deal:2]" in i["Комментарий"]]) == 1
