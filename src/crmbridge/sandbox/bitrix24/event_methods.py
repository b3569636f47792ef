"""`event.{bind,unbind,get}` and `event.offline.{get,clear,list}` over an `EventHub`.

An application sees and removes only its own handlers; the portal itself (in-process calls)
sees them all.
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24.apps import LocalApps
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.events import BoundBy, EventHub
from crmbridge.sandbox.bitrix24.wire import RestError, param, to_int


def _is_offline(params: dict[str, Any]) -> bool:
    return str(param(params, "event_type", "online")).lower() == "offline"


def _as_list(value: Any) -> list[Any] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else [value]


def _bound_by(ctx: Context, apps: LocalApps) -> BoundBy:
    app = apps.get(ctx.caller.app) if ctx.caller.app else None
    if app is None:
        return BoundBy()
    return BoundBy(app.client_id, app.application_token, ",".join(sorted(app.scopes)))


def methods(hub: EventHub, apps: LocalApps) -> dict[str, Handler]:
    """Application-only methods: the caller's check refuses them through an inbound webhook."""

    def bind(ctx: Context, params: dict[str, Any]) -> Reply:
        offline = _is_offline(params)
        handler = "" if offline else str(param(params, "handler") or "")
        auth_type = to_int(param(params, "auth_type")) or 0
        event = str(param(params, "event") or "")
        by = _bound_by(ctx, apps)
        hub.bind(event, handler, offline=offline, auth_type=auth_type, by=by)
        return Reply(True)

    def unbind(ctx: Context, params: dict[str, Any]) -> Reply:
        offline = _is_offline(params)
        handler = "" if offline else str(param(params, "handler") or "")
        app = None if ctx.caller.internal else (ctx.caller.app or "")
        count = hub.unbind(str(param(params, "event") or ""), handler, offline=offline, app=app)
        return Reply({"count": count})

    def get(ctx: Context, params: dict[str, Any]) -> Reply:
        mine = [b for b in hub.bindings() if ctx.caller.internal or b.app == ctx.caller.app]
        items = [
            {
                "event": b.event,
                "handler": b.handler,
                "auth_type": str(b.auth_type),
                "offline": 1 if b.offline else 0,
            }
            for b in mine
        ]
        return Reply(items)

    def offline_get(ctx: Context, params: dict[str, Any]) -> Reply:
        limit = to_int(param(params, "limit")) or 50
        clear = to_int(param(params, "clear", 1)) != 0
        process = str(param(params, "process_id") or "")
        flt, order = param(params, "filter") or {}, param(params, "order") or {}
        return Reply(hub.offline.get(flt, order, limit, clear, process))

    def offline_clear(ctx: Context, params: dict[str, Any]) -> Reply:
        process = str(param(params, "process_id") or "")
        if not process:
            raise RestError("PROCESS_ID_EMPTY", "Process ID is empty")  # [assumption] wording
        ids = _as_list(param(params, "id"))
        hub.offline.clear(process, ids, None if ids else _as_list(param(params, "message_id")))
        return Reply(True)

    def offline_list(ctx: Context, params: dict[str, Any]) -> Reply:
        flt, order = param(params, "filter") or {}, param(params, "order") or {}
        items, total, nxt = hub.offline.list(flt, order, param(params, "start"))
        return Reply(items, total, nxt)

    return {
        "event.bind": bind,
        "event.unbind": unbind,
        "event.get": get,
        "event.offline.get": offline_get,
        "event.offline.clear": offline_clear,
        "event.offline.list": offline_list,
    }
