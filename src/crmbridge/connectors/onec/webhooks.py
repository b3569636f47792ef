"""BAS pushes JSON signed per the Standard Webhooks spec (standardwebhooks.com).

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`: a space-separated
list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the secret `whsec_<base64>`.
A delivery older or newer than the tolerance (5 minutes) is refused, so a captured request cannot
be replayed later; signatures are compared in constant time.

The body is `{"type": "...", "timestamp": "...", "data": {"entity_set": "...", "Ref_Key": "..."}}`,
the spec's recommended envelope; the event names what changed, the flow re-reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from crmbridge.clock import Clock
from crmbridge.connectors.base import ChangedEvent, WebhookRejected

log = logging.getLogger("crmbridge.connectors.onec")
TOLERANCE = 300.0
PREFIX = "whsec_"
# Which entity set tells which kind of entity changed (unknown sets are ignored, and logged).
KINDS: Mapping[str, str] = {
    "Document_СчетНаОплатуПокупателю": "invoice",
    "Document_ПоступлениеНаРасчетныйСчет": "payment",
    "Document_ПриходныйКассовыйОрдер": "payment",
    "Catalog_Контрагенты": "counterparty",
    "Catalog_ДоговорыКонтрагентов": "contract",
    "Catalog_Номенклатура": "product",
}


class WebhookSecret:
    """The signing key; `repr` never shows it."""

    def __init__(self, secret: str) -> None:
        try:
            self._key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError("a webhook secret is whsec_ followed by base64") from exc
        if not self._key:
            raise ValueError("empty webhook secret")

    def __repr__(self) -> str:
        return "WebhookSecret(<redacted>)"

    def signature(self, msg_id: str, timestamp: str, body: bytes) -> str:
        signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()


def sign(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed delivery (what BAS sends; tests use it too)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": secret.signature(msg_id, str(timestamp), body),
    }


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def verify(secret: WebhookSecret, body: bytes, headers: Mapping[str, str], clock: Clock) -> str:
    """The delivery's `webhook-id` if it is authentic and fresh; WebhookRejected (401) if not."""
    found = _lower(headers)
    msg_id, stamp, signatures = (
        found.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and stamp and signatures):
        raise WebhookRejected("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = float(int(stamp))
    except ValueError as exc:
        raise WebhookRejected("webhook-timestamp is not Unix seconds") from exc
    if abs(clock.now().timestamp() - sent) > TOLERANCE:
        raise WebhookRejected("webhook-timestamp outside the 5-minute tolerance")
    expected = secret.signature(msg_id, stamp, body).encode()
    # Compare against every candidate, not stopping early: the time taken says nothing.
    matched = [hmac.compare_digest(expected, s.encode()) for s in signatures.split()]
    if not any(matched):
        raise WebhookRejected("webhook signature does not match")
    return msg_id


def _envelope(body: bytes) -> tuple[str, Mapping[str, Any]]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected("webhook body is not JSON", status=400) from exc
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(payload.get("type"), str):
        raise WebhookRejected("webhook body needs a string type and a data object", status=400)
    return payload["type"], data


def parse(
    secret: WebhookSecret, body: bytes, headers: Mapping[str, str], clock: Clock
) -> list[ChangedEvent]:
    msg_id = verify(secret, body, headers, clock)
    event_type, data = _envelope(body)
    kind = KINDS.get(str(data.get("entity_set", "")))
    ref = data.get("Ref_Key")
    if kind is None or not isinstance(ref, str):
        log.info("ignored BAS webhook %s of type %s", msg_id, event_type)
        return []
    payload = {k: v for k, v in data.items() if k in ("entity_set", "Number", "Date", "Posted")}
    return [ChangedEvent("bas", msg_id, event_type, kind, ref, payload)]
