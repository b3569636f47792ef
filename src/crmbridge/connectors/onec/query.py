"""Query options for one OData read, built from plain values (reference §1.7).

A `Query` is a value: `with_page()` gives the next page's query. Filters are built from small
helpers that emit literals through `literals`, never by pasting user text into `$filter`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

from crmbridge.connectors.onec import literals


def eq(field: str, value: object) -> str:
    return f"{field} eq {literals.literal(value)}"


def ref_eq(field: str, ref: str) -> str:
    """`Контрагент_Key eq guid'…'` for a reference field."""
    return f"{field} eq {literals.guid(ref)}"


def composite_eq(field: str, ref: str, entity_set: str) -> str:
    """A composite attribute compared with a typed reference: a plain `eq guid'…'` on a
    composite field always matches nothing in 1C (reference §1.7), only `cast` works."""
    return f"{field} eq cast({literals.guid(ref)}, {literals.string(entity_set)})"


def all_of(*conditions: str | None) -> str | None:
    parts = [c for c in conditions if c]
    if not parts:
        return None
    return " and ".join(f"({c})" if " or " in c else c for c in parts)


# Characters of `$filter` as sent (percent-encoded: a Cyrillic letter is 6) that an `or` group
# may take: IIS refuses a query string over 2,048 bytes by default and 1C answers over-long URLs
# with 404 (reference §1.13), and $select and paging need the rest.
FILTER_BUDGET = 1500


def or_groups(keys: Sequence[str], condition: Callable[[str], str]) -> Iterator[list[str]]:
    """`keys` in groups whose `condition`s joined with `or` stay within FILTER_BUDGET once
    encoded; one key per group at least."""
    group: list[str] = []
    size = 0
    for key in keys:
        cost = len(quote(condition(key), safe="")) + len(" or ")
        if group and size + cost > FILTER_BUDGET:
            yield group
            group, size = [], 0
        group.append(key)
        size += cost
    if group:
        yield group


def any_of(keys: Sequence[str], condition: Callable[[str], str]) -> str:
    return " or ".join(
        f"({condition(k)})" if " and " in condition(k) else condition(k) for k in keys
    )


def matching(fields: Mapping[str, object]) -> str | None:
    """Equality on every given field; `*_Key` values are references (GUID literals)."""
    return all_of(
        *(ref_eq(k, str(v)) if k.endswith("_Key") else eq(k, v) for k, v in fields.items())
    )


@dataclass(frozen=True)
class Query:
    filter: str | None = None
    select: Sequence[str] = ()
    orderby: Sequence[str] = ()
    top: int | None = None
    skip: int = 0

    def with_page(self, skip: int, top: int) -> Query:
        return replace(self, skip=skip, top=top)

    def params(self) -> dict[str, str]:
        params = {"$format": "json"}
        if self.filter:
            params["$filter"] = self.filter
        if self.select:
            params["$select"] = ",".join(self.select)
        if self.orderby:
            params["$orderby"] = ",".join(self.orderby)
        if self.top is not None:
            params["$top"] = str(self.top)
        if self.skip:
            params["$skip"] = str(self.skip)
        return params
