"""Events in: outgoing-webhook deliveries (verified, parsed) and the offline event queue.

An outgoing webhook is a form-encoded POST with PHP-bracket keys (`event`,
`data[FIELDS][ID]`, `auth[application_token]`, …); the token is compared in constant time. The
portal never re-sends a delivery, so the offline queue (`event.offline.get` with `clear=0`, then
`event.offline.clear` once the events are safely stored) is the lossless alternative: what is not
confirmed stays reserved and is handed out again.

Dispatch table: `kinds.EVENT_KINDS`; an event not in it is logged as ignored.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from crmbridge.connectors.base import ChangedEvent, WebhookRejected
from crmbridge.connectors.bitrix24.kinds import EVENT_KINDS
from crmbridge.connectors.bitrix24.rest import RestClient

log = logging.getLogger("crmbridge.connectors.bitrix24")
SOURCE = "bitrix24"
MAX_BODY = 64 * 1024  # a delivery is a few hundred bytes
_KEPT = ("event", "event_handler_id", "ts", "auth[domain]", "auth[member_id]")
# A portal's entity ids are positive integers (a BIGINT at most); ASCII digits only, since
# str.isdigit() also takes "٣" or "²".
_ENTITY_ID = re.compile(r"[1-9][0-9]{0,17}")


def entity_id(raw: str, name: str = "data[FIELDS][ID]") -> str:
    """The id of a delivery's entity, or 400: anything else would be stored as an event whose
    job can only fail."""
    if _ENTITY_ID.fullmatch(raw) is None:
        raise WebhookRejected(f"{name} must be a positive integer, not {raw[:40]!r}", status=400)
    return raw


def verify_token(fields: dict[str, str], expected_token: str | None) -> None:
    """The portal's `auth[application_token]`, compared in constant time."""
    given = fields.get("auth[application_token]", "")
    if not expected_token or not given:
        raise WebhookRejected("no application token in the delivery (or none configured)")
    if not hmac.compare_digest(given.encode("utf-8"), expected_token.encode("utf-8")):
        raise WebhookRejected("the application token does not match")


def parse_delivery(body: bytes, expected_token: str | None) -> list[ChangedEvent]:
    fields = _form(body)
    verify_token(fields, expected_token)
    event, raw_id = fields.get("event", "").upper(), fields.get("data[FIELDS][ID]")
    if not event or raw_id is None:
        raise WebhookRejected("a delivery needs `event` and `data[FIELDS][ID]`", status=400)
    found = entity_id(raw_id)
    kind = EVENT_KINDS.get(event)
    if kind is None:
        log.info("bitrix24 event %s ignored: no handler", event)
        return []
    payload = {k: fields[k] for k in _KEPT if k in fields}
    event_id = f"{event}:{found}:{fields.get('ts', '')}"
    return [ChangedEvent(SOURCE, event_id, event, kind, found, payload)]


def _form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_BODY:
        raise WebhookRejected("the delivery is too large", status=400)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("not a form-encoded delivery", status=400) from None
    return dict(pairs)


@dataclass(frozen=True)
class OfflineBatch:
    process_id: str | None
    events: list[ChangedEvent]


class OfflineEvents:
    """`event.offline.get` / `event.offline.clear` (app context, admin: `offline-events.md`)."""

    def __init__(self, rest: RestClient) -> None:
        self._rest = rest

    def reserve(self, limit: int = 50, *, process_id: str | None = None) -> OfflineBatch:
        """Up to `limit` events, reserved (not removed) until `confirm()`.

        Keep the batch's `process_id` until it is confirmed: after a crash, passing it back hands
        out the still-unconfirmed events of that batch again (plus new ones).
        """
        params: dict[str, Any] = {"limit": limit, "clear": 0}
        if process_id:
            params["process_id"] = process_id
        answer = self._rest.result("event.offline.get", params)
        raw = answer.get("events") if isinstance(answer, Mapping) else None
        events = [e for item in raw or [] if (e := _offline_event(item)) is not None]
        process = answer.get("process_id") if isinstance(answer, Mapping) else None
        return OfflineBatch(str(process) if process else None, events)

    def confirm(self, batch: OfflineBatch) -> None:
        """Remove the batch's events from the queue (after they are durably stored)."""
        if batch.process_id:
            self._rest.call("event.offline.clear", {"process_id": batch.process_id})


def _offline_event(item: Any) -> ChangedEvent | None:
    if not isinstance(item, Mapping):
        return None
    name = str(item.get("EVENT_NAME", "")).upper()
    data = item.get("EVENT_DATA")
    fields = data.get("FIELDS") if isinstance(data, Mapping) else None
    raw_id = str(fields.get("ID", "")) if isinstance(fields, Mapping) else ""
    kind = EVENT_KINDS.get(name)
    if kind is None or _ENTITY_ID.fullmatch(raw_id) is None:
        # Confirmed with its batch all the same: it would otherwise come back forever.
        log.info("bitrix24 offline event %s ignored (no handler or no entity id)", name or "?")
        return None
    # ID + TIMESTAMP_X: the portal collapses repeated edits into one record and moves its stamp.
    event_id = f"offline:{item.get('ID')}:{item.get('TIMESTAMP_X')}"
    payload = {"message_id": str(item.get("MESSAGE_ID", "")), "at": str(item.get("TIMESTAMP_X"))}
    return ChangedEvent(SOURCE, event_id, name, kind, raw_id, payload)
