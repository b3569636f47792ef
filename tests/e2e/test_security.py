"""Security of `crmbridge serve` as a process: refused deliveries store nothing, and no secret
shows up anywhere after the typical scenario.

Secrets are unique random values for this run (the sandbox's own are the word "sandbox", which
is everywhere): the webhook URL's code, the application token, the BAS password (and its Basic
header), the BAS webhook signing secret, the dashboard token and password. After the scenario
the serve log, every column of every table, the trace, every dashboard page, the API's answers
and `/metrics` (when it exists) are searched for each of them.

Already covered elsewhere, not repeated: a missing or forged application token, a malformed
form and a body over 1 MiB on /hooks/bitrix24 (test_serve.py); the dashboard and /api without
credentials (test_dashboard.py); signature checks as functions (unit/test_onec_webhooks.py).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from sqlalchemy import func, select

from crmbridge.connectors.onec.webhooks import WebhookSecret, sign
from crmbridge.sandbox.bas.sandbox import USER as BAS_USER
from crmbridge.sandbox.bitrix24 import events as sandbox_events
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database, open_database
from crmbridge.store.schema import inbox, jobs, metadata
from tests.e2e.test_cli_database import crmbridge
from tests.e2e.test_dashboard import login_token
from tests.support.bridge import serving
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port
from tests.support.waiting import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 4
PAYMENT_SET = "Document_ПоступлениеНаРасчетныйСчет"


@dataclass(frozen=True)
class Secrets:
    code: str = "whcode" + secrets.token_hex(6)
    app_token: str = "apptok" + secrets.token_hex(6)
    bas_password: str = "baspw" + secrets.token_hex(6)
    signing: str = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    web_token: str = "webtok" + secrets.token_hex(6)
    web_password: str = "webpw" + secrets.token_hex(6)

    def variants(self) -> dict[str, str]:
        """Each secret as it could leak: raw, percent-encoded, inside a Basic header, or the
        signing key without its prefix."""
        found: dict[str, str] = {}
        for name, value in vars(self).items():
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                found[form] = name
        found[self.signing.removeprefix("whsec_")] = "signing key"
        for user, password in ((BAS_USER, self.bas_password), ("admin", self.web_password)):
            found[base64.b64encode(f"{user}:{password}".encode()).decode()] = f"Basic {user}"
        return found


@dataclass
class Bridge:
    url: str
    sandbox: Sandbox
    db: Database
    log: Path
    keys: Secrets
    db_url: str

    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys.web_token}"}


def _config(keys: Secrets, folder: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ("/rest/1/sandbox/", f"/rest/1/{keys.code}/"),
        ("application_token: sandbox-app-token", f"application_token: {keys.app_token}"),
        ("    password: sandbox\n", f"    password: {keys.bas_password}\n"),
        ("    price_type:", f"    webhook_secret: {keys.signing}\n    price_type:"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "secure.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    folder = tmp_path_factory.mktemp("security")
    db_url = f"sqlite:///{folder / 'secure.db'}"
    port = free_port()
    with (
        pytest.MonkeyPatch.context() as patch,
        running_sandbox(outgoing_webhook=f"http://127.0.0.1:{port}/hooks/bitrix24") as sandbox,
    ):
        # The emulators take this run's credentials instead of their fixed ones.
        hook = sandbox.bitrix24.create_webhook(user=1)
        keys = replace(Secrets(), code=hook.rstrip("/").rsplit("/", 1)[1])
        patch.setattr(sandbox_events, "APPLICATION_TOKEN", keys.app_token)
        sandbox.bas.credentials = (BAS_USER, keys.bas_password)
        env = {
            "CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url,
            "CRMBRIDGE_DATABASE_URL": db_url,
            "CRMBRIDGE_POLL_EVERY": "0.5",
            "CRMBRIDGE_WEB_TOKEN": keys.web_token,
            "CRMBRIDGE_WEB_PASSWORD": keys.web_password,
        }
        log = folder / "serve.log"
        with serving(_config(keys, folder), port, env, log) as url:
            db = open_database(db_url)
            yield Bridge(url, sandbox, db, log, keys, db_url)
            db.dispose()


def inbox_count(db: Database, source: str) -> int:
    """Stored events from `source` (the portal posts its own events meanwhile: products…)."""
    query = select(func.count()).select_from(inbox).where(inbox.c.source == source)
    with db.read() as conn:
        return int(conn.execute(query).scalar_one())


def push(bridge: Bridge, body: bytes, *, age: float = 0, key: str | None = None) -> httpx.Response:
    secret = WebhookSecret(key or bridge.keys.signing)
    headers = sign(secret, f"msg_{secrets.token_hex(6)}", int(time.time() - age), body)
    headers["content-type"] = "application/json"
    return httpx.post(f"{bridge.url}/hooks/bas", content=body, headers=headers)


def payment_event() -> bytes:
    data = {"entity_set": PAYMENT_SET, "Ref_Key": "00000000-0000-0000-0000-00000000000a"}
    return json.dumps({"type": "document.posted", "data": data}).encode()


def test_bas_pushes_with_a_bad_signature_an_old_timestamp_or_a_bad_body_are_refused(
    bridge: Bridge,
) -> None:
    before = inbox_count(bridge.db, "bas")
    other = "whsec_" + base64.b64encode(b"someone else's key 0123").decode()
    assert push(bridge, payment_event(), key=other).status_code == 401
    assert push(bridge, payment_event(), age=600).status_code == 401  # beyond 5 minutes
    assert push(bridge, payment_event(), age=-600).status_code == 401  # from the future
    unsigned = httpx.post(f"{bridge.url}/hooks/bas", content=payment_event())
    assert unsigned.status_code == 401
    assert push(bridge, b'{"type": "document.posted", "data": ').status_code == 400
    assert push(bridge, b'{"type": 1}').status_code == 400
    assert push(bridge, b"[" + b" " * (1024 * 1024) + b"]").status_code == 413
    assert inbox_count(bridge.db, "bas") == before  # none of them was stored
    answer = push(bridge, payment_event())  # the same, signed and fresh: taken
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert inbox_count(bridge.db, "bas") == before + 1


NOT_AN_ID = ["abc", "-7", "12.5", "1 OR 1=1", "0", "", "٣", "+5", "1" * 25]


@pytest.mark.parametrize("bad_id", NOT_AN_ID)
def test_an_authentic_delivery_whose_id_is_not_a_positive_integer_is_refused(
    bridge: Bridge, bad_id: str
) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    token = quote_plus(bridge.keys.app_token)
    body = f"event=ONCRMDEALUPDATE&data[FIELDS][ID]={quote_plus(bad_id)}&ts=1"
    answer = httpx.post(
        f"{bridge.url}/hooks/bitrix24",
        content=f"{body}&auth[application_token]={token}",
        headers=form,
    )
    assert answer.status_code == 400
    assert "positive integer" in answer.json()["error"]
    action = httpx.post(
        f"{bridge.url}/hooks/bitrix24/actions/issue-invoice",
        content=f"deal_id={quote_plus(bad_id)}&auth[application_token]={token}",
        headers=form,
    )
    assert action.status_code == 400
    with bridge.db.read() as conn:
        stored = select(func.count()).select_from(inbox).where(inbox.c.entity_id == bad_id)
        assert conn.execute(stored).scalar_one() == 0
        queued = select(func.count()).select_from(jobs).where(jobs.c.lock_key == f"deal:{bad_id}")
        assert conn.execute(queued).scalar_one() == 0


def test_robot_actions_need_the_token_and_a_well_formed_body(bridge: Bridge) -> None:
    action = f"{bridge.url}/hooks/bitrix24/actions/issue-invoice"
    form = {"content-type": "application/x-www-form-urlencoded"}
    forged = "document_id[2]=DEAL_2&auth[application_token]=forged"
    assert httpx.post(action, content=forged, headers=form).status_code == 401
    assert httpx.post(action, content="document_id[2]=DEAL_2", headers=form).status_code == 401
    good = f"auth[application_token]={bridge.keys.app_token}"
    assert httpx.post(action, content=f"{good}&%%%", headers=form).status_code == 400
    assert httpx.post(action, content=f"{good}&deal_id=x", headers=form).status_code == 400
    assert httpx.post(action, content=b"\xff\xfe", headers=form).status_code == 400
    big = good + "&x=" + "a" * (1024 * 1024)
    assert httpx.post(action, content=big, headers=form).status_code == 413
    with bridge.db.read() as conn:
        query = select(func.count()).select_from(inbox).where(inbox.c.event_id.like("action:%"))
        assert conn.execute(query).scalar_one() == 0  # no robot call was stored


def test_no_secret_in_logs_database_trace_dashboard_api_or_metrics(bridge: Bridge) -> None:
    sandbox, keys = bridge.sandbox, bridge.keys
    page = f"{sandbox.settings.public_url}/bitrix24/sandbox/deals/{DEAL}/invoice"
    assert httpx.post(page).status_code in (200, 303)
    wait_for(
        lambda: sandbox.bitrix24.deal(DEAL).get("UF_CRM_INVOICE_NUMBER"), timeout=60, what="invoice"
    )
    [invoice] = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
    sandbox.bas.record_payment(invoice["Ref_Key"], Decimal(str(invoice["СуммаДокумента"])))
    assert push(bridge, payment_event()).status_code == 200  # BAS says so too, signed
    wait_for(lambda: sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "UC_PAID", timeout=60, what="paid")
    wait_for(lambda: _idle(bridge.db), timeout=30, what="the queue idle")

    texts: dict[str, str] = {"serve log": bridge.log.read_text(encoding="utf-8")}
    assert "crmbridge.worker: worker" in texts["serve log"]  # INFO lines, as in production
    texts.update(_database(bridge.db))
    cli_trace = crmbridge("trace", "deal", str(DEAL), "--database", bridge.db_url, "--json")
    assert cli_trace.returncode == 0 and "issue_invoice" in cli_trace.stdout
    texts["crmbridge trace --json"] = cli_trace.stdout + cli_trace.stderr
    texts.update(_dashboard(bridge))
    texts.update(_api(bridge))
    assert "issue_invoice: create invoice" in texts[f"page /trace/deal/{DEAL}"]

    leaks = [
        f"{name} ({form[:6]}…) in {where}"
        for where, text in texts.items()
        for form, name in keys.variants().items()
        if form in text
    ]
    assert leaks == []


def _idle(db: Database) -> bool:
    with db.read() as conn:
        busy = select(func.count()).select_from(jobs).where(jobs.c.status == "running")
        return int(conn.execute(busy).scalar_one()) == 0


def _database(db: Database) -> dict[str, str]:
    found: dict[str, str] = {}
    with db.read() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            assert table.name not in ("inbox", "exchanges", "jobs") or rows, table.name
            found[f"table {table.name}"] = "\n".join(
                json.dumps(list(row), ensure_ascii=False, default=str) for row in rows
            )
    return found


def _dashboard(bridge: Bridge) -> dict[str, str]:
    with httpx.Client(base_url=bridge.url, follow_redirects=True) as client:
        login = client.get("/login")
        found = {"page /login": login.text}
        answer = client.post(
            "/login",
            data={
                "user": "admin",
                "password": bridge.keys.web_password,
                "token": login_token(login.text),
                "next": "/",
            },
        )
        assert answer.status_code == 200 and "Overview" in answer.text
        paths = ["/", "/dead", "/ownership", f"/trace/deal/{DEAL}", f"/exchanges?key=deal:{DEAL}"]
        paths += ["/trace", "/exchanges?key=company:1"]
        deal_jobs = httpx.get(
            f"{bridge.url}/api/jobs", params={"limit": 1000}, headers=bridge.bearer()
        ).json()["jobs"]
        paths += [f"/jobs/{j['id']}" for j in deal_jobs if j["flow"] != "poll-payments"]
        for path in paths:
            page = client.get(path)
            assert page.status_code == 200, path
            found[f"page {path}"] = page.text
        found["cookies"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return found


def _api(bridge: Bridge) -> dict[str, str]:
    found: dict[str, str] = {}
    paths = ["/api/jobs?limit=1000", "/api/flows", "/api/ownership", "/api/openapi.json"]
    paths += [f"/api/trace/deal/{DEAL}", f"/api/exchanges?key=deal:{DEAL}&limit=1000"]
    for path in paths:
        answer = httpx.get(bridge.url + path, headers=bridge.bearer())
        assert answer.status_code == 200, path
        found[f"api {path}"] = answer.text
    for job in json.loads(found["api /api/jobs?limit=1000"])["jobs"][:50]:
        answer = httpx.get(f"{bridge.url}/api/jobs/{job['id']}", headers=bridge.bearer())
        found[f"api /api/jobs/{job['id']}"] = answer.text
    metrics = httpx.get(f"{bridge.url}/metrics", headers=bridge.bearer())
    if metrics.status_code != 404:  # served once the metrics endpoint exists
        assert metrics.status_code == 200
        found["/metrics"] = metrics.text
    return found
