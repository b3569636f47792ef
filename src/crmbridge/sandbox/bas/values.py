"""Value conversion between the wire (JSON) and the in-memory store, per Edm type.

In memory: Edm.Double is a Decimal, Edm.Int64 an int, Edm.Guid a lower-case string, Edm.DateTime a
naive `YYYY-MM-DDTHH:MM:SS` string. On the wire Int64 goes out as a JSON string and Double as a
JSON number, as recorded from real servers (reference §1.6).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.schema import EMPTY_DATE, EMPTY_REF, UNDEFINED_TYPE, Field

_DEFAULTS: dict[str, Any] = {
    "Edm.String": "",
    "Edm.Boolean": False,
    "Edm.Int64": 0,
    "Edm.Int32": 0,
    "Edm.Int16": 0,
    "Edm.Guid": EMPTY_REF,
    "Edm.DateTime": EMPTY_DATE,
}


def default(f: Field) -> Any:
    if f.role == "composite_type":
        return UNDEFINED_TYPE
    if f.edm == "Edm.Double":
        return Decimal(0)
    return _DEFAULTS[f.edm]


def _bad(f: Field, value: Any) -> ODataError:
    return ODataError(400, "4", f"Неверное значение свойства '{f.name}': {value!r}")


def parse_datetime(text: str) -> str:
    """Normalise a 1C date-time (seconds optional, fractions dropped) to the wire form."""
    text = text.strip().split(".")[0]
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError:
            continue
    if text.startswith("0001-01-01"):
        return EMPTY_DATE
    raise ValueError(text)


def _coerce(edm: str, value: Any) -> Any:
    if edm == "Edm.Double":
        if isinstance(value, bool):
            raise ValueError(value)
        return Decimal(str(value))
    if edm.startswith("Edm.Int"):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(str(value))
    if edm == "Edm.Boolean":
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise ValueError(value)
        return value
    if edm == "Edm.Guid":
        return str(uuid.UUID(str(value))) if value else EMPTY_REF
    if edm == "Edm.DateTime":
        return parse_datetime(str(value)) if value else EMPTY_DATE
    return value if isinstance(value, str) else str(value)


def coerce(f: Field, value: Any) -> Any:
    """The store value of a field from a JSON value; 400 (code 4) if it does not convert."""
    if value is None:
        return default(f)
    try:
        return _coerce(f.edm, value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise _bad(f, value) from exc


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def to_wire(f: Field, value: Any) -> Any:
    if f.edm == "Edm.Int64":
        return str(value)
    if isinstance(value, Decimal):
        return number(value)
    return value
