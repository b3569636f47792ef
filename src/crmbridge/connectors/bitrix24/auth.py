"""How a call is authenticated: the `Auth` shape, and the inbound webhook (the secret is part of
the URL, `/rest/<user>/<code>/`). OAuth application mode is in `oauth.py`."""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import urlsplit

from crmbridge.connectors.bitrix24.wire import (
    AuthRefused,
    ExpiredToken,
    InsufficientScope,
    WrongAuthType,
)
from crmbridge.errors import ConfigError, CrmbridgeError

_PATH = re.compile(r"^(?P<prefix>.*/rest/)(?P<user>\d+)/(?P<code>[^/]+)/?$")


class Auth(Protocol):
    @property
    def secrets(self) -> list[str]:
        """Literal secrets for the redactor."""
        ...

    def method_url(self, method: str) -> str: ...

    def sign(self, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The params to send (with a token, for OAuth) and the token used, if any."""
        ...

    def renew(self, used: str | None) -> bool:
        """After `expired_token`: get a fresh token (once for all threads); True to retry."""
        ...

    def reload(self, used: str | None) -> bool:
        """After refused credentials: True when newer ones were stored meanwhile (retry)."""
        ...

    def advice(self, error: CrmbridgeError) -> str | None:
        """What the operator should do about `error`, for this kind of credential."""
        ...


class Webhook:
    """The inbound webhook base URL, e.g. `https://example.bitrix24.com/rest/1/abc123/`.

    The code is a password: `repr()` and `portal` never show it; only `method_url()` (what goes
    on the wire) contains it.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url.strip())
        found = _PATH.match(parts.path)
        if parts.scheme not in ("http", "https") or not parts.netloc or found is None:
            raise ConfigError(
                "a Bitrix24 inbound webhook URL looks like https://<portal>/rest/<user>/<code>/"
            )
        self.user_id = int(found["user"])
        self._code = found["code"]
        self.portal = f"{parts.scheme}://{parts.netloc}"
        self._rest = f"{self.portal}{found['prefix']}"
        self._base = f"{self._rest}{self.user_id}/{self._code}/"

    @property
    def secrets(self) -> list[str]:
        return [self._code]

    def method_url(self, method: str) -> str:
        return self._base + method

    def sign(self, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        return params, None  # the URL is the credential

    def renew(self, used: str | None) -> bool:
        return False  # nothing to renew: a new webhook means a new URL in the config

    def reload(self, used: str | None) -> bool:
        return False

    def advice(self, error: CrmbridgeError) -> str | None:
        if isinstance(error, InsufficientScope) and error.scope:
            return (
                "edit the inbound webhook in Bitrix24 (Applications → Developer resources → "
                f"Integrations) and tick `{error.scope}`"
            )
        if isinstance(error, AuthRefused):
            return (
                "the portal refused the inbound webhook: check systems.crm.webhook_url (the "
                "webhook may have been deleted, or its user deactivated)"
            )
        if isinstance(error, ExpiredToken):
            return (
                "the inbound webhook has expired: extend it in Bitrix24, or create a new one "
                "and set systems.crm.webhook_url"
            )
        if isinstance(error, WrongAuthType):
            return "this method needs an application: use systems.crm.auth: oauth"
        return None

    def __repr__(self) -> str:
        return f"Webhook('{self._rest}{self.user_id}/***/')"
