"""OData v3 literals and resource paths as 1C reads them (reference §1.3, §1.7, §1.13).

1C rejects v4 literal syntax, so every literal is spelt here once: `guid'…'`,
`datetime'2026-01-05T00:00:00'` (naive wall-clock, no zone), strings in single quotes with `''`
escaping, numbers without exponent. Paths and query strings are percent-encoded as UTF-8 while the
OData punctuation (`$ ( ) ' , = /`) stays literal: some stacks mangle an encoded `$` or `'`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
# Kept literal in paths and query values; everything else non-ASCII or reserved is encoded.
_PATH_SAFE = "$()',=_-.~/:*"
_QUERY_SAFE = "$()',=_-.~/:*"


def guid(value: str | uuid.UUID) -> str:
    """`guid'…'`; raises ValueError for anything that is not a GUID (no injection via keys)."""
    return f"guid'{uuid.UUID(str(value))}'"


def datetime_literal(value: datetime | date | str) -> str:
    """`datetime'YYYY-MM-DDTHH:MM:SS'`; an aware datetime is refused: 1C dates have no zone."""
    return f"datetime'{format_datetime(value)}'"


def format_datetime(value: datetime | date | str) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("1C dates are naive wall-clock time; convert before formatting")
        return value.replace(microsecond=0).isoformat()
    return f"{value.isoformat()}T00:00:00"


def parse_datetime(text: str) -> datetime:
    """A 1C date-time (`2026-01-05T10:00:00`, seconds optional) as a naive datetime."""
    return datetime.fromisoformat(text.strip().split(".")[0])


def string(value: str) -> str:
    """`'…'` with every `'` doubled, the only escape v3 string literals know."""
    return "'" + value.replace("'", "''") + "'"


def number(value: int | Decimal | float) -> str:
    """Plain positional notation: 1C rejects `1E+20`."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number literal")
    if isinstance(value, int):
        return str(value)
    return format(Decimal(str(value)), "f")


def literal(value: object) -> str:
    """The literal of a Python value; a str that parses as a GUID is still a string here."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return guid(value)
    if isinstance(value, datetime | date):
        return datetime_literal(value)
    if isinstance(value, int | Decimal | float):
        return number(value)
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"no OData literal for {type(value).__name__}")


def entity_path(entity_set: str, ref: str | None = None, *segments: str) -> str:
    """`Catalog_%D0%9A…(guid'…')/Post`, relative to `…/standard.odata/`."""
    path = entity_set if ref is None else f"{entity_set}({guid(ref)})"
    return quote("/".join([path, *segments]), safe=_PATH_SAFE)


def function_path(entity_set: str, function: str, params: Mapping[str, str]) -> str:
    """A virtual table with its parameters in the path: `…/SliceLast(Condition='…')`.

    `params` values are already literals (`string(...)` for a Condition).
    """
    inner = ", ".join(f"{name}={value}" for name, value in params.items())
    return quote(f"{entity_set}/{function}({inner})", safe=_PATH_SAFE)


def query_string(params: Mapping[str, str]) -> str:
    """`$filter=…&$top=…` with UTF-8 percent-encoding and OData punctuation kept literal."""
    return "&".join(
        f"{quote(name, safe='$')}={quote(value, safe=_QUERY_SAFE)}"
        for name, value in params.items()
    )
