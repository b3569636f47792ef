"""Who is calling: the `Caller` a request runs as, and the portal's inbound webhooks.

An inbound webhook is a user id, a secret code and the scopes ticked when an admin created it
(`bitrix24/b24restdocs:local-integrations/local-webhooks.md`); its URL is
`<portal>/rest/<user>/<code>/`. The sandbox starts with one, `1/sandbox`, granted `DEFAULT`
scopes; `create()` adds more, like an admin in the UI. Codes are 16 lowercase letters and
digits, the shape of the vendor's examples (`bitrix-tools/crest:src/crest.php`,
`…/rest/1/doutwqkjxgc3mgc1/`).
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass
from typing import Any

from crmbridge.sandbox.bitrix24 import scopes

WEBHOOK_USER = "1"
WEBHOOK_CODE = "sandbox"
_ALPHABET = string.ascii_lowercase + string.digits


def random_code(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Caller:
    """The rights one call runs with. `app` is the client_id in an application's context."""

    user_id: int
    scopes: frozenset[str]
    app: str | None = None
    internal: bool = False  # the portal itself (helpers, demo page): every right, no limit

    @property
    def token_word(self) -> str:
        return "webhook" if self.app is None else "access"

    def check(self, method: str) -> None:
        """Raise the portal's refusal when this caller may not run `method`."""
        if self.internal:
            return
        scope = scopes.scope_of(method)
        if scope is not None and not scopes.granted(scope, self.scopes):
            raise scopes.insufficient(self.token_word)
        if self.app is None and scopes.app_only(method):
            raise scopes.wrong_auth_type()


PORTAL = Caller(1, scopes.KNOWN, app=None, internal=True)


@dataclass(frozen=True)
class InboundWebhook:
    user_id: int
    code: str
    scopes: frozenset[str]

    def caller(self) -> Caller:
        return Caller(self.user_id, self.scopes)


class Webhooks:
    """The portal's inbound webhooks, found by (user, code)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: dict[tuple[str, str], InboundWebhook] = {}
        self._add(InboundWebhook(int(WEBHOOK_USER), WEBHOOK_CODE, scopes.DEFAULT))

    def _add(self, hook: InboundWebhook) -> None:
        with self._lock:
            self._hooks[(str(hook.user_id), hook.code)] = hook

    def create(self, user_id: int, granted: list[str] | frozenset[str]) -> InboundWebhook:
        unknown = set(granted) - scopes.KNOWN
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
        hook = InboundWebhook(user_id, random_code(), frozenset(granted))
        self._add(hook)
        return hook

    def find(self, user: str, code: str) -> InboundWebhook | None:
        with self._lock:
            return self._hooks.get((user, code))

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"user_id": h.user_id, "code": h.code, "scopes": sorted(h.scopes)}
                for h in self._hooks.values()
            ]

    def restore(self, data: list[dict[str, Any]]) -> None:
        for item in data:
            self._add(InboundWebhook(item["user_id"], item["code"], frozenset(item["scopes"])))
