"""OAuth 2.0 application mode: an access token per call, renewed on `expired_token` only.

From `settings/oauth/index.md` and `auto-renewal.md`: the token goes in the call as `auth`;
`https://oauth.bitrix.info/oauth/token/?grant_type=refresh_token&…` returns a new access token
(1 h) and a new refresh token (the old one is spent), so the pair is saved at once through the
`TokenStore`. Refreshing on a timer or per request can get the app blocked; we refresh only
after the portal says `expired_token`.

Single flight: threads that hit `expired_token` together wait on one lock; the first refreshes,
the others see that the stored token is no longer the one they used and just retry. Across
processes the store must serialise refreshes itself (e.g. a row lock in the store) — not done
here: run one process per OAuth installation, or give each its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from crmbridge.connectors.bitrix24.wire import (
    AuthRefused,
    ExpiredToken,
    InsufficientScope,
    WrongAuthType,
)
from crmbridge.connectors.http import HttpCaller
from crmbridge.errors import CrmbridgeError, Permanent

INSTALL_HANDLER = "<crmbridge address>/hooks/bitrix24/install"

OAUTH_SERVER = "https://oauth.bitrix.info"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    client_endpoint: str  # https://<portal>/rest/

    def __repr__(self) -> str:
        return f"Tokens(client_endpoint={self.client_endpoint!r}, access_token='***')"


class TokenStore(Protocol):
    def load(self) -> Tokens: ...

    def save(self, tokens: Tokens) -> None: ...


class MemoryTokenStore:
    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def load(self) -> Tokens:
        with self._lock:
            return self._tokens

    def save(self, tokens: Tokens) -> None:
        with self._lock:
            self._tokens = tokens

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


class OAuthApp:
    def __init__(
        self,
        caller: HttpCaller,
        *,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        server: str = OAUTH_SERVER,
    ) -> None:
        self._caller = caller
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self._server = server.rstrip("/")
        self._lock = threading.Lock()

    @property
    def secrets(self) -> list[str]:
        tokens = self._store.load()
        return [self._client_secret, tokens.access_token, tokens.refresh_token]

    @property
    def portal(self) -> str:
        parts = urlsplit(self._store.load().client_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    def method_url(self, method: str) -> str:
        return self._store.load().client_endpoint.rstrip("/") + "/" + method

    def sign(self, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        token = self._store.load().access_token
        return {**params, "auth": token}, token

    def renew(self, used: str | None) -> bool:
        with self._lock:
            current = self._store.load()
            if current.access_token != used:
                return True  # another thread renewed it while we waited
            self._store.save(self._refresh(current))
            return True

    def reload(self, used: str | None) -> bool:
        return self._store.load().access_token != used

    def advice(self, error: CrmbridgeError) -> str | None:
        reinstall = f"reinstall the application in Bitrix24 (its handler is {INSTALL_HANDLER})"
        if isinstance(error, InsufficientScope) and error.scope:
            return (
                f"add `{error.scope}` to the local application's permissions in Bitrix24 "
                "(Applications → Developer resources → Integrations) and reinstall it"
            )
        if isinstance(error, AuthRefused):
            return f"the portal refused the application's token: {reinstall}"
        if isinstance(error, ExpiredToken):
            return reinstall
        if isinstance(error, WrongAuthType):
            return None
        return None

    def _refresh(self, current: Tokens) -> Tokens:
        params = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": current.refresh_token,
        }
        response = self._caller.request(
            "GET", f"{self._server}/oauth/token/", operation="oauth.refresh", params=params
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = (
                body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) else ""
            )
            raise Permanent(f"bitrix24 OAuth refresh refused: {error}; reinstall or re-authorise")
        endpoint = str(body.get("client_endpoint") or current.client_endpoint)
        return Tokens(str(body["access_token"]), str(body["refresh_token"]), endpoint)

    def __repr__(self) -> str:
        return f"OAuthApp({self.portal!r}, client_id={self._client_id!r})"
