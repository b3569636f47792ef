"""The admin's "Install" of a local application that uses only the API.

Installing marks the app installed, gives it a new application token, revokes the tokens of an
earlier installation (assumed), removes the event handlers the app had bound ("when an
application is deleted or updated, its actions will be removed",
`bitrix24/b24restdocs:api-reference/events/event-bind.md`) and issues a token pair for the
installing user. Then the portal POSTs `ONAPPINSTALL` to the app's installation handler
(`settings/app-installation/local-apps/installation-callback.md`), form-encoded with PHP
brackets (`settings/oauth/simple-way.md`): `event`, `data[VERSION|ACTIVE|INSTALLED|LANGUAGE_ID]`,
`ts` and `auth[...]` with both tokens and the `application_token`
(`api-reference/common/events/on-app-install.md`), plus `auth[expires]` and `auth[user_id]`,
which `bitrix24/b24pysdk:b24pysdk/credentials/oauth_token.py` and `auth.py` read from event
auth. `auth[domain]` is the portal's address there, not the authorization server's.

The sandbox posts at once and waits for the answer (the portal sends it through its queue);
like every event it is sent once and never retried (`api-reference/events/index.md`), and the
`drop_events` fault loses it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import httpx

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.apps import LocalApp, LocalApps
from crmbridge.sandbox.bitrix24.auth import random_code
from crmbridge.sandbox.bitrix24.dispatch import Urls
from crmbridge.sandbox.bitrix24.events import EventHub
from crmbridge.sandbox.bitrix24.oauth import OAuthServer
from crmbridge.sandbox.control import SandboxControl


@dataclass(frozen=True)
class Installation:
    app: LocalApp
    form: list[tuple[str, str]]  # the ONAPPINSTALL delivery, as form fields in order
    delivered: int | None  # the handler's HTTP status; None without a handler or an answer

    @property
    def auth(self) -> dict[str, str]:
        """The `auth[...]` fields without their brackets."""
        return {k[5:-1]: v for k, v in self.form if k.startswith("auth[")}


class Installer:
    def __init__(
        self,
        apps: LocalApps,
        oauth: OAuthServer,
        events: EventHub,
        clock: Clock,
        urls: Urls,
        control: SandboxControl,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._apps = apps
        self._oauth = oauth
        self._events = events
        self._clock = clock
        self._urls = urls
        self._control = control
        self._transport = transport

    def install(self, client_id: str, user_id: int = 1) -> Installation:
        """Install (or reinstall) `client_id`; KeyError when no such app is registered."""
        if self._apps.get(client_id) is None:
            raise KeyError(client_id)
        self._oauth.revoke(client_id)
        self._events.unbind_app(client_id)
        app = self._apps.installed(client_id, random_code(32))
        form = self.form(app, self._oauth.issue(app, user_id))
        return Installation(app, form, self._deliver(app.handler, form))

    def _deliver(self, handler: str, form: list[tuple[str, str]]) -> int | None:
        if not handler or self._control.fault("bitrix24", "drop_events") is not None:
            return None
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.Client(timeout=30.0, transport=self._transport) as client,
        ):
            return client.post(handler, data=dict(form)).status_code
        return None

    def form(self, app: LocalApp, tokens: dict[str, object]) -> list[tuple[str, str]]:
        auth = {**tokens, "domain": self._urls.host, "application_token": app.application_token}
        return [
            ("event", "ONAPPINSTALL"),
            ("data[VERSION]", str(app.version)),
            ("data[ACTIVE]", "Y"),
            ("data[INSTALLED]", "Y"),
            ("data[LANGUAGE_ID]", "ua"),
            ("ts", str(int(self._clock.now().timestamp()))),
            *((f"auth[{k}]", str(v)) for k, v in auth.items()),
        ]
