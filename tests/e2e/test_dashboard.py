"""The dashboard and /api over real HTTP: who gets in, CSRF, retrying dead letters, the pages.

The web app is served on a loopback port from examples/sandbox.yaml with known credentials; the
dead letters are made by the queue's own functions, so every assertion reads the real tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.errors import ConfigError
from crmbridge.store import jobs as q
from crmbridge.store.database import Database
from crmbridge.web.app import create_app
from tests.e2e.test_cli_database import crmbridge
from tests.support.servers import serve_app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
TOKEN = "dash-token-4f1c2a"
PASSWORD = "dash-pass-9b7e"
ENV = {
    "CRMBRIDGE_SANDBOX_URL": "http://127.0.0.1:9",  # never called: nothing here runs a flow
    "CRMBRIDGE_WEB_TOKEN": TOKEN,
    "CRMBRIDGE_WEB_PASSWORD": PASSWORD,
}


@dataclass
class Site:
    url: str
    db: Database
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        self.clients.append(httpx.Client(base_url=self.url, follow_redirects=False))
        return self.clients[-1]


def application(db: Database, **env: str) -> Application:
    return Application(load_config(EXAMPLE, {**ENV, **env}).config, db)


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    app = application(db)
    with serve_app(create_app(app)) as url:
        running = Site(url, db)
        yield running
        for client in running.clients:
            client.close()
    app.close()


def dead_job(db: Database, flow: str, error: str, key: str | None = None) -> int:
    """A job buried after one attempt (call before any job is waiting: the claim takes the
    oldest waiting one)."""
    now = datetime.now(UTC)
    with db.write() as conn:
        job_id = q.enqueue(conn, q.NewJob(flow, {"id": "1"}, lock_key=key), now).id
    [job] = q.claim(db, "test", 1, now, timedelta(seconds=30))
    assert q.bury(db, job, now, error, "Traceback: ...")
    return job_id


def login_token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None, page
    return found[1]


def logged_in(site: Site, user: str = "admin", password: str = PASSWORD) -> httpx.Client:
    client = site.client()
    token = login_token(client.get("/login").text)
    answer = client.post(
        "/login", data={"user": user, "password": password, "token": token, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found[1]


def test_without_credentials_the_dashboard_and_api_answer_401(site: Site) -> None:
    for path in ("/", "/dead", "/trace/deal/1", "/ownership", "/jobs/1", "/no/such/page"):
        answer = httpx.get(site.url + path)
        assert answer.status_code == 401, path
        assert 'action="/login"' in answer.text  # the login form, not the page
    for path in ("/api/jobs", "/api/openapi.json", "/api/flows", "/metrics"):
        answer = httpx.get(site.url + path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{site.url}/api/jobs/1/replay").status_code == 401
    wrong = {"authorization": "Bearer not-the-token"}
    assert httpx.get(f"{site.url}/api/jobs", headers=wrong).status_code == 401
    basic_wrong = httpx.get(f"{site.url}/api/jobs", auth=("admin", "guess"))
    assert basic_wrong.status_code == 401
    # Open: health, and the hooks (which answer for themselves: no application token → 401).
    assert httpx.get(f"{site.url}/healthz").status_code == 200
    assert httpx.get(f"{site.url}/readyz").status_code == 200
    hook = httpx.post(f"{site.url}/hooks/bitrix24", content="event=ONCRMDEALUPDATE")
    assert hook.status_code == 401 and "credentials required" not in hook.text


def test_the_api_takes_the_token_or_a_user(site: Site) -> None:
    dead = dead_job(site.db, "clients", "Permanent: company 7 has no RQ_EDRPOU", "company:7")
    bearer = httpx.get(
        f"{site.url}/api/jobs",
        params={"status": "dead"},
        headers={"authorization": f"Bearer {TOKEN}"},
    )
    assert bearer.status_code == 200
    assert bearer.json()["total"] == 1 and bearer.json()["jobs"][0]["id"] == dead
    basic = httpx.get(f"{site.url}/api/jobs/{dead}", auth=("admin", PASSWORD))
    assert basic.json()["attempt_log"][0]["outcome"] == "dead"
    schema = httpx.get(f"{site.url}/api/openapi.json", auth=("admin", PASSWORD)).json()
    assert {"/api/jobs", "/api/jobs/{job_id}/replay", "/api/trace/{entity}/{key}"} <= set(
        schema["paths"]
    )


def test_an_address_with_too_many_failed_logins_is_held_back(site: Site) -> None:
    guesser = {"x-forwarded-for": "203.0.113.9"}  # behind a proxy on this host
    for attempt in range(10):
        wrong = httpx.get(
            f"{site.url}/api/jobs", auth=("admin", f"guess{attempt}"), headers=guesser
        )
        assert wrong.status_code == 401
    right = ("admin", PASSWORD)
    held = httpx.get(f"{site.url}/api/jobs", auth=right, headers=guesser)
    assert held.status_code == 429 and held.headers["retry-after"] == "300"
    client = site.client()
    token = login_token(client.get("/login", headers=guesser).text)
    form = {"user": "admin", "password": PASSWORD, "token": token}
    assert client.post("/login", data=form, headers=guesser).status_code == 429
    other = {"x-forwarded-for": "203.0.113.10"}
    assert httpx.get(f"{site.url}/api/jobs", auth=right, headers=other).status_code == 200
    assert httpx.get(f"{site.url}/api/jobs", auth=right).status_code == 200  # loopback


def test_login_sets_a_strict_http_only_session(site: Site) -> None:
    client = site.client()
    token = login_token(client.get("/login").text)
    wrong = client.post("/login", data={"user": "admin", "password": "x", "token": token})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    token = login_token(wrong.text)  # each form comes with a fresh token
    # A login posted from elsewhere lacks the login cookie's double-submit token.
    foreign = httpx.post(
        f"{site.url}/login", data={"user": "admin", "password": PASSWORD, "token": token}
    )
    assert foreign.status_code == 403
    answer = client.post(
        "/login",
        data={"user": "admin", "password": PASSWORD, "token": token, "next": "//evil.example/"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # no open redirect
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert PASSWORD not in cookie and TOKEN not in cookie
    assert client.get("/").status_code == 200
    with_token = logged_in(site, user="", password=TOKEN)
    assert "token" in with_token.get("/").text


def test_retry_needs_the_csrf_token_and_then_requeues_the_dead_letter(site: Site) -> None:
    first = dead_job(site.db, "clients", "Permanent: company 7 has no RQ_EDRPOU", "company:7")
    client = logged_in(site)
    page = client.get("/dead")
    assert "company 7 has no RQ_EDRPOU" in page.text
    assert client.post(f"/jobs/{first}/retry", data={}).status_code == 403
    assert client.post(f"/jobs/{first}/retry", data={"csrf": "forged"}).status_code == 403
    assert q.get(site.db, first).status == "dead"  # type: ignore[union-attr]
    # Another session's token is no good either.
    other = csrf_of(logged_in(site).get("/dead").text)
    assert client.post(f"/jobs/{first}/retry", data={"csrf": other}).status_code == 403
    answer = client.post(f"/jobs/{first}/retry", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303
    assert client.get(answer.headers["location"]).text.count("1 job queued again") == 1
    job = q.get(site.db, first)
    assert job is not None and job.status == "waiting" and job.attempts == 0


def test_retry_all_matching_requeues_only_the_filtered_dead_letters(site: Site) -> None:
    picked = [dead_job(site.db, "clients", f"Permanent: timeout {i}") for i in range(3)]
    other = dead_job(site.db, "issue-invoice", "Permanent: bad ЄДРПОУ")
    client = logged_in(site)
    page = client.get("/dead", params={"flow": "clients"})
    assert "3 dead jobs match" in page.text and "Retry all 3 matching" in page.text
    answer = client.post(
        "/dead/retry", data={"csrf": csrf_of(page.text), "flow": "clients", "error": "timeout"}
    )
    assert answer.status_code == 303
    assert "3 jobs queued again" in client.get(answer.headers["location"]).text
    assert [q.get(site.db, i).status for i in picked] == ["waiting"] * 3  # type: ignore[union-attr]
    assert q.get(site.db, other).status == "dead"  # type: ignore[union-attr]


def test_the_api_replays_one_job_and_refuses_what_cannot_be_replayed(site: Site) -> None:
    auth = ("admin", PASSWORD)
    dead = dead_job(site.db, "clients", "Permanent: 404")
    dead_job(site.db, "catalog", "Permanent: x")
    answer = httpx.post(f"{site.url}/api/jobs/{dead}/replay", auth=auth)
    assert answer.status_code == 200 and answer.json() == {"replayed": 1}
    again = httpx.post(f"{site.url}/api/jobs/{dead}/replay", auth=auth)
    assert again.status_code == 409  # it is waiting now
    assert httpx.post(f"{site.url}/api/jobs/999999/replay", auth=auth).status_code == 404
    matching = httpx.post(f"{site.url}/api/jobs/replay", params={"flow": "catalog"}, auth=auth)
    assert matching.json() == {"replayed": 1}


def test_pages_show_the_overview_trace_exchanges_and_ownership(site: Site) -> None:
    dead_job(site.db, "deal-changed", "Permanent: deal 1 has no company", "deal:1")
    client = logged_in(site)
    overview = client.get("/").text
    assert "deal-changed" in overview and "Permanent: deal 1 has no company" in overview
    trace = client.get("/trace/deal/1")
    assert trace.status_code == 200 and "deal-changed queued" in trace.text
    assert client.get("/trace/planet/1").status_code == 404
    assert "Nothing recorded with this key" in client.get("/exchanges?key=deal:1").text
    ownership = client.get("/ownership").text
    assert "deal.UF_CRM_INVOICE_NUMBER" in ownership and "КодПоЕДРПОУ" in ownership
    flows = httpx.get(f"{site.url}/api/flows", auth=("admin", PASSWORD)).json()
    assert flows[0]["flow"] == "deal-changed" and flows[0]["failed"] == 1
    api_trace = httpx.get(f"{site.url}/api/trace/deal/1", auth=("admin", PASSWORD)).json()
    assert [e["kind"] for e in api_trace["timeline"]] == ["job", "attempt"]


def test_markup_in_stored_text_is_escaped(site: Site) -> None:
    dead_job(site.db, "clients", "Permanent: <script>alert(1)</script>")
    page = logged_in(site).get("/dead").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_no_auth_opens_the_dashboard_but_posts_still_need_the_csrf_token(db: Database) -> None:
    app = application(db, CRMBRIDGE_WEB_TOKEN="", CRMBRIDGE_WEB_PASSWORD="")
    with pytest.raises(ConfigError, match="need credentials"):
        create_app(app)
    dead = dead_job(db, "clients", "Permanent: 404")
    with serve_app(create_app(app, auth=False)) as url, httpx.Client(base_url=url) as client:
        page = client.get("/dead")
        assert page.status_code == 200 and "no authentication" in page.text
        assert client.get("/api/jobs").status_code == 200
        assert client.post(f"/jobs/{dead}/retry", data={}).status_code == 403
        ok = client.post(f"/jobs/{dead}/retry", data={"csrf": csrf_of(page.text)})
        assert ok.status_code == 303
    assert q.get(db, dead).status == "waiting"  # type: ignore[union-attr]
    app.close()


def test_serve_refuses_no_auth_off_loopback_and_a_config_without_credentials(
    tmp_path: Path,
) -> None:
    env = {**ENV, "CRMBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    public = crmbridge("serve", "--config", str(EXAMPLE), "--host", "0.0.0.0", "--no-auth", env=env)
    assert public.returncode == 2
    assert "--no-auth is allowed only on a loopback host" in public.stderr
    bare = {**env, "CRMBRIDGE_WEB_TOKEN": "", "CRMBRIDGE_WEB_PASSWORD": ""}
    refused = crmbridge("serve", "--config", str(EXAMPLE), env=bare)
    assert refused.returncode == 2
    assert "the dashboard and /api need credentials" in refused.stderr
    assert not (tmp_path / "never.db").exists()  # refused before anything was created
