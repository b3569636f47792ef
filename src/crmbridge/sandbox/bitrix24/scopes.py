"""Which scope each method needs, which methods need an application, and the refusals.

Declared from `bitrix24/b24restdocs` (the `> Scope:` line of every method page and
`api-reference/scopes/permissions.md`): `crm.*` → `crm`, `tasks.*` → `task`, `user.*` → `user`
(also `user_brief`, `user_basic`), `disk.*` → `disk`; `scope`, `methods`, `method.get`,
`app.info`, `batch` and the event methods are `basic` (no scope to grant). `event.*`,
`events` and `placement.*` work "only in the context of application authorization"
(`api-reference/events/event-bind.md`, `event-get.md`, `event-offline-*.md`,
`widgets/placement-bind.md`).

Refusals:
- a scope the caller lacks: HTTP 401 `insufficient_scope`, "…than provided by the webhook token"
  (or "…by the access token" for an application). The status is 401 as
  `bitrix24/b24pysdk:b24pysdk/errors/__init__.py` files `BitrixAPIInsufficientScope` under
  Unauthorized, checked against a real portal by its `tests/integration/errors/test_errors.py`
  (`test_error_bitrix_api_insufficient_scope`); the docs' table (`_includes/system-errors.md`)
  says 403. Inside `batch` the sub-call's error has an empty description
  (`settings/how-to-call-rest-api/batch.md`).
- an application-only method called through an inbound webhook: HTTP 403 `WRONG_AUTH_TYPE`,
  "Current authorization type is denied for this method Application context required", the body
  `widgets/placement-unbind.md` and the imconnector pages print for such calls; for `event.bind`
  the docs only say the method needs an application (the same body is assumed).
"""

from __future__ import annotations

from crmbridge.sandbox.bitrix24.wire import RestError

# `api-reference/scopes/permissions.md` (a selection: the scopes a sandbox portal may grant).
KNOWN = frozenset(
    {
        "bizproc",
        "calendar",
        "catalog",
        "crm",
        "department",
        "disk",
        "entity",
        "im",
        "imbot",
        "log",
        "placement",
        "task",
        "telephony",
        "user",
        "user_basic",
        "user_brief",
    }
)
# What the default webhook `1/sandbox` grants: every scope crmbridge and the demo use, and more.
DEFAULT = frozenset({"crm", "task", "user", "disk", "department", "entity"})

# Method-name prefix → scope; the longest prefix wins. A method under no prefix and not basic is
# unknown, whatever the caller's scopes (404).
_PREFIXES = {
    "crm.": "crm",
    "tasks.": "task",
    "task.": "task",
    "user.": "user",
    "disk.": "disk",
    "department.": "department",
    "entity.": "entity",
    "bizproc.": "bizproc",
    "placement.": "placement",
    "calendar.": "calendar",
    "catalog.": "catalog",
    "im.": "im",
    "imbot.": "imbot",
    "telephony.": "telephony",
}
_USER_VARIANTS = frozenset({"user", "user_brief", "user_basic"})
BASIC = frozenset({"batch", "scope", "methods", "method.get", "app.info", "server.time", "events"})
APP_ONLY_PREFIXES = ("event.", "placement.")
APP_ONLY = frozenset({"events"})


def scope_of(method: str) -> str | None:
    """The scope `method` belongs to; None for basic methods and unknown prefixes."""
    name = method.lower()
    if name in BASIC or name.startswith("event."):
        return None
    found = [p for p in _PREFIXES if name.startswith(p)]
    return _PREFIXES[max(found, key=len)] if found else None


def app_only(method: str) -> bool:
    name = method.lower()
    return name in APP_ONLY or name.startswith(APP_ONLY_PREFIXES)


def granted(scope: str, scopes: frozenset[str]) -> bool:
    if scope == "user":
        return bool(scopes & _USER_VARIANTS)
    return scope in scopes


def insufficient(token: str) -> RestError:
    """`token` is "webhook" or "access": the word the portal uses for the caller's credential."""
    return RestError(
        "insufficient_scope",
        f"The request requires higher privileges than provided by the {token} token",
        401,
    )


def wrong_auth_type() -> RestError:
    return RestError(
        "WRONG_AUTH_TYPE",
        "Current authorization type is denied for this method Application context required",
        403,
    )
