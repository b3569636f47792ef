"""`Bitrix24Sandbox`: the emulator wired together, plus plain-Python helpers for tests and demo."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from crmbridge.clock import Clock, SystemClock
from crmbridge.sandbox.bitrix24 import (
    apps,
    crm,
    deals,
    event_methods,
    system_methods,
    tasks,
    timeline,
    userfields,
)
from crmbridge.sandbox.bitrix24.app import build_app, oauth_routes
from crmbridge.sandbox.bitrix24.auth import InboundWebhook, Webhooks
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Urls
from crmbridge.sandbox.bitrix24.events import EventHub
from crmbridge.sandbox.bitrix24.install import Installation, Installer
from crmbridge.sandbox.bitrix24.limits import LeakyBucket
from crmbridge.sandbox.bitrix24.oauth import ACCESS_LIFETIME, OAuthServer
from crmbridge.sandbox.bitrix24.records import INVOICE_STAGE
from crmbridge.sandbox.bitrix24.rest import WEBHOOK_CODE, WEBHOOK_USER, RestEndpoint
from crmbridge.sandbox.bitrix24.scopes import DEFAULT
from crmbridge.sandbox.bitrix24.state import load_seed
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import Seed


class Bitrix24Sandbox:
    """An in-memory Bitrix24 portal speaking REST v2 to inbound webhooks and local applications.

    Webhook base: `<public_url>/bitrix24/rest/1/sandbox/`; applications call
    `<public_url>/bitrix24/rest/<method>` with `auth=<access_token>` and get their tokens from
    the emulated authorization server at `<public_url>/oauth/token/` (`oauth_routes()`, served
    at the root like a host of its own). `rate`/`burst` configure the leaky bucket (None or 0:
    unlimited); `outgoing_webhook` is bound to the deal, company and product events like an
    outgoing webhook set up in the portal UI; `token_lifetime` is an access token's life in
    seconds; `clock` and `transport` exist so tests can make time and delivery deterministic.
    """

    def __init__(
        self,
        seed: Seed,
        control: SandboxControl,
        *,
        rate: float | None = 2.0,
        burst: int = 50,
        outgoing_webhook: str | None = None,
        public_url: str = "http://127.0.0.1:8765",
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        token_lifetime: float = ACCESS_LIFETIME,
        user_fields: bool = True,  # False: a new customer's portal, without crmbridge's UF_CRM_*
    ) -> None:
        self.clock = clock or SystemClock()
        self.urls = Urls(public_url)
        self.portal = load_seed(seed, self.clock.now(), user_fields=user_fields)
        self.events = EventHub(
            control, self.clock, self.urls, outgoing_webhook=outgoing_webhook, transport=transport
        )
        self._ctx = Context(self.portal, self.events, self.clock, self.urls)
        self.webhooks = Webhooks()
        self.apps = apps.LocalApps()
        self.oauth = OAuthServer(self.apps, self.clock, self.urls, lifetime=token_lifetime)
        self._installer = Installer(
            self.apps, self.oauth, self.events, self.clock, self.urls, control, transport
        )
        limiter = LeakyBucket(self.clock, rate=rate, burst=burst)
        self._endpoint = RestEndpoint(
            self._ctx, self._methods(), control, limiter, self.webhooks, self.oauth.caller
        )
        self.app: Starlette = build_app(
            self._endpoint, self.portal, self.issue_invoice, self.authorize_redirect
        )

    def oauth_routes(self) -> list[Route]:
        """The authorization server's routes, to serve at the root of the sandbox's host."""
        return oauth_routes(self.oauth, self.urls)

    def _methods(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {}
        for part in (crm.methods(), deals.methods(), timeline.methods(), tasks.methods()):
            table.update(part)
        table.update(userfields.methods())
        table.update(event_methods.methods(self.events, self.apps))
        table.update(apps.methods(self.apps))
        table.update(system_methods.methods(table))
        return table

    @property
    def webhook_url(self) -> str:
        """The inbound webhook base, ending with a slash."""
        return f"{self.urls.portal}/rest/{WEBHOOK_USER}/{WEBHOOK_CODE}/"

    def create_webhook(self, user: int = 1, scopes: list[str] | None = None) -> str:
        """What an admin does in the UI: a new inbound webhook; returns its base URL.

        Raises ValueError for a scope the portal does not know."""
        hook = self.webhooks.create(user, scopes if scopes is not None else sorted(DEFAULT))
        return self.webhook_base(hook)

    def webhook_base(self, hook: InboundWebhook) -> str:
        return f"{self.urls.portal}/rest/{hook.user_id}/{hook.code}/"

    def install_app(self, client_id: str, user: int = 1) -> Installation:
        """What the admin's "Install" does for a registered local app (KeyError if unknown)."""
        return self._installer.install(client_id, user)

    def authorize_redirect(self, client_id: str, state: str) -> str | None:
        """Where `/oauth/authorize/` sends the browser: the app's redirect URI with a code."""
        app = self.apps.get(client_id)
        if app is None or not app.installed or not app.redirect_uri:
            return None
        query = {
            "code": self.oauth.authorize(client_id, user_id=1),
            "state": state,
            "domain": self.urls.host,
            "member_id": self.urls.member_id,
            "scope": ",".join(sorted(app.scopes)),
            "server_domain": urlsplit(self.oauth.server_url).netloc,
        }
        return f"{app.redirect_uri}?{urlencode(query)}"

    # plain-Python helpers -------------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Run a method in-process (no faults, no limit); returns `result` or raises RestError."""
        return self._endpoint.call(method, params or {}).result

    def deal(self, deal_id: int) -> dict[str, Any]:
        return dict(self.call("crm.deal.get", {"id": deal_id}))

    def deals(self) -> list[dict[str, Any]]:
        with self.portal.lock:
            return [dict(d) for d in self.portal.table("deal").values()]

    def set_deal_stage(self, deal_id: int, stage: str) -> None:
        """Change a deal's stage exactly as `crm.deal.update` does, firing ONCRMDEALUPDATE."""
        self.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage}})

    def issue_invoice(self, deal_id: int) -> None:
        """What the demo page's button does: move the deal to the invoice stage."""
        self.set_deal_stage(deal_id, INVOICE_STAGE)

    def update_deal(self, deal_id: int, fields: dict[str, Any]) -> None:
        self.call("crm.deal.update", {"id": deal_id, "fields": fields})

    def comments(self, deal_id: int) -> list[dict[str, Any]]:
        flt = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}
        return list(self.call("crm.timeline.comment.list", {"filter": flt}))

    # persistence ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "portal": self.portal.snapshot(),
            "events": self.events.snapshot(),
            "webhooks": self.webhooks.snapshot(),
            "apps": self.apps.snapshot(),
            "oauth": self.oauth.snapshot(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.portal.restore(data["portal"])
        self.events.restore(data["events"])
        self.webhooks.restore(data.get("webhooks", []))
        self.apps.restore(data.get("apps", []))
        self.oauth.restore(data.get("oauth", {}))

    def close(self) -> None:
        """Stop the event sender thread (events still queued are sent first)."""
        self.events.close()
