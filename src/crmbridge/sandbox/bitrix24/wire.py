"""Bitrix24's wire conventions: PHP-bracket parameters, PHP-array JSON, the envelope, errors.

The portal is a PHP application, so its input is `$_REQUEST` (query and body merged, bracket keys
made nested arrays) and its output is `json_encode` of PHP arrays: a map with keys 0..n-1 becomes
a JSON list and an empty map becomes `[]`. The emulator copies both because clients trip on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# The sandbox portal lives in Kyiv; a fixed offset keeps dates stable without tzdata.
PORTAL_TZ = timezone(timedelta(hours=2))
PAGE_SIZE = 50
_KEY_PART = re.compile(r"\[([^\]]*)\]")


class RestError(Exception):
    """A REST error answered as `{"error": code, "error_description": description}`."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


def not_found(description: str = "Not found") -> RestError:
    # Legacy CRM methods answer validation and lookup failures with an empty code and HTTP 400.
    return RestError("", description)


def parse_php_query(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`fields[TITLE]=x&select[]=ID` → `{"fields": {"TITLE": "x"}, "select": ["ID"]}`."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        _assign(root, parts, value)
    result: dict[str, Any] = php_lists(root)
    return result


def _assign(node: dict[str, Any], parts: list[str], value: str) -> None:
    for i, part in enumerate(parts):
        key = str(len(node)) if part == "" else part
        if i == len(parts) - 1:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child


def php_lists(value: Any) -> Any:
    """Turn maps keyed "0".."n-1" into lists, recursively, as PHP does for its arrays."""
    if isinstance(value, dict):
        items = {k: php_lists(v) for k, v in value.items()}
        if items and list(items) == [str(i) for i in range(len(items))]:
            return list(items.values())
        return items
    if isinstance(value, list):
        return [php_lists(v) for v in value]
    return value


def php_array(mapping: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
    """How PHP's json_encode prints an associative array: `[]` when empty, a list when 0..n-1."""
    if not mapping or list(mapping) == [str(i) for i in range(len(mapping))]:
        return list(mapping.values())
    return dict(mapping)


def param(params: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A parameter by name in any case: legacy methods take `ID`/`id`, `FIELDS`/`fields` alike."""
    for key in (name, name.upper(), name.lower()):
        if key in params:
            return params[key]
    return default


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def to_decimal(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    try:
        return Decimal(str(value).strip()) if value not in (None, "") else default
    except InvalidOperation:
        return default


def money(value: Decimal) -> str:
    """Legacy money format: a string with two decimals, e.g. "1000000.00"."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def as_wire(value: Any) -> Any:
    """A scalar the way legacy methods store it: everything becomes a string, null stays null."""
    if value is None or isinstance(value, dict | list):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)


def iso(moment: datetime) -> str:
    return moment.astimezone(PORTAL_TZ).isoformat(timespec="seconds")


def time_block(started: datetime, elapsed: float) -> dict[str, Any]:
    """The envelope's `time`; `operating` is 0 because the sandbox has no per-method budget."""
    start = started.timestamp()
    finish = started + timedelta(seconds=elapsed)
    return {
        "start": start,
        "finish": start + elapsed,
        "duration": elapsed,
        "processing": elapsed,
        "date_start": iso(started),
        "date_finish": iso(finish),
        "operating_reset_at": int(start) + 600,
        "operating": 0,
    }
