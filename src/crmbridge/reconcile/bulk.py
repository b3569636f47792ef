"""Reading whole lists from both systems, fast: Bitrix24 lists by `batch`, BAS sets by big pages.

Bitrix24: one `*.list` call gives the first 50 records and the `total`; the rest are read 50
`start` offsets to a `batch` (2,500 records a request), in ID order, deduplicated by ID: 10,000
products are 1 + 4 requests instead of 200. Offset paging can skip a record deleted during the
read; the callers double-check what looks missing by key before they report it.
BAS: `$top`/`$skip` pages of `PAGE` records ordered by `Ref_Key` (the connector's own walk uses
pages of 100, sized for flows that stop early).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24.batch import MAX_COMMANDS, Command, chunks
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.bitrix24.wire import PAGE_SIZE
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.query import Query

PAGE = 1000  # BAS records per OData request


def crm_list(
    rest: RestClient,
    method: str,
    *,
    select: Sequence[str] = ("*",),
    filters: Mapping[str, Any] | None = None,
) -> list[Record]:
    """Every record a `*.list` method returns for the filter, in ID order."""
    params: dict[str, Any] = {
        "filter": dict(filters or {}),
        "select": list(select),
        "order": {"ID": "ASC"},
    }
    first = rest.call(method, {**params, "start": 0})
    rows: dict[str, Record] = {str(r["ID"]): r for r in _rows(first.result)}
    total = first.total if first.total is not None else len(rows)
    commands = {
        f"s{start}": Command(method, {**params, "start": start})
        for start in range(PAGE_SIZE, total, PAGE_SIZE)
    }
    for part in chunks(commands, MAX_COMMANDS):
        answer = rest.batch(part)
        if answer.errors:
            raise next(iter(answer.errors.values()))
        for name in part:
            rows.update({str(r["ID"]): r for r in _rows(answer.results.get(name))})
    return sorted(rows.values(), key=lambda r: int(r["ID"]))


def _rows(result: Any) -> list[Record]:
    return [dict(r) for r in result] if isinstance(result, list) else []


def bas_all(
    bas: BasConnector, entity_set: str, *, select: tuple[str, ...] = (), where: str | None = None
) -> Iterator[Record]:
    """Every record of a set (Ref_Key order, deduplicated), in pages of `PAGE`."""
    found = Query(filter=where, select=select, orderby=("Ref_Key",))
    seen: set[str] = set()
    for page in bas.client.pages(entity_set, found, PAGE):
        for record in page:
            key = str(record.get("Ref_Key"))
            if key not in seen:
                seen.add(key)
                yield record


def rows_of(
    bas: BasConnector, entity_set: str, *, select: tuple[str, ...] = ()
) -> Iterator[Record]:
    """Every row of a tabular-section set (ordered by owner and line, not deduplicated)."""
    found = Query(select=select, orderby=("Ref_Key", "LineNumber"))
    for page in bas.client.pages(entity_set, found, PAGE):
        yield from page
