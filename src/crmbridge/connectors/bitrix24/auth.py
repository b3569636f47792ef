"""How a call is authenticated: the `Auth` shape, and the inbound webhook (the secret is part of
the URL, `/rest/<user>/<code>/`). OAuth application mode is in `oauth.py`."""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import urlsplit

from crmbridge.errors import ConfigError

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
        return False  # a webhook code does not expire by itself

    def __repr__(self) -> str:
        return f"Webhook('{self._rest}{self.user_id}/***/')"
