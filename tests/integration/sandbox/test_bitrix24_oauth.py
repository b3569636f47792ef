"""A local application: its tokens from the emulated oauth.bitrix.info, REST calls with `auth`,
expiry on the sandbox clock, rotation of the refresh token, app.info on both servers."""

from __future__ import annotations

from typing import Any

import httpx

from crmbridge.sandbox.bitrix24 import Bitrix24Sandbox
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import build
from tests.integration.sandbox.b24 import Portal
from tests.support.sandbox import running_sandbox

TOKEN_KEYS = {
    "access_token",
    "client_endpoint",
    "domain",
    "expires",
    "expires_in",
    "member_id",
    "refresh_token",
    "scope",
    "server_endpoint",
    "status",
    "user_id",
}


def installed(portal: Portal, scopes: list[str]) -> tuple[Any, dict[str, str]]:
    app = portal.sandbox.apps.register(scopes=scopes, handler="")
    return app, portal.sandbox.install_app(app.client_id).auth


def rest(portal: Portal, method: str, token: str, params: dict[str, Any] | None = None) -> Any:
    return portal.client.post(
        f"{portal.base}/bitrix24/rest/{method}", json={**(params or {}), "auth": token}
    )


def token(portal: Portal, **params: str) -> httpx.Response:
    return portal.client.get(f"{portal.base}/oauth/token/", params=params)


def refresh(portal: Portal, app: Any, refresh_token: str) -> httpx.Response:
    return token(
        portal,
        grant_type="refresh_token",
        client_id=app.client_id,
        client_secret=app.client_secret,
        refresh_token=refresh_token,
    )


def test_the_install_tokens_call_rest_in_the_body_or_the_query(portal: Portal) -> None:
    _, auth = installed(portal, ["crm"])
    assert rest(portal, "crm.deal.get", auth["access_token"], {"id": 1}).json()["result"]["ID"]
    url = f"{portal.base}/bitrix24/rest/crm.deal.get.json"
    got = portal.client.get(url, params={"id": 2, "auth": auth["access_token"]})
    assert got.json()["result"]["ID"] == "2"
    assert auth["client_endpoint"] == f"{portal.base}/bitrix24/rest/"
    assert auth["server_endpoint"] == f"{portal.base}/rest/"
    assert (auth["status"], auth["scope"], auth["expires_in"]) == ("L", "crm", "3600")


def test_a_refresh_rotates_the_pair_and_spends_the_old_refresh_token(portal: Portal) -> None:
    app, auth = installed(portal, ["crm", "task"])
    renewed = refresh(portal, app, auth["refresh_token"])
    assert renewed.status_code == 200
    body = renewed.json()
    assert set(body) == TOKEN_KEYS
    assert body["refresh_token"] != auth["refresh_token"]
    assert body["access_token"] != auth["access_token"]
    assert (body["expires_in"], body["scope"], body["status"]) == (3600, "crm,task", "L")
    assert body["expires"] == int(portal.clock.now().timestamp()) + 3600
    assert body["member_id"] == auth["member_id"] and body["user_id"] == 1
    assert rest(portal, "crm.deal.get", body["access_token"], {"id": 1}).status_code == 200
    spent = refresh(portal, app, auth["refresh_token"])
    assert (spent.status_code, spent.json()) == (400, {"error": "invalid_grant"})


def test_an_access_token_expires_after_an_hour_of_sandbox_time(portal: Portal) -> None:
    app, auth = installed(portal, ["crm"])
    portal.clock.advance(3599)
    assert rest(portal, "crm.deal.get", auth["access_token"], {"id": 1}).status_code == 200
    portal.clock.advance(2)
    expired = rest(portal, "crm.deal.get", auth["access_token"], {"id": 1})
    assert (expired.status_code, expired.json()) == (
        401,
        {"error": "expired_token", "error_description": "The access token provided has expired."},
    )
    renewed = refresh(portal, app, auth["refresh_token"]).json()
    assert rest(portal, "crm.deal.get", renewed["access_token"], {"id": 1}).status_code == 200


def test_the_token_endpoint_refuses_like_oauth_bitrix_info(portal: Portal) -> None:
    app, auth = installed(portal, ["crm"])
    good = {"grant_type": "refresh_token", "client_id": app.client_id}
    wrong_client = token(portal, **{**good, "client_id": "local.nosuchapp.1", "client_secret": "x"})
    assert (wrong_client.status_code, wrong_client.json()) == (200, {"error": "wrong_client"})
    bad_secret = token(portal, **good, client_secret="nope", refresh_token=auth["refresh_token"])
    assert (bad_secret.status_code, bad_secret.json()) == (400, {"error": "invalid_client"})
    missing = token(portal, **good, client_secret=app.client_secret)
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "invalid_request",
        "error_description": 'No "refresh_token" parameter found',
    }
    # nothing above spent the refresh token
    assert refresh(portal, app, auth["refresh_token"]).status_code == 200


def test_the_authorization_code_lives_thirty_seconds_and_once(portal: Portal) -> None:
    app, _ = installed(portal, ["crm"])
    exchange = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    code = portal.sandbox.oauth.authorize(app.client_id, user_id=1)
    first = token(portal, **exchange, code=code)
    assert first.status_code == 200 and set(first.json()) == TOKEN_KEYS
    assert token(portal, **exchange, code=code).json() == {"error": "invalid_grant"}
    late = portal.sandbox.oauth.authorize(app.client_id, user_id=1)
    portal.clock.advance(31)
    assert token(portal, **exchange, code=late).json() == {"error": "invalid_grant"}


