"""One REST call or one batch over the shared `HttpCaller`, answers parsed and errors mapped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from crmbridge.connectors.bitrix24 import batch
from crmbridge.connectors.bitrix24.auth import Auth
from crmbridge.connectors.bitrix24.batch import BatchResult, Command
from crmbridge.connectors.bitrix24.wire import Envelope, ExpiredToken, envelope
from crmbridge.connectors.http import HttpCaller
from crmbridge.errors import CrmbridgeError

# The cloud portal allows a request 60 s of wall-clock time; a little more for the network.
TIMEOUT = httpx.Timeout(65.0, connect=10.0)
HEADERS = {"Accept": "application/json", "User-Agent": "crmbridge/0.1"}


class RestClient:
    def __init__(self, caller: HttpCaller, auth: Auth) -> None:
        self.caller = caller
        self.auth = auth

    def __repr__(self) -> str:
        return f"RestClient({self.auth!r})"

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> Envelope:
        """POST `params` as JSON to the method; `key` is the exchange's business key.

        On `expired_token` the token is renewed (once, whichever thread gets there first) and
        the call is sent again, once.
        """
        try:
            return self._send(method, params, key)
        except ExpiredToken as exc:
            if not self.auth.renew(exc.used):
                raise
        return self._send(method, params, key)

    def _send(self, method: str, params: Mapping[str, Any] | None, key: str | None) -> Envelope:
        signed, used = self.auth.sign(dict(params or {}))
        response = self.caller.request(
            "POST",
            self.auth.method_url(method),
            operation=method,
            business_key=key,
            json=signed,
            headers=HEADERS,
        )
        try:
            return envelope(method, response)
        except ExpiredToken as exc:
            exc.used = used
            raise
        except CrmbridgeError as exc:
            # The portal's description may echo what we sent; it goes to logs and the dead letter.
            exc.message = self.caller.redactor.text(exc.message)
            exc.args = (exc.message,)
            raise

    def result(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.call(method, params, **kw).result

    def batch(
        self, commands: Mapping[str, Command], *, halt: bool = False, key: str | None = None
    ) -> BatchResult:
        """One `batch` request of at most 50 named commands."""
        answer = self.call("batch", batch.request(commands, halt=halt), key=key)
        return batch.parse(commands, answer.result)
