"""The Bitrix24 connector: inbound-webhook REST v2 (legacy `crm.*` methods), batch, events.

Build one with `connect(client, webhook_url, limiter=..., recorder=..., application_token=...)`.
"""

from crmbridge.connectors.bitrix24.connector import Bitrix24Connector, connect

__all__ = ["Bitrix24Connector", "connect"]
