"""Evaluation of parsed `$filter` trees and the other query options, over in-memory rows.

1C semantics kept here (reference §1.7): string comparison ignores case, as the 1C query
language does; references (GUIDs) cannot be ordered — `gt` on one is a 500 `-1` with the
platform's message; a composite attribute compared with a plain `guid'…'` never matches,
only `cast(guid'…','Set')` does.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.filterparse import (
    Binary,
    Call,
    Lit,
    Node,
    Prop,
    Unary,
    parse_filter,
    parse_orderby,
    syntax_error,
)

Typed = tuple[Any, str]  # (value, kind): kind is string|guid|datetime|number|bool|null|...
Row = dict[str, Any]
Resolver = Callable[[Row, tuple[str, ...]], Typed]

_ORDERING = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
_ARITHMETIC = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}
_UNSUPPORTED = {"length", "indexof", "replace", "tolower", "toupper", "trim", "floor", "ceiling"}


def incomparable(pos: int) -> ODataError:
    return ODataError(
        500,
        "-1",
        f"{{(1, {pos + 1})}}: Неверные параметры в операции сравнения. Нельзя сравнивать поля "
        "неограниченной длины и поля несовместимых типов.",
    )


def _function_error(name: str) -> ODataError:
    return ODataError(
        400, "21", f"Функция '{name}' не реализована или вызвана с неверными аргументами"
    )


def _equal(a: Typed, b: Typed) -> bool:
    (av, ak), (bv, bk) = a, b
    if "composite" in (ak, bk):
        composite, other = (a, b) if ak == "composite" else (b, a)
        if other[1] == "typed_ref":
            return bool(composite[0] == other[0])
        return other[1] == "string" and composite[0][0] == other[0]
    if ak != bk:
        return False
    if ak == "string":
        return bool(av.casefold() == bv.casefold())
    return bool(av == bv)


def compare(op: str, a: Typed, b: Typed, pos: int) -> bool:
    if op in ("eq", "ne"):
        return _equal(a, b) == (op == "eq")
    kinds = {a[1], b[1]}
    if len(kinds) > 1 or kinds & {"guid", "composite", "typed_ref", "bool", "null"}:
        raise incomparable(pos)
    left, right = a[0], b[0]
    if a[1] == "string":
        left, right = left.casefold(), right.casefold()
    return bool(_ORDERING[op](left, right))


def _text(arg: Typed, name: str) -> str:
    if arg[1] != "string":
        raise _function_error(name)
    return str(arg[0]).casefold()


def _call(name: str, args: list[Typed]) -> Typed:
    arity = {"substringof": 2, "startswith": 2, "endswith": 2, "cast": 2}.get(name, 1)
    if name in _UNSUPPORTED or len(args) != arity:
        raise _function_error(name)
    if name == "substringof":
        return _text(args[0], name) in _text(args[1], name), "bool"
    if name == "startswith":
        return _text(args[0], name).startswith(_text(args[1], name)), "bool"
    if name == "endswith":
        return _text(args[0], name).endswith(_text(args[1], name)), "bool"
    if name == "cast" and args[0][1] == "guid" and args[1][1] == "string":
        return (args[0][0], f"StandardODATA.{args[1][0]}"), "typed_ref"
    parts = {"year": (0, 4), "month": (5, 7), "day": (8, 10), "hour": (11, 13)}
    parts |= {"minute": (14, 16), "second": (17, 19)}
    if name in parts and args[0][1] == "datetime":
        start, end = parts[name]
        return Decimal(args[0][0][start:end]), "number"
    raise _function_error(name)


def evaluate(node: Node, row: Row, resolve: Resolver) -> Typed:
    if isinstance(node, Lit):
        return node.value, node.kind
    if isinstance(node, Prop):
        return resolve(row, node.path)
    if isinstance(node, Unary):
        value = evaluate(node.operand, row, resolve)
        return (not value[0], "bool") if node.op == "not" else (-value[0], "number")
    if isinstance(node, Call):
        return _call(node.name, [evaluate(a, row, resolve) for a in node.args])
    return _binary(node, row, resolve)


def _binary(node: Binary, row: Row, resolve: Resolver) -> Typed:
    left = evaluate(node.left, row, resolve)
    if node.op == "and" and not left[0]:
        return False, "bool"
    if node.op == "or" and left[0] is True:
        return True, "bool"
    right = evaluate(node.right, row, resolve)
    if node.op in ("and", "or"):
        return bool(right[0]), "bool"
    if node.op in _ARITHMETIC:
        if left[1] != "number" or right[1] != "number":
            raise incomparable(node.pos)
        try:
            return _ARITHMETIC[node.op](left[0], right[0]), "number"
        except ArithmeticError as exc:
            raise ODataError(500, "-1", "Деление на 0") from exc
    return compare(node.op, left, right, node.pos), "bool"


def matches(node: Node | None, row: Row, resolve: Resolver) -> bool:
    return node is None or evaluate(node, row, resolve)[0] is True


@dataclass
class Options:
    """The system query options of one request, validated."""

    filter: Node | None = None
    orderby: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    select: list[str] | None = None
    expand: list[str] = field(default_factory=list)
    inlinecount: bool = False
    metadata: str = "minimalmetadata"  # nometadata | minimalmetadata | fullmetadata


def _count(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    text = params[name].strip()
    if not text.isdigit():
        raise syntax_error(name, text, 0, "ожидается неотрицательное целое")
    return int(text)


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_options(params: dict[str, str]) -> Options:
    text = params.get("$filter")
    fmt = params.get("$format", "")
    metadata = next((m for m in ("nometadata", "fullmetadata") if m in fmt), "minimalmetadata")
    inlinecount = params.get("$inlinecount", "none")
    if inlinecount not in ("allpages", "none"):
        raise syntax_error("$inlinecount", inlinecount, 0, "ожидается allpages или none")
    return Options(
        filter=parse_filter(text) if text else None,
        orderby=parse_orderby(params["$orderby"]) if params.get("$orderby") else [],
        top=_count(params, "$top"),
        skip=_count(params, "$skip") or 0,
        select=_names(params.get("$select")),
        expand=_names(params.get("$expand")) or [],
        inlinecount=inlinecount == "allpages",
        metadata=metadata,
    )


def _sort_key(value: Typed) -> tuple[int, Any]:
    # Mixed or empty values sort first, like 1C's NULL-first ordering.
    item = value[0]
    if isinstance(item, str):
        return (1, item.casefold())
    if isinstance(item, bool | int | Decimal):
        return (1, item)
    return (0, "")


def order(rows: list[Row], keys: Sequence[tuple[tuple[str, ...], bool]], resolve: Resolver) -> None:
    for path, descending in reversed(keys):  # stable sorts, least significant key first

        def key(row: Row, path: tuple[str, ...] = path) -> tuple[int, Any]:
            return _sort_key(resolve(row, path))

        rows.sort(key=key, reverse=descending)


def page(rows: list[Row], options: Options, count_ignores_paging: bool) -> list[Row]:
    if options.inlinecount and count_ignores_paging:
        return rows  # 17.4.6.2: with $inlinecount the server ignores $top and $skip
    end = None if options.top is None else options.skip + options.top
    return rows[options.skip : end]
