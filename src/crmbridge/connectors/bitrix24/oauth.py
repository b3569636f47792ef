"""OAuth 2.0 application mode: an access token per call, renewed on `expired_token` only.

From `settings/oauth/index.md` and `auto-renewal.md`: the token goes in the call as `auth`;
`https://oauth.bitrix.info/oauth/token/?grant_type=refresh_token&…` returns a new access token
(1 h) and a new refresh token (the old one is spent), so the pair is saved at once through the
`TokenStore`. Refreshing on a timer or per request can get the app blocked; we refresh only
after the portal says `expired_token`.

Single flight: threads of one process that hit `expired_token` together wait on one lock; the
first renews, the others find a new token stored and just retry. Across processes the store's
claim does the same (tokens.py): the process that gets it renews, the others wait until the
stored token changes. The tokens are cached between calls and read again when the portal
refuses them (another process may have renewed them, or the app been installed again).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from crmbridge.clock import Clock, SystemClock
from crmbridge.connectors.bitrix24.tokens import INSTALL_HANDLER, LEASE, Tokens, TokenStore
from crmbridge.connectors.bitrix24.wire import AuthRefused, ExpiredToken, InsufficientScope
from crmbridge.connectors.http import HttpCaller, Unavailable
from crmbridge.errors import CrmbridgeError, Permanent

OAUTH_SERVER = "https://oauth.bitrix.info"
REFRESH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
WAIT_POLL = 0.05  # seconds between looks at the store while another process renews
REINSTALL = f"reinstall the application in Bitrix24 (its handler is {INSTALL_HANDLER})"
# Refusals of the authorization server that a reinstall does not cure (b24pysdk errors/oauth.py).
_CLIENT_ERRORS = ("wrong_client", "invalid_client")


class OAuthApp:
    def __init__(
        self,
        caller: HttpCaller,
        *,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        server: str = OAUTH_SERVER,
        portal: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._caller = caller
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self._server = server.rstrip("/")
        self._portal = portal
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None

    def _current(self) -> Tokens:
        tokens = self._tokens
        if tokens is None:
            tokens = self._tokens = self._store.load()
        return tokens

    @property
    def secrets(self) -> list[str]:
        held = [self._tokens.access_token, self._tokens.refresh_token] if self._tokens else []
        return [self._client_secret, *held]

    @property
    def portal(self) -> str:
        if self._portal:
            return self._portal
        parts = urlsplit(self._tokens.client_endpoint if self._tokens else "")
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "(not installed)"

    def method_url(self, method: str) -> str:
        return self._current().client_endpoint.rstrip("/") + "/" + method

    def sign(self, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        token = self._current().access_token
        return {**params, "auth": token}, token

    def renew(self, used: str | None) -> bool:
        with self._lock:
            claimed = self._claim(used)
            if claimed is None:
                return True  # renewed by another thread or process meanwhile
            renewed = None
            try:
                renewed = self._refresh(claimed)
            finally:
                kept = self._store.finish(claimed, renewed)
            self._tokens = renewed if kept else self._store.load()
            return True

    def _claim(self, used: str | None) -> Tokens | None:
        """The store's claim to renew `used`, or None once another has renewed it."""
        deadline = time.monotonic() + LEASE + 10
        while True:
            self._tokens = current = self._store.load()
            if current.access_token != used:
                return None
            claimed = self._store.claim(current.access_token)
            if claimed is not None:
                return claimed
            if time.monotonic() > deadline:
                raise Unavailable("bitrix24: another process has been renewing the token too long")
            time.sleep(WAIT_POLL)  # another process is renewing it: wait for its result

    def reload(self, used: str | None) -> bool:
        with self._lock:
            self._tokens = self._store.load()
            return self._tokens.access_token != used

    def advice(self, error: CrmbridgeError) -> str | None:
        if isinstance(error, InsufficientScope) and error.scope:
            return (
                f"add `{error.scope}` to the local application's permissions in Bitrix24 "
                "(Applications → Developer resources → Integrations) and reinstall it"
            )
        if isinstance(error, AuthRefused):
            return f"the portal refused the application's token: {REINSTALL}"
        if isinstance(error, ExpiredToken):
            return REINSTALL
        return None

    def _refresh(self, current: Tokens) -> Tokens:
        params = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": current.refresh_token,
        }
        response = self._caller.request(
            "GET",
            f"{self._server}/oauth/token/",
            operation="oauth.refresh",
            params=params,
            timeout=REFRESH_TIMEOUT,
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise _refused(response, body)
        return self._renewed(current, body)

    def _renewed(self, current: Tokens, body: dict[str, Any]) -> Tokens:
        if body.get("expires"):
            expires_at = datetime.fromtimestamp(int(body["expires"]), UTC)
        else:
            expires_at = self._clock.now() + timedelta(seconds=int(body.get("expires_in") or 3600))
        return Tokens(
            str(body["access_token"]),
            str(body["refresh_token"]),
            str(body.get("client_endpoint") or current.client_endpoint),
            member_id=str(body.get("member_id") or current.member_id),
            application_token=current.application_token,
            scope=str(body.get("scope") or current.scope),
            expires_at=expires_at,
        )

    def __repr__(self) -> str:
        return f"OAuthApp({self.portal!r}, client_id={self._client_id!r})"


def _refused(response: httpx.Response, body: Any) -> Permanent:
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    error = error or f"HTTP {response.status_code}"
    if error in _CLIENT_ERRORS:
        what = "check systems.crm.client_id and client_secret against the application in Bitrix24"
    else:
        what = REINSTALL
    return Permanent(f"bitrix24 OAuth refresh refused ({error}): {what}")
