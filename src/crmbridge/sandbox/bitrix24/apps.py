"""The portal's local applications and `app.info`, on the portal and on the OAuth server.

A local application is registered by an admin with its scopes and an installation handler
("Initial installation path" of an app that "uses only API",
`bitrix24/b24restdocs:settings/app-installation/local-apps/installation-callback.md`); the form
then shows its `client_id` (`local.<14 hex>.<8 digits>`) and `client_secret` (50 letters and
digits), the shapes of `bitrix-tools/crest:src/crest.php`'s example keys.

`app.info`:
- on the portal, in an application's context: the fields of
  `api-reference/common/system/app-info.md` (ID, CODE, VERSION, STATUS, INSTALLED,
  PAYMENT_EXPIRED, DAYS, LANGUAGE_ID, LICENSE, LICENSE_TYPE, LICENSE_FAMILY); that CODE is the
  client_id of a local app is assumed;
- on the portal, through an inbound webhook: `{"SCOPE": [...], "LICENSE": ...}`, the webhook
  shape of `bitrix24/b24pysdk:b24pysdk/schemas/app.py` (`AppInfoWebhookData`; the docs print
  an "Application context required" error instead);
- on the OAuth server (`<server>/rest/app.info?auth=`, "the trusted source",
  `settings/oauth/simple-way.md`): `client_id`, `scope`, `expires`, `install` (installed,
  version, status, scope, domain, uri, client_endpoint, member_id, member_type) and `user_id`,
  the shape of b24pysdk's `api/responses/bitrix_app_info_response.py` (values assumed). An
  unknown token there → 400 `{"error": "invalid_client"}` (b24pysdk `errors/oauth.py`).
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from crmbridge.sandbox.bitrix24 import scopes as known_scopes
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply, Urls

LICENSE = "ua_pro100"  # the sandbox portal's plan: Professional, Ukrainian region [assumption]
_SECRET_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class LocalApp:
    client_id: str
    client_secret: str = field(repr=False)
    scopes: frozenset[str]
    handler: str  # the installation handler; "" for none
    redirect_uri: str = ""
    id: int = 1
    installed: bool = False
    application_token: str = field(default="", repr=False)
    version: int = 1


class LocalApps:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apps: dict[str, LocalApp] = {}

    def register(
        self, *, scopes: list[str], handler: str, redirect_uri: str = "", client_id: str = ""
    ) -> LocalApp:
        """What the admin's "Add local application" form does. Raises ValueError for a scope the
        portal does not know."""
        unknown = set(scopes) - known_scopes.KNOWN
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
        client_id = client_id or (f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}")
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(50))
        with self._lock:
            app = LocalApp(
                client_id, secret, frozenset(scopes), handler, redirect_uri, len(self._apps) + 1
            )
            self._apps[client_id] = app
        return app

    def get(self, client_id: str) -> LocalApp | None:
        with self._lock:
            return self._apps.get(client_id)

    def installed(self, client_id: str, application_token: str) -> LocalApp:
        with self._lock:
            app = replace(
                self._apps[client_id], installed=True, application_token=application_token
            )
            self._apps[client_id] = app
            return app

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**asdict(a), "scopes": sorted(a.scopes)} for a in self._apps.values()]

    def restore(self, data: list[dict[str, Any]]) -> None:
        with self._lock:
            for item in data:
                app = LocalApp(**{**item, "scopes": frozenset(item["scopes"])})
                self._apps[app.client_id] = app


def portal_info(app: LocalApp) -> dict[str, Any]:
    return {
        "ID": app.id,
        "CODE": app.client_id,
        "VERSION": app.version,
        "STATUS": "L",
        "INSTALLED": app.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "ua",
        "LICENSE": LICENSE,
        "LICENSE_TYPE": LICENSE.split("_", 1)[1],
        "LICENSE_FAMILY": "pro",
    }


def server_info(app: LocalApp, user_id: int, expires: float, urls: Urls) -> dict[str, Any]:
    """The OAuth server's `app.info` result for a token of `app`."""
    scope = ",".join(sorted(app.scopes))
    return {
        "client_id": app.client_id,
        "scope": scope,
        "expires": datetime.fromtimestamp(expires, UTC).isoformat(),
        "install": {
            "installed": app.installed,
            "version": app.version,
            "status": "L",
            "scope": scope,
            "domain": urls.host,
            "uri": urls.public_url.rstrip("/"),
            "client_endpoint": f"{urls.portal}/rest/",
            "member_id": urls.member_id,
            "member_type": "PORTAL",  # [assumption] value
        },
        "user_id": user_id,
    }


def methods(apps: LocalApps) -> dict[str, Handler]:
    def app_info(ctx: Context, params: dict[str, Any]) -> Reply:
        app = apps.get(ctx.caller.app) if ctx.caller.app else None
        if app is None:
            return Reply({"SCOPE": sorted(ctx.caller.scopes), "LICENSE": LICENSE})
        return Reply(portal_info(app))

    return {"app.info": app_info}
