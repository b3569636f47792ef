"""Removing secrets from what we log and store: URLs, bodies, error messages, log records.

Two layers, because neither alone is enough:
- *known secrets* (the webhook code, a password, a token the connector holds) are replaced
  wherever they occur, raw, percent-encoded or inside a Basic-auth header value;
- *patterns* catch secrets nobody told us about: the `/rest/<user>/<code>/` path of a Bitrix24
  inbound webhook, `user:password@` in a URL, and values of secret-named parameters
  (`auth`, `access_token`, `refresh_token`, `application_token`, `client_secret`, `password`…)
  in query strings, form bodies (also PHP-bracket keys such as `auth[application_token]`) and JSON.

Redaction runs on text already cut to a little more than the stored size, so it stays cheap even
for a multi-megabyte PDF upload.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
TRUNCATED = "…[truncated]"

SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "application_token",
    "client_secret",
    "password",
    "passwd",
    "auth",
    "auth_id",
    "refresh_id",
    "token",
    "secret",
    "api_key",
    "apikey",
)
_NAMES = "|".join(SECRET_NAMES)
# `/rest/1/abc123/` (inbound webhook) and `/rest/api/1/abc123/` (REST 3.0): the code is a secret.
_WEBHOOK_PATH = re.compile(r"(/rest/(?:api/)?\d+/)([^/?#\s]+)")
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:)([^/@\s]*)(@)")
# key=value in a query string or form body; the key may be PHP-bracketed (auth[access_token])
# and percent-encoded (auth%5Baccess_token%5D).
_FORM_PAIR = re.compile(
    rf"((?:^|[?&;\s])(?:[\w%\[\]]*?(?:\[|%5B))?(?:{_NAMES})(?:\]|%5D)?=)([^&;\s#]*)",
    re.IGNORECASE,
)
# "name": value in JSON, also JSON inside a JSON string (quotes escaped as \").
_JSON_PAIR = re.compile(
    rf'(\\*"(?:{_NAMES})\\*"\s*:\s*)'
    rf'("(?:[^"\\]|\\.)*"|\\+"(?:[^"\\]|\\+[^"\\])*\\+"|[^,\s}}\]]+)',
    re.IGNORECASE,
)
_HEADER_AUTH = re.compile(r"((?:Basic|Bearer)\s+)([A-Za-z0-9+/=._~-]+)")


class Redactor:
    """Masks secrets in text; `secrets` are the literal values this connector holds."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3})
        self._literals = _variants(self._secrets)
        self.longest = max((len(s) for s in self._literals), default=0)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor([*self._secrets, *secrets])

    def knows(self, other: Redactor) -> bool:
        return set(other._secrets) <= set(self._secrets)

    def text(self, value: str) -> str:
        for literal in self._literals:
            if literal in value:
                value = value.replace(literal, MASK)
        value = _WEBHOOK_PATH.sub(rf"\1{MASK}", value)
        value = _USERINFO.sub(rf"\1{MASK}\3", value)
        value = _FORM_PAIR.sub(rf"\1{MASK}", value)
        value = _JSON_PAIR.sub(_mask_json, value)
        return _HEADER_AUTH.sub(rf"\1{MASK}", value)

    def clipped(self, value: str, limit: int) -> str:
        """Redacted and cut to `limit` characters; only the head is ever scanned."""
        # Cut with room for the longest secret first, so a secret straddling the limit is still
        # recognised and masked, never left half-visible.
        head = value[: limit + self.longest + 1]
        cleaned = self.text(head)
        if len(cleaned) <= limit and len(value) <= len(head):
            return cleaned
        return cleaned[:limit] + TRUNCATED

    def __repr__(self) -> str:
        return f"Redactor({len(self._literals)} secrets)"


def _mask_json(match: re.Match[str]) -> str:
    quote_mark = '\\"' if match.group(2).startswith("\\") else '"'
    return f"{match.group(1)}{quote_mark}{MASK}{quote_mark}"


def _variants(secrets: Iterable[str]) -> list[str]:
    """A secret as it may appear on the wire: raw, percent-encoded (path, form), base64 pieces."""
    out: set[str] = set()
    for secret in secrets:
        out.update({secret, quote(secret, safe=""), quote_plus(secret), quote(secret)})
    # Longest first, so a secret that contains another is masked whole.
    return sorted(out, key=len, reverse=True)


def basic_auth_secrets(user: str, password: str) -> list[str]:
    """The password and the `Authorization: Basic` token built from it, both secret."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return [password, token]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message (httpx logs every request URL at INFO)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def learn(self, redactor: Redactor) -> None:
        """Also mask the literal secrets `redactor` knows (one filter serves every connector)."""
        if not self._redactor.knows(redactor):
            self._redactor = self._redactor.with_secrets(redactor._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._redactor.text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


HTTP_LOGGERS = ("httpx", "httpcore")


def protect_http_logs(redactor: Redactor, loggers: Iterable[str] = HTTP_LOGGERS) -> None:
    """Install `RedactingFilter` on httpx's loggers (every `HttpCaller` does, for its secrets).

    httpx logs `HTTP Request: POST <url>` at INFO, and a Bitrix24 webhook URL holds its secret.
    Idempotent: one filter per logger, which learns the secrets of each further redactor.
    """
    for name in loggers:
        logger = logging.getLogger(name)
        found = [f for f in logger.filters if isinstance(f, RedactingFilter)]
        if found:
            found[0].learn(redactor)
        else:
            logger.addFilter(RedactingFilter(redactor))
