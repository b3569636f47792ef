"""`Bitrix24Connector`: the `Connector` shape over an inbound webhook, plus Bitrix24's own
operations grouped by subject (`deals`, `companies`, `catalog`, `offline`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import httpx

from crmbridge.clock import Clock
from crmbridge.connectors.base import ChangedEvent, Page, Record
from crmbridge.connectors.bitrix24 import events, paging, wire
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.catalog import Catalog
from crmbridge.connectors.bitrix24.companies import Companies
from crmbridge.connectors.bitrix24.deals import Deals
from crmbridge.connectors.bitrix24.kinds import kind as kind_of
from crmbridge.connectors.bitrix24.oauth import OAUTH_SERVER, OAuthApp
from crmbridge.connectors.bitrix24.rest import TIMEOUT, RestClient
from crmbridge.connectors.bitrix24.tokens import TokenStore
from crmbridge.connectors.http import ExchangeRecorder, HttpCaller, RemoteNotFound
from crmbridge.connectors.ratelimit import Limiter
from crmbridge.connectors.redact import Redactor

SYSTEM = "bitrix24"


class Bitrix24Connector:
    system = SYSTEM

    def __init__(
        self,
        rest: RestClient,
        *,
        application_token: str | None = None,
        overlap: timedelta = paging.OVERLAP,
    ) -> None:
        self.rest = rest
        self._token = application_token
        self._overlap = overlap
        self.deals = Deals(rest)
        self.companies = Companies(rest)
        self.catalog = Catalog(rest)
        self.offline = events.OfflineEvents(rest)

    def __repr__(self) -> str:
        return f"Bitrix24Connector({self.rest.auth!r})"

    # Connector --------------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Record | None:
        spec = kind_of(kind)
        try:
            result = self.rest.result(f"{spec.prefix}.get", {"id": key}, key=f"{kind}:{key}")
        except RemoteNotFound:
            return None
        return dict(result) if isinstance(result, Mapping) else None

    def put(self, kind: str, record: Record, key: str | None = None) -> str:
        spec = kind_of(kind)
        fields = {k: v for k, v in record.items() if k != "ID"}
        if key is None:
            return str(self.rest.result(f"{spec.prefix}.add", {"fields": fields}))
        params = {"id": key, "fields": fields}
        self.rest.call(f"{spec.prefix}.update", params, key=f"{kind}:{key}")
        return str(key)

    def iterate(self, kind: str, filters: Mapping[str, Any] | None = None) -> Iterator[Record]:
        return paging.iterate(self.rest, kind_of(kind), filters)

    def changes(self, kind: str, cursor: dict[str, Any] | None) -> Page:
        return paging.changes(self.rest, kind_of(kind), cursor, overlap=self._overlap)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        return events.parse_delivery(body, self._token)

    def key_of(self, record: Record) -> str:
        return str(record["ID"])

    # bulk -------------------------------------------------------------------------------------
    def upsert_products(
        self,
        records: list[Record],
        *,
        key: str = "XML_ID",
        existing: Mapping[str, str] | None = None,
    ) -> list[str]:
        return self.catalog.upsert(records, key=key, existing=existing)


def connect(
    client: httpx.Client,
    webhook_url: str,
    *,
    limiter: Limiter,
    recorder: ExchangeRecorder | None,
    application_token: str | None = None,
    body_limit: int = 4096,
    clock: Clock | None = None,
    throttle_retries: int = 3,
    timeout: httpx.Timeout = TIMEOUT,
) -> Bitrix24Connector:
    """Wire a connector for one portal account from its settings and the shared client."""
    webhook = Webhook(webhook_url)
    secrets = [*webhook.secrets, *([application_token] if application_token else [])]
    caller = HttpCaller(
        client,
        system=SYSTEM,
        limiter=limiter,
        recorder=recorder,
        redactor=Redactor(secrets),
        body_limit=body_limit,
        timeout=timeout,
        throttle=wire.throttle,
        clock=clock,
        throttle_retries=throttle_retries,
    )
    return Bitrix24Connector(RestClient(caller, webhook), application_token=application_token)


def connect_app(
    client: httpx.Client,
    *,
    client_id: str,
    client_secret: str,
    store: TokenStore,
    limiter: Limiter,
    recorder: ExchangeRecorder | None,
    application_token: str | None = None,
    oauth_server: str = OAUTH_SERVER,
    portal: str | None = None,
    body_limit: int = 4096,
    clock: Clock | None = None,
    throttle_retries: int = 3,
    timeout: httpx.Timeout = TIMEOUT,
) -> Bitrix24Connector:
    """Wire a connector for an OAuth application installation (tokens in `store`)."""
    # Tokens rotate, so only the client secret is a literal; `auth`, `access_token` and
    # `refresh_token` values are masked by name wherever they travel.
    redactor = Redactor([client_secret, *([application_token] if application_token else [])])
    caller = HttpCaller(
        client,
        system=SYSTEM,
        limiter=limiter,
        recorder=recorder,
        redactor=redactor,
        body_limit=body_limit,
        timeout=timeout,
        throttle=wire.throttle,
        clock=clock,
        throttle_retries=throttle_retries,
    )
    app = OAuthApp(
        caller,
        client_id=client_id,
        client_secret=client_secret,
        store=store,
        server=oauth_server,
        portal=portal,
        clock=clock,
    )
    return Bitrix24Connector(RestClient(caller, app), application_token=application_token)
