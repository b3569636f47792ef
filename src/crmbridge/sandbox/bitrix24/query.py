"""`filter`, `order`, `select` and `start` of legacy list methods, over wire-shaped records.

Filter keys carry their operator as a prefix (`>=ID`, `%TITLE`, `!STAGE_ID`, `@ID`); values compare
as numbers when both sides are numeric (IDs and amounts travel as strings), otherwise as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crmbridge.sandbox.bitrix24.wire import PAGE_SIZE, RestError, param, to_int

_OPERATOR = re.compile(r"^(>=|<=|!=|!@|=%|%=|>|<|=|!|@|%)?(.*)$")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next: int | None


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _compare(left: Any, right: Any) -> int:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x, y = str(left if left is not None else ""), str(right if right is not None else "")
    return (x > y) - (x < y)


def _like(left: Any, right: Any) -> bool:
    needle = str(right).strip("%").casefold()
    return left is not None and needle in str(left).casefold()


# Equality (any value of a list; a multi-value field matches when any of its values does) is
# `_member_of`; the rest compare one value.
_EQUALITY = ("", "=", "@", "!", "!=", "!@")
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a not in (None, "") and _compare(a, b) > 0,
    ">=": lambda a, b: a not in (None, "") and _compare(a, b) >= 0,
    "<": lambda a, b: a not in (None, "") and _compare(a, b) < 0,
    "<=": lambda a, b: a not in (None, "") and _compare(a, b) <= 0,
    "%": _like,
    "=%": _like,
    "%=": _like,
}


def _member_of(values: list[Any], *, negate: bool = False) -> Callable[[Any, Any], bool]:
    """Equality with any of `values` (a list, or one value), the values turned into sets once: an
    `@XML_ID` lookup of 2,500 keys over 10,000 products would otherwise compare every pair (as
    Decimals), and so would `ENTITY_ID = 17` over every requisite of the portal."""
    texts = {str(v) for v in values if v not in (None, "")}
    numbers = {n for v in values if (n := _number(v)) is not None}
    empty = any(v in (None, "") for v in values)

    def member(left: Any) -> bool:
        if isinstance(left, list):
            return any(member(item) for item in left) or (not left and empty)
        if left in (None, ""):
            return empty
        text = str(left)
        if text in texts:
            return True
        if not numbers:  # keys such as XML_ID = 1C Ref_Key: no Decimal parse of each miss
            return False
        if text.isascii() and text.isdigit():  # an id: int == Decimal, and they hash alike
            return int(text) in numbers
        number = _number(left)
        return number is not None and number in numbers

    def test(left: Any, _values: Any) -> bool:
        return member(left) != negate

    return test


def matcher(flt: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for a legacy filter; unknown fields never match, as on the portal."""
    tests = []
    for key, value in (flt or {}).items():
        found = _OPERATOR.match(str(key))
        op, name = (found.group(1) or "", found.group(2)) if found else ("", str(key))
        if op in _EQUALITY:
            listed = value if isinstance(value, list) else [value]
            test = _member_of(listed, negate=op in ("!@", "!", "!="))
        else:
            test = _TESTS[op]
        tests.append((test, name.upper(), value))

    def accepts(record: Mapping[str, Any]) -> bool:
        return all(test(record.get(name), value) for test, name, value in tests)

    return accepts


def sort(records: list[dict[str, Any]], order: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Stable multi-key sort; the default is by ID ascending."""
    keys = list((order or {"ID": "ASC"}).items())
    result = list(records)
    for field, direction in reversed(keys):
        descending = str(direction).upper() == "DESC"
        result.sort(key=_by(field.upper()), reverse=descending)
    return result


def _by(field: str) -> Callable[[dict[str, Any]], tuple[int, Decimal, str]]:
    return lambda record: _sort_key(record.get(field))


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    number = _number(value)
    if number is not None:
        return (1, number, "")
    return (0 if value in (None, "") else 2, Decimal(0), str(value or ""))


def select(record: Mapping[str, Any], fields: Iterable[str] | None) -> dict[str, Any]:
    """Project a record; `*` means standard fields, `UF_*` the user fields, ID always comes."""
    wanted = [str(f).upper() for f in fields or []] or ["*"]
    out: dict[str, Any] = {}
    for name, value in record.items():
        is_uf = name.startswith("UF_")
        standard = "*" in wanted and not is_uf and name not in _MULTI
        if name == "ID" or name in wanted or standard or (is_uf and "UF_*" in wanted):
            out[name] = value
    return out


_MULTI = {"PHONE", "EMAIL", "WEB", "IM"}  # multi-fields come only when named in `select`


def page(records: list[dict[str, Any]], start_param: Any) -> Page:
    """Fixed pages of 50; `start=-1` skips the count (total 0, no `next`) as on the portal."""
    start = to_int(start_param) if start_param not in (None, "") else 0
    if start is None:
        start = 0
    if start == -1:
        return Page(records[:PAGE_SIZE], 0, None)
    start = max(start, 0)
    chunk = records[start : start + PAGE_SIZE]
    more = start + PAGE_SIZE < len(records)
    return Page(chunk, len(records), start + PAGE_SIZE if more else None)


def list_query(
    records: Iterable[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    default_select: str = "*",
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    in_id_order: bool = False,
) -> Page:
    """Filter, sort, page and select. `present` turns a stored record into its wire form and is
    applied to the page only; `in_id_order` says the records already come by ID ascending, so
    the default order needs no sort (a 10,000-product table paged 50 at a time would otherwise
    be copied and sorted for every page)."""
    flt = param(params, "filter") or {}
    order = param(params, "order") or {}
    fields = param(params, "select") or [default_select]
    if not isinstance(flt, dict) or not isinstance(order, dict):
        raise RestError("", "Parameter 'filter' must be array.")
    accepts = matcher(flt)  # built once: it turns `@` lists into sets
    chosen = [r for r in records if accepts(r)]
    by_id = not order or [(k.upper(), str(v).upper()) for k, v in order.items()] == [("ID", "ASC")]
    found = page(chosen if in_id_order and by_id else sort(chosen, order), param(params, "start"))
    shown = [present(r) for r in found.items] if present else found.items
    return Page([select(r, _as_list(fields)) for r in shown], found.total, found.next)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
