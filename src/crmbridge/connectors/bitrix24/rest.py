"""One REST call or one batch over the shared `HttpCaller`, answers parsed and errors mapped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from crmbridge.connectors.bitrix24 import batch
from crmbridge.connectors.bitrix24.auth import Auth
from crmbridge.connectors.bitrix24.batch import BatchResult, Command
from crmbridge.connectors.bitrix24.wire import AuthRefused, Envelope, ExpiredToken, envelope
from crmbridge.connectors.http import HttpCaller
from crmbridge.errors import CrmbridgeError, Permanent

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
        the call is sent again, once; refused credentials are sent again once when newer ones
        were stored meanwhile (an application installed again). A token that stays expired is
        `Permanent`, like refused credentials, with what to do.
        """
        try:
            return self._send(method, params, key)
        except ExpiredToken as exc:
            if not self.auth.renew(exc.used):
                raise self._not_renewed(exc) from None
        except AuthRefused as exc:
            if not self.auth.reload(exc.used):
                raise
        try:
            return self._send(method, params, key)
        except ExpiredToken as exc:
            raise self._not_renewed(exc) from None

    def _not_renewed(self, exc: ExpiredToken) -> Permanent:
        message = f"{exc.message}: the token could not be renewed"
        return Permanent(_advised(message, self.auth.advice(exc)))

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
        except (ExpiredToken, AuthRefused) as exc:
            exc.used = used
            self._explain(exc)
            raise
        except CrmbridgeError as exc:
            self._explain(exc)
            raise

    def _explain(self, exc: CrmbridgeError) -> None:
        """Redact the message (the portal's description may echo what we sent; it goes to logs
        and the dead letter) and add what to do, when the credential's kind knows."""
        message = self.caller.redactor.text(exc.message)
        if not isinstance(exc, ExpiredToken):
            message = _advised(message, self.auth.advice(exc))
        exc.message = message
        exc.args = (message,)

    def result(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.call(method, params, **kw).result

    def batch(
        self, commands: Mapping[str, Command], *, halt: bool = False, key: str | None = None
    ) -> BatchResult:
        """One `batch` request of at most 50 named commands."""
        answer = self.call("batch", batch.request(commands, halt=halt), key=key)
        parsed = batch.parse(commands, answer.result)
        for failure in parsed.errors.values():
            self._explain(failure)
        return parsed


def _advised(message: str, advice: str | None) -> str:
    return f"{message}: {advice}" if advice else message
