"""The admin's "Install" of a local application that uses only the API.

Installing marks the app installed, gives it a new application token, revokes the tokens of an
earlier installation (assumed) and issues a token pair for the installing user. The result is
what `ONAPPINSTALL` carries (`bitrix24/b24restdocs:api-reference/common/events/on-app-install.md`).
"""

from __future__ import annotations

from dataclasses import dataclass

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.apps import LocalApp, LocalApps
from crmbridge.sandbox.bitrix24.auth import random_code
from crmbridge.sandbox.bitrix24.oauth import OAuthServer


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
    def __init__(self, apps: LocalApps, oauth: OAuthServer, clock: Clock) -> None:
        self._apps = apps
        self._oauth = oauth
        self._clock = clock

    def install(self, client_id: str, user_id: int = 1) -> Installation:
        """Install (or reinstall) `client_id`; KeyError when no such app is registered."""
        if self._apps.get(client_id) is None:
            raise KeyError(client_id)
        self._oauth.revoke(client_id)
        app = self._apps.installed(client_id, random_code(32))
        tokens = self._oauth.issue(app, user_id)
        return Installation(app, self.form(app, tokens), None)

    def form(self, app: LocalApp, tokens: dict[str, object]) -> list[tuple[str, str]]:
        auth = {**tokens, "application_token": app.application_token}
        return [
            ("event", "ONAPPINSTALL"),
            ("data[VERSION]", str(app.version)),
            ("data[ACTIVE]", "Y"),
            ("data[INSTALLED]", "Y"),
            ("data[LANGUAGE_ID]", "ua"),
            ("ts", str(int(self._clock.now().timestamp()))),
            *((f"auth[{k}]", str(v)) for k, v in auth.items()),
        ]
