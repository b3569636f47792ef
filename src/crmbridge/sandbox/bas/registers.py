"""Virtual tables of information registers: `SliceLast` and `SliceFirst` (reference §1.7).

Parameters come in the path (`SliceLast(Period=datetime'…', Condition='…')`) or as query
parameters; `Condition` is a `$filter`-style expression over the register's fields. As observed
on real servers, `$skip` is refused with 400 and `$orderby` is ignored.
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.filterparse import Lit, parse_filter, parse_params
from crmbridge.sandbox.bas.query import matches
from crmbridge.sandbox.bas.resource import Segment
from crmbridge.sandbox.bas.schema import EntitySet
from crmbridge.sandbox.bas.store import Row
from crmbridge.sandbox.bas.values import parse_datetime
from crmbridge.sandbox.bas.wire import Wire

_FUNCTIONS = ("SliceLast", "SliceFirst")


def _parameters(segment: Segment, query: dict[str, str]) -> dict[str, Lit]:
    named: dict[str, Lit] = {}
    if "Period" in query:
        text = query["Period"].removeprefix("datetime").strip("'")
        named["Period"] = Lit(parse_datetime(text), "datetime")
    if "Condition" in query:
        named["Condition"] = Lit(query["Condition"], "string")
    if segment.params:
        _bare, found = parse_params(segment.params, segment.name)
        named |= found
    return named


def virtual_table(
    wire: Wire, entity: EntitySet, rows: list[Row], rest: list[Segment], query: dict[str, str]
) -> list[Row]:
    segment = rest[0]
    if len(rest) != 1 or segment.name not in _FUNCTIONS:
        raise ODataError(400, "11", f"Не найден метод '{segment.name}'")
    if "$skip" in query:
        raise ODataError(400, "14", "Параметр $skip не поддерживается для виртуальных таблиц")
    params = _parameters(segment, query)
    last = segment.name == "SliceLast"
    period = params.get("Period")
    if period is not None:
        limit = str(period.value)
        rows = [r for r in rows if (r["Period"] <= limit if last else r["Period"] >= limit)]
    sliced = _slice(rows, entity.dimensions, last)
    condition = params.get("Condition")
    if condition is None or not condition.value:
        return sliced
    node = parse_filter(str(condition.value))

    def resolve(row: Row, path: tuple[str, ...]) -> Any:
        return wire.typed(entity, row, path)

    return [row for row in sliced if matches(node, row, resolve)]


def _slice(rows: list[Row], dimensions: tuple[str, ...], last: bool) -> list[Row]:
    chosen: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        key = tuple(row[d] for d in dimensions)
        held = chosen.get(key)
        if held is None or (
            row["Period"] > held["Period"] if last else row["Period"] < held["Period"]
        ):
            chosen[key] = row
    return list(chosen.values())
