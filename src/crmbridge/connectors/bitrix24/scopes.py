"""Which scope each Bitrix24 method crmbridge calls needs, declared once.

A portal grants an inbound webhook or an application a set of scopes; a method of another
scope is refused with `insufficient_scope`. The error mapping names the scope from here, and
`crmbridge check` compares `required_scopes()` with `granted_scopes(rest)` (the `scope` method).

Scopes from `bitrix24/b24restdocs` (the `> Scope:` line of each method page,
`api-reference/scopes/permissions.md`): `crm.*` → `crm`, `tasks.*` → `task`, `user.*` → `user`,
`disk.*` → `disk`; `batch`, `scope`, `app.info` and the `event.*` methods are `basic`, which
every credential has (the `event.*` methods need an application, not a scope).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmbridge.connectors.bitrix24.kinds import KINDS

if TYPE_CHECKING:
    from crmbridge.connectors.bitrix24.rest import RestClient

PREFIXES = {
    "crm.": "crm",
    "tasks.": "task",
    "task.": "task",
    "user.": "user",
    "disk.": "disk",
    "department.": "department",
    "bizproc.": "bizproc",
    "placement.": "placement",
}
BASIC = frozenset({"batch", "scope", "methods", "method.get", "app.info", "server.time"})

# Every method crmbridge calls. `tests/unit/test_bitrix24_scopes.py` checks that each method
# named in this package is listed here.
CALLED = (
    *(f"{k.prefix}.{verb}" for k in KINDS.values() for verb in ("get", "list", "add", "update")),
    "crm.deal.fields",
    "crm.deal.productrows.get",
    "crm.deal.productrows.set",
    "crm.category.list",
    "crm.status.list",
    "crm.timeline.comment.add",
    "crm.timeline.comment.list",
    "tasks.task.add",
    "tasks.task.list",
    "event.bind",
    "event.offline.get",
    "event.offline.clear",
    "batch",
    "scope",
    "app.info",
)


def scope_of(method: str) -> str | None:
    """The scope `method` needs; None for basic methods (and for methods we do not know)."""
    name = method.lower()
    if name in BASIC or name.startswith("event."):
        return None
    found = [p for p in PREFIXES if name.startswith(p)]
    return PREFIXES[max(found, key=len)] if found else None


def required_scopes() -> frozenset[str]:
    """The scopes the portal must grant crmbridge: `crm` and `task`."""
    return frozenset(s for m in CALLED if (s := scope_of(m)) is not None)


def granted_scopes(rest: RestClient) -> set[str]:
    """The scopes the portal grants this connection (the `scope` method)."""
    result = rest.result("scope")
    return {str(s) for s in result} if isinstance(result, list) else set()
