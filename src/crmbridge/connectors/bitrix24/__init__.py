"""The Bitrix24 connector: REST v2 (legacy `crm.*` methods), batch, events.

Build one with `connect(client, webhook_url, limiter=..., recorder=..., application_token=...)`
(inbound webhook), or `connect_app(client, client_id=..., client_secret=..., store=..., ...)`
(OAuth application; tokens in a `TokenStore`, renewed on `expired_token`, once for every thread
and process sharing the store).
"""

from crmbridge.connectors.bitrix24.connector import Bitrix24Connector, connect, connect_app
from crmbridge.connectors.bitrix24.tokens import (
    DatabaseTokenStore,
    MemoryTokenStore,
    NotInstalled,
    Tokens,
    TokenStore,
)

__all__ = [
    "Bitrix24Connector",
    "DatabaseTokenStore",
    "MemoryTokenStore",
    "NotInstalled",
    "TokenStore",
    "Tokens",
    "connect",
    "connect_app",
]
