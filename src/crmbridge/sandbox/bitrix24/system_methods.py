"""`scope`, `methods`, `method.get`: what the current credential may call.

From `bitrix24/b24restdocs:api-reference/common/system/scope.md` (a list of the caller's
scopes; `full=true` lists them all), `methods.md` (method names the caller may call; `full=true`
every method, `scope=<code>` that scope's, an empty `scope=` the common ones) and
`method-get.md` (`{"isExisting": …, "isAvailable": …}`, both false for an empty name).
`app.info` is in `apps.py`.
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24 import scopes
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.wire import RestError, param


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "y", "yes")


def _available(ctx: Context, method: str) -> bool:
    try:
        ctx.caller.check(method)
    except RestError:
        return False
    return True


def methods(table: dict[str, Handler]) -> dict[str, Handler]:
    """The three methods over `table`, the portal's method table (read when called)."""

    def scope(ctx: Context, params: dict[str, Any]) -> Reply:
        if _truthy(param(params, "full", "")):
            return Reply(sorted(scopes.KNOWN))
        return Reply(sorted(ctx.caller.scopes))

    def methods_(ctx: Context, params: dict[str, Any]) -> Reply:
        names = sorted(table)
        if _truthy(param(params, "full", "")):
            return Reply(names)
        wanted = param(params, "scope")
        if wanted is not None:
            return Reply([n for n in names if scopes.scope_of(n) == (str(wanted) or None)])
        return Reply([n for n in names if _available(ctx, n)])

    def method_get(ctx: Context, params: dict[str, Any]) -> Reply:
        name = str(param(params, "name") or "").lower()
        exists = bool(name) and name in table
        return Reply({"isExisting": exists, "isAvailable": exists and _available(ctx, name)})

    return {"scope": scope, "methods": methods_, "method.get": method_get}
