"""Outgoing events: handler bindings, an async form-POST sender, and the offline queue.

Wire format and semantics from `bitrix24/b24restdocs:api-reference/events/index.md`: a
form-encoded POST carrying only `data[FIELDS][ID]` and `auth[...]`, sent from a queue, never
retried. Changes made through REST fire events too, so an integration can loop, as on a portal.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.dispatch import Urls
from crmbridge.sandbox.bitrix24.offline import OfflineQueue
from crmbridge.sandbox.bitrix24.wire import RestError
from crmbridge.sandbox.control import SandboxControl

APPLICATION_TOKEN = "sandbox-app-token"
SUPPORTED = tuple(
    f"ONCRM{entity}{verb}"
    for entity in ("DEAL", "COMPANY", "CONTACT", "REQUISITE", "PRODUCT")
    for verb in ("ADD", "UPDATE")
)
# What the constructor's `outgoing_webhook` subscribes to, like a webhook configured in the UI.
WEBHOOK_EVENTS = (
    "ONCRMDEALADD",
    "ONCRMDEALUPDATE",
    "ONCRMCOMPANYADD",
    "ONCRMCOMPANYUPDATE",
    "ONCRMPRODUCTUPDATE",
)


@dataclass(frozen=True)
class Binding:
    id: int
    event: str
    handler: str  # "" for offline bindings
    offline: bool
    auth_type: int
    app: str = ""  # the client_id of the application that bound it ("" for the portal itself)
    application_token: str = ""  # that application's token, sent with every event
    scope: str = ""  # its scopes, comma-separated, as `auth[scope]` prints them


@dataclass(frozen=True)
class BoundBy:
    """The application that calls `event.bind`; the portal itself binds as `BoundBy()`."""

    app: str = ""
    application_token: str = ""
    scope: str = ""


class EventHub:
    """Fans an event out to bound handlers (via the sender thread) and to the offline queue."""

    def __init__(
        self,
        control: SandboxControl,
        clock: Clock,
        urls: Urls,
        *,
        outgoing_webhook: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._control = control
        self._clock = clock
        self._urls = urls
        self._webhook = outgoing_webhook
        self._transport = transport
        self._lock = threading.Lock()
        self._bindings: list[Binding] = []
        self._next_id = 0
        self._outbox: queue.Queue[list[tuple[str, str]] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self.offline = OfflineQueue(clock)

    # bindings -------------------------------------------------------------------------------
    def bind(
        self,
        event: str,
        handler: str,
        *,
        offline: bool,
        auth_type: int = 0,
        by: BoundBy | None = None,
    ) -> None:
        by = by or BoundBy()
        event = event.upper()
        if event not in SUPPORTED:
            raise RestError("ERROR_EVENT_NOT_FOUND", "Event not found")
        if not offline and not handler:
            raise RestError("ERROR_REQUIRED_PARAMETERS_MISSING", "Handler not specified")
        with self._lock:
            if any(b.event == event and b.handler == handler for b in self._bindings):
                raise RestError("ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!")
            self._next_id += 1
            self._bindings.append(
                Binding(
                    self._next_id,
                    event,
                    handler,
                    offline,
                    auth_type,
                    by.app,
                    by.application_token,
                    by.scope,
                )
            )

    def unbind_app(self, app: str) -> None:
        """Drop every handler `app` bound (it is being installed again)."""
        with self._lock:
            self._bindings = [b for b in self._bindings if b.app != app]

    def unbind(self, event: str, handler: str, *, offline: bool, app: str | None = None) -> int:
        """Remove matching handlers (of `app` only, unless it is None); returns how many."""
        with self._lock:
            keep = [
                b
                for b in self._bindings
                if not (
                    b.event == event.upper()
                    and b.handler == handler
                    and b.offline == offline
                    and (app is None or b.app == app)
                )
            ]
            removed = len(self._bindings) - len(keep)
            self._bindings = keep
        return removed

    def bindings(self) -> list[Binding]:
        with self._lock:
            return list(self._bindings)

    # emitting -------------------------------------------------------------------------------
    def emit(self, event: str, entity_id: int) -> None:
        """Queue the event for every subscriber; returns at once, delivery is asynchronous."""
        targets = [b for b in self.bindings() if b.event == event and not b.offline]
        if self._webhook and event in WEBHOOK_EVENTS:
            targets.append(Binding(0, event, self._webhook, False, 0))
        if any(b.event == event and b.offline for b in self.bindings()):
            self.offline.add(event, entity_id)
        for binding in targets:
            if self._control.fault("bitrix24", "drop_events") is not None:
                continue  # lost on the way, as a queue server under trouble may lose it
            self._ensure_sender()
            form = self.payload(event, binding.id, entity_id, binding)
            self._outbox.put([("__url__", binding.handler), *form])

    def payload(
        self, event: str, handler_id: int, entity_id: int, binding: Binding | None = None
    ) -> list[tuple[str, str]]:
        """The delivery's fields. An application's event carries its own token, scopes and
        status (`_includes/auth-params-in-events.md`) but no OAuth tokens, as when the portal
        cannot link the change to a user; the outgoing webhook's carries the webhook's token."""
        if binding is not None and binding.app:
            return [
                *self._common(event, handler_id, entity_id),
                ("auth[scope]", binding.scope),
                ("auth[status]", "L"),
                ("auth[application_token]", binding.application_token),
            ]
        return [
            *self._common(event, handler_id, entity_id),
            ("auth[application_token]", APPLICATION_TOKEN),
        ]

    def _common(self, event: str, handler_id: int, entity_id: int) -> list[tuple[str, str]]:
        return [
            ("event", event),
            ("event_handler_id", str(handler_id)),
            ("data[FIELDS][ID]", str(entity_id)),
            ("ts", str(int(self._clock.now().timestamp()))),
            ("auth[domain]", self._urls.host),
            ("auth[client_endpoint]", f"{self._urls.portal}/rest/"),
            ("auth[server_endpoint]", "https://oauth.bitrix.info/rest/"),
            ("auth[member_id]", self._urls.member_id),
        ]

    def _ensure_sender(self) -> None:
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_loop, name="b24-events")
                self._sender.daemon = True
                self._sender.start()

    def _send_loop(self) -> None:
        with httpx.Client(timeout=5.0, transport=self._transport) as client:
            while (item := self._outbox.get()) is not None:
                url = item[0][1]
                # Never retried: the portal logs a failed delivery and moves on.
                with contextlib.suppress(httpx.HTTPError):
                    client.post(url, data=dict(item[1:]))
                self._control.count_event()

    def close(self) -> None:
        with self._lock:
            sender, self._sender = self._sender, None
        if sender is not None:
            self._outbox.put(None)
            sender.join(timeout=10)

    # persistence ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            bindings = [asdict(b) for b in self._bindings]
        return {"bindings": bindings, "next_id": self._next_id, "offline": self.offline.snapshot()}

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._bindings = [Binding(**b) for b in data["bindings"]]
            self._next_id = int(data["next_id"])
        self.offline.restore(data["offline"])
