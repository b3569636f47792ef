"""One REST method call: the context handlers get, what they return, and the method table."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.auth import PORTAL, Caller
from crmbridge.sandbox.bitrix24.state import Portal
from crmbridge.sandbox.bitrix24.wire import RestError


class Emitter(Protocol):
    def emit(self, event: str, entity_id: int) -> None: ...


@dataclass(frozen=True)
class Urls:
    """Where the portal is reachable, for links it prints (file URLs, event `auth`)."""

    public_url: str  # e.g. http://127.0.0.1:8765, without the mount prefix
    prefix: str = "/bitrix24"

    @property
    def portal(self) -> str:
        return self.public_url.rstrip("/") + self.prefix

    @property
    def host(self) -> str:
        """The portal's domain as `auth[domain]` prints it (host:port in the sandbox)."""
        return urlsplit(self.public_url).netloc

    @property
    def member_id(self) -> str:
        """The portal's stable id (`auth[member_id]`): 32 hex digits, derived from the host."""
        return hashlib.md5(self.host.encode()).hexdigest()

    def file_link(self, owner: int, field: str, file_id: int) -> str:
        return (
            f"{self.portal}/bitrix/components/bitrix/crm.deal.show/show_file.php"
            f"?ownerId={owner}&fieldName={field}&dynamic=Y&fileId={file_id}"
        )

    def disk_link(self, file_id: int, name: str) -> str:
        return f"{self.portal}/disk/downloadFile/{file_id}/?&ncc=1&filename={name}"


@dataclass(frozen=True)
class Context:
    portal: Portal
    events: Emitter
    clock: Clock
    urls: Urls
    caller: Caller = PORTAL  # who this call runs as (rights, user, application)

    @property
    def user_id(self) -> int:
        return self.caller.user_id


@dataclass(frozen=True)
class Reply:
    result: Any
    total: int | None = None
    next: int | None = None


Handler = Callable[[Context, dict[str, Any]], Reply]


def method_not_found() -> RestError:
    return RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)


def call(table: dict[str, Handler], ctx: Context, method: str, params: dict[str, Any]) -> Reply:
    """Run one method under the portal lock; method names are case-insensitive.

    The caller's rights are checked first: a method of a scope it lacks is refused even when the
    sandbox does not emulate that method (the portal knows it; we only know its scope).
    """
    ctx.caller.check(method)
    handler = table.get(method.lower())
    if handler is None:
        raise method_not_found()
    with ctx.portal.lock:
        return handler(ctx, params)
