"""Where an application's OAuth tokens live: the `TokenStore` shape and two stores.

Who calls it: `OAuthApp` (oauth.py) on every call (`load`, cached by the app) and when the portal
says `expired_token` (`claim`, then `finish`); the install route (`save`). A store must make
`claim` exclusive across every process that shares it: only the holder presents the refresh
token, which its use spends (see `store/tokens.py` for the mechanism and the guarantee).

`DatabaseTokenStore` (oauth mode) keeps them in the `oauth_tokens` table; `MemoryTokenStore`
serves one process and tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from crmbridge.clock import Clock
from crmbridge.errors import Permanent
from crmbridge.store import tokens as stored
from crmbridge.store.database import Database

INSTALLATION = "bitrix24"
# A claim outlives the refresh request (30 s at most, `oauth.REFRESH_TIMEOUT`) with room to spare.
LEASE = 90.0
INSTALL_HANDLER = "https://<crmbridge address>/hooks/bitrix24/install"


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    client_endpoint: str  # https://<portal>/rest/
    member_id: str = ""
    application_token: str = field(default="", repr=False)  # verifies the app's events
    scope: str = ""
    expires_at: datetime | None = None


class NotInstalled(Permanent):
    """the Bitrix24 application is not installed yet: install it in the portal (Applications →
    Developer resources → Integrations); its handler is
    https://<crmbridge address>/hooks/bitrix24/install"""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or " ".join((self.__doc__ or "").split()))


class TokenStore(Protocol):
    def load(self) -> Tokens:
        """The current tokens; raises `NotInstalled` before the first installation."""
        ...

    def save(self, tokens: Tokens) -> None:
        """An installation: replace whatever is stored (and any claim)."""
        ...

    def claim(self, used: str) -> Tokens | None:
        """The right to renew: the stored tokens when `used` is still the stored access token
        and nobody else holds a claim; None otherwise (someone renewed, or is renewing)."""
        ...

    def finish(self, claimed: Tokens, renewed: Tokens | None) -> bool:
        """Save `renewed` (None: the renewal failed) over `claimed` and release the claim;
        False when `claimed` was replaced meanwhile (a reinstall), which is then kept."""
        ...


class MemoryTokenStore:
    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens
        self._claimed = False
        self._lock = threading.Lock()

    def load(self) -> Tokens:
        with self._lock:
            if self._tokens is None:
                raise NotInstalled()
            return self._tokens

    def save(self, tokens: Tokens) -> None:
        with self._lock:
            self._tokens, self._claimed = tokens, False

    def claim(self, used: str) -> Tokens | None:
        with self._lock:
            if self._tokens is None or self._claimed or self._tokens.access_token != used:
                return None
            self._claimed = True
            return self._tokens

    def finish(self, claimed: Tokens, renewed: Tokens | None) -> bool:
        with self._lock:
            current = self._tokens is not None and (
                self._tokens.refresh_token == claimed.refresh_token
            )
            if current:
                self._claimed = False
                if renewed is not None:
                    self._tokens = renewed
            return current

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


class DatabaseTokenStore:
    """The tokens of one installation (`installation`, a row key) in the database."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        installation: str = INSTALLATION,
        lease: float = LEASE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = installation
        self._lease = timedelta(seconds=lease)

    def load(self) -> Tokens:
        found = stored.load(self._db, self._key)
        if found is None:
            raise NotInstalled()
        return _tokens(found)

    def save(self, tokens: Tokens) -> None:
        stored.install(self._db, self._key, _stored(tokens), self._clock.now())

    def claim(self, used: str) -> Tokens | None:
        now = self._clock.now()
        found = stored.claim_refresh(self._db, self._key, used, now, now + self._lease)
        return _tokens(found) if found is not None else None

    def finish(self, claimed: Tokens, renewed: Tokens | None) -> bool:
        new = _stored(renewed) if renewed is not None else None
        now = self._clock.now()
        return stored.finish_refresh(self._db, self._key, claimed.refresh_token, new, now)

    def __repr__(self) -> str:
        return f"DatabaseTokenStore({self._key!r})"


def _tokens(row: stored.StoredTokens) -> Tokens:
    return Tokens(**row.values())


def _stored(tokens: Tokens) -> stored.StoredTokens:
    return stored.StoredTokens(
        tokens.access_token,
        tokens.refresh_token,
        tokens.client_endpoint,
        tokens.member_id,
        tokens.application_token,
        tokens.scope,
        tokens.expires_at,
    )
