"""Splits a decoded OData resource path into segments, respecting quotes.

`Catalog_X(guid'…')/Post`, `InformationRegister_Y/SliceLast(Condition='A/B eq 1')`: a `/` or a
`)` inside a quoted literal belongs to the literal, so the path is scanned, not split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.filterparse import Lit, parse_params


@dataclass(frozen=True)
class Segment:
    name: str
    params: str | None = None  # text between the parentheses, if any


@dataclass
class Resource:
    set_name: str
    key: Lit | None = None
    named_key: dict[str, Lit] = field(default_factory=dict)
    has_key: bool = False
    rest: list[Segment] = field(default_factory=list)


def bad_url(path: str) -> ODataError:
    return ODataError(400, "6", f"Неверный адрес ресурса: {path}")


def _closing(path: str, start: int) -> int:
    quoted = False
    for i in range(start, len(path)):
        if path[i] == "'":
            quoted = not quoted  # '' inside a literal toggles twice, so it stays quoted
        elif path[i] == ")" and not quoted:
            return i
    raise bad_url(path)


def segments(path: str) -> list[Segment]:
    found: list[Segment] = []
    i = 0
    while i < len(path):
        j = i
        while j < len(path) and path[j] not in "(/":
            j += 1
        name, params = path[i:j], None
        if j < len(path) and path[j] == "(":
            end = _closing(path, j + 1)
            params, j = path[j + 1 : end], end + 1
        if not name or (j < len(path) and path[j] != "/"):
            raise bad_url(path)
        found.append(Segment(name, params))
        i = j + 1
    return found


def parse(path: str) -> Resource:
    parts = segments(path)
    if not parts:
        raise bad_url(path)
    first = parts[0]
    resource = Resource(first.name, rest=parts[1:])
    if first.params is not None:
        resource.has_key = True
        resource.key, resource.named_key = parse_params(first.params)
        if resource.key is None and not resource.named_key:
            raise ODataError(400, "7", "Не задан ключ сущности")
    return resource
