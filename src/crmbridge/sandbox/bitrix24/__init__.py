"""An emulator of a Bitrix24 portal's REST API (inbound webhook), events and demo page."""

from __future__ import annotations

from crmbridge.sandbox.bitrix24.sandbox import Bitrix24Sandbox
from crmbridge.sandbox.bitrix24.wire import RestError

__all__ = ["Bitrix24Sandbox", "RestError"]
