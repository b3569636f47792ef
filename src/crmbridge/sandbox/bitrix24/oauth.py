"""The emulated authorization server (oauth.bitrix.info) for this portal's local applications.

From `bitrix24/b24restdocs:settings/oauth/index.md` and `auto-renewal.md`:
`GET <server>/oauth/token/?grant_type=authorization_code|refresh_token&client_id&client_secret&
code|refresh_token` answers a token pair: `access_token` (lives `lifetime`, one hour), a new
`refresh_token` (180 days), `expires` (unix), `expires_in`, `client_endpoint`
(`<portal>/rest/`), `server_endpoint` (`<server>/rest/`), `domain` (the server's own host),
`member_id`, `scope` (comma list), `status` (`L`, local) and `user_id`. The authorization `code`
lives 30 s. The docs only say to keep the new refresh token "instead of the previous one"; that
the previous one is then refused, and that a reinstall revokes the app's earlier tokens, is
assumed.

Refusals, as `bitrix24/b24pysdk:b24pysdk/errors/oauth.py` records them (its
`tests/integration/errors/test_errors_oauth.py` runs them against the real server): an unknown
client_id → HTTP 200 `{"error": "wrong_client"}`; a wrong secret → 400 `invalid_client`; a bad
or spent grant → 400 `invalid_grant`; no refresh token → 400 `invalid_request`
`No "refresh_token" parameter found`. An app that is not installed → 400 `invalid_client`
(`settings/oauth/error-codes.md`: "the application may not be installed").

REST calls with `auth=<access_token>` (`caller()`): an unknown token → 401 `invalid_token`
"Unable to get application by token", an expired one → 401 `expired_token` "The access token
provided has expired." (b24pysdk `errors/__init__.py`; `_includes/system-errors.md`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.apps import LocalApp, LocalApps
from crmbridge.sandbox.bitrix24.auth import Caller, random_code
from crmbridge.sandbox.bitrix24.dispatch import Urls
from crmbridge.sandbox.bitrix24.wire import RestError

ACCESS_LIFETIME = 3600.0
REFRESH_LIFETIME = 180 * 86400.0
CODE_LIFETIME = 30.0

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Grant:
    """What a token or a code stands for: an app, the user it acts for, until when (unix)."""

    client_id: str
    user_id: int
    expires: float


class OAuthServer:
    def __init__(
        self,
        apps: LocalApps,
        clock: Clock,
        urls: Urls,
        *,
        server_url: str | None = None,
        lifetime: float = ACCESS_LIFETIME,
    ) -> None:
        self.apps = apps
        self.clock = clock
        self._urls = urls
        self.server_url = (server_url or urls.public_url).rstrip("/")
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._codes: dict[str, Grant] = {}
        self.refreshes = 0  # refresh grants served, for tests that count renewals

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # issuing ----------------------------------------------------------------------------------
    def issue(self, app: LocalApp, user_id: int) -> dict[str, Any]:
        """A new token pair for `app` acting as `user_id`: the token server's answer body."""
        now = self._now()
        access, refresh = random_code(32), random_code(32)
        with self._lock:
            self._access[access] = Grant(app.client_id, user_id, now + self.lifetime)
            self._refresh[refresh] = Grant(app.client_id, user_id, now + REFRESH_LIFETIME)
        return {
            "access_token": access,
            "client_endpoint": f"{self._urls.portal}/rest/",
            "domain": urlsplit(self.server_url).netloc,
            "expires": int(now + self.lifetime),
            "expires_in": int(self.lifetime),
            "member_id": self._urls.member_id,
            "refresh_token": refresh,
            "scope": ",".join(sorted(app.scopes)),
            "server_endpoint": f"{self.server_url}/rest/",
            "status": "L",
            "user_id": user_id,
        }

    def authorize(self, client_id: str, user_id: int) -> str:
        """A one-time code, as `/oauth/authorize/` hands it to the app's redirect URI."""
        code = random_code(32)
        with self._lock:
            self._codes[code] = Grant(client_id, user_id, self._now() + CODE_LIFETIME)
        return code

    def revoke(self, client_id: str) -> None:
        """Forget every token and code of `client_id` (the app was installed again)."""
        with self._lock:
            for grants in (self._access, self._refresh, self._codes):
                for key in [k for k, g in grants.items() if g.client_id == client_id]:
                    del grants[key]

    def expire_access_tokens(self) -> None:
        """As if an hour passed for every access token (refresh tokens are untouched)."""
        now = self._now()
        with self._lock:
            self._access = {k: Grant(g.client_id, g.user_id, now) for k, g in self._access.items()}

    # GET /oauth/token/ --------------------------------------------------------------------------
    def token(self, params: dict[str, str]) -> Answer:
        app = self.apps.get(params.get("client_id", ""))
        if app is None:
            return 200, {"error": "wrong_client"}
        if params.get("client_secret") != app.client_secret or not app.installed:
            return 400, {"error": "invalid_client"}
        kind = params.get("grant_type", "")
        if kind == "refresh_token":
            if not params.get("refresh_token"):
                return 400, _invalid_request('No "refresh_token" parameter found')
            grant = self._take(self._refresh, params["refresh_token"], app)
        elif kind == "authorization_code":
            grant = self._take(self._codes, params.get("code", ""), app)
        else:
            return 400, _invalid_request(f'Unsupported grant_type "{kind}"')  # [assumption]
        if grant is None:
            return 400, {"error": "invalid_grant"}
        if kind == "refresh_token":
            self.refreshes += 1
        return 200, self.issue(app, grant.user_id)

    def _take(self, grants: dict[str, Grant], key: str, app: LocalApp) -> Grant | None:
        """Spend a refresh token or a code: valid once, for its own app, before it expires."""
        with self._lock:
            grant = grants.get(key)
            if grant is None or grant.client_id != app.client_id or grant.expires <= self._now():
                return None
            del grants[key]
            return grant

    # using a token ------------------------------------------------------------------------------
    def grant(self, access_token: str) -> Grant:
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None or self.apps.get(grant.client_id) is None:
            raise RestError("invalid_token", "Unable to get application by token", 401)
        if grant.expires <= self._now():
            raise RestError("expired_token", "The access token provided has expired.", 401)
        return grant

    def caller(self, access_token: str) -> Caller:
        grant = self.grant(access_token)
        app = self.apps.get(grant.client_id)
        assert app is not None
        return Caller(grant.user_id, app.scopes, app=app.client_id)

    # persistence ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                name: {k: asdict(g) for k, g in grants.items()}
                for name, grants in (("access", self._access), ("refresh", self._refresh))
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._access = {k: Grant(**g) for k, g in data.get("access", {}).items()}
            self._refresh = {k: Grant(**g) for k, g in data.get("refresh", {}).items()}


def _invalid_request(description: str) -> dict[str, Any]:
    return {"error": "invalid_request", "error_description": description}