def test_the_authorize_page_redirects_to_the_app_with_a_code(portal: Portal) -> None:
    app = portal.sandbox.apps.register(
        scopes=["crm"], handler="", redirect_uri="https://app.example/back"
    )
    portal.sandbox.install_app(app.client_id)
    page = portal.client.get(
        f"{portal.base}/bitrix24/oauth/authorize/",
        params={"client_id": app.client_id, "state": "xyz"},
    )
    assert page.status_code == 302
    target = httpx.URL(page.headers["location"])
    assert str(target.copy_with(query=None)) == "https://app.example/back"
    assert target.params["state"] == "xyz" and target.params["scope"] == "crm"
    assert target.params["server_domain"] == httpx.URL(portal.base).netloc.decode()
    exchanged = token(
        portal,
        grant_type="authorization_code",
        client_id=app.client_id,
        client_secret=app.client_secret,
        code=target.params["code"],
    )
    assert exchanged.status_code == 200


def test_an_application_has_only_its_scopes(portal: Portal) -> None:
    _, auth = installed(portal, ["crm"])
    refused = rest(portal, "tasks.task.list", auth["access_token"])
    assert (refused.status_code, refused.json()) == (
        401,
        {
            "error": "insufficient_scope",
            "error_description": (
                "The request requires higher privileges than provided by the access token"
            ),
        },
    )
    assert rest(portal, "scope", auth["access_token"]).json()["result"] == ["crm"]


def test_unknown_and_missing_tokens(portal: Portal) -> None:
    unknown = rest(portal, "crm.deal.get", "not-a-token", {"id": 1})
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"error": "invalid_token", "error_description": "Unable to get application by token"},
    )
    missing = portal.client.post(f"{portal.base}/bitrix24/rest/crm.deal.get", json={"id": 1})
    assert (missing.status_code, missing.json()["error"]) == (401, "NO_AUTH_FOUND")


def test_app_info_on_the_portal_and_on_the_oauth_server(portal: Portal) -> None:
    app, auth = installed(portal, ["crm", "task"])
    local = rest(portal, "app.info", auth["access_token"]).json()["result"]
    assert set(local) == {
        "ID",
        "CODE",
        "VERSION",
        "STATUS",
        "INSTALLED",
        "PAYMENT_EXPIRED",
        "DAYS",
        "LANGUAGE_ID",
        "LICENSE",
        "LICENSE_TYPE",
        "LICENSE_FAMILY",
    }
    assert (local["CODE"], local["STATUS"], local["INSTALLED"]) == (app.client_id, "L", True)
    central = portal.client.get(
        f"{portal.base}/rest/app.info", params={"auth": auth["access_token"]}
    ).json()["result"]
    assert central["client_id"] == app.client_id and central["user_id"] == 1
    assert central["scope"] == "crm,task"
    install = central["install"]
    assert install["member_id"] == auth["member_id"]
    assert install["client_endpoint"] == auth["client_endpoint"]
    assert install["domain"] == httpx.URL(portal.base).netloc.decode()
    assert install["installed"] is True and install["status"] == "L"
    bad = portal.client.get(f"{portal.base}/rest/app.info", params={"auth": "forged"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_client"})
    by_webhook = portal.result("app.info")
    assert set(by_webhook) == {"SCOPE", "LICENSE"} and "crm" in by_webhook["SCOPE"]


def test_a_reinstall_revokes_the_previous_tokens(portal: Portal) -> None:
    app, first = installed(portal, ["crm"])
    second = portal.sandbox.install_app(app.client_id).auth
    assert second["application_token"] != first["application_token"]
    assert rest(portal, "crm.deal.get", first["access_token"], {"id": 1}).status_code == 401
    assert refresh(portal, app, first["refresh_token"]).json() == {"error": "invalid_grant"}
    assert rest(portal, "crm.deal.get", second["access_token"], {"id": 1}).status_code == 200


def test_apps_and_tokens_survive_a_snapshot(portal: Portal) -> None:
    app, auth = installed(portal, ["crm"])
    again = Bitrix24Sandbox(
        build(), SandboxControl(), rate=None, public_url=portal.base, clock=portal.clock
    )
    again.restore(portal.sandbox.snapshot())
    assert again.apps.get(app.client_id) == portal.sandbox.apps.get(app.client_id)
    caller = again.oauth.caller(auth["access_token"])
    assert (caller.app, caller.user_id, caller.scopes) == (app.client_id, 1, frozenset({"crm"}))


def test_control_endpoints_register_and_install_an_app() -> None:
    with running_sandbox() as sandbox:
        base = f"{sandbox.settings.public_url}/sandbox/bitrix24"
        made = httpx.post(f"{base}/apps", json={"scopes": ["crm", "task"], "handler": ""})
        assert made.status_code == 201
        app = made.json()
        assert app["client_id"].startswith("local.") and len(app["client_secret"]) == 50
        done = httpx.post(f"{base}/apps/{app['client_id']}/install")
        assert done.status_code == 200 and done.json()["delivered"] is None
        assert httpx.post(f"{base}/apps/local.none.1/install").status_code == 404
        bad = httpx.post(f"{base}/apps", json={"scopes": ["nope"], "handler": ""})
        assert bad.status_code == 400


def test_expiring_every_access_token_leaves_the_refresh_tokens(portal: Portal) -> None:
    app, auth = installed(portal, ["crm"])
    portal.sandbox.oauth.expire_access_tokens()
    expired = rest(portal, "crm.deal.get", auth["access_token"], {"id": 1})
    assert expired.json()["error"] == "expired_token"
    assert refresh(portal, app, auth["refresh_token"]).status_code == 200
