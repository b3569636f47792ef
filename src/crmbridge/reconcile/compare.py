"""The comparison itself: plain records in, discrepancies out; no I/O.

A `Pair` is one business record as the two systems hold it: what the owner's record, mapped
through the config's mapping, says the other side should hold (`expected`), and what the other
side holds (`actual`). `expected` None means the owner has no such record (an orphan on the other
side); `actual` None means the other side lacks it (missing). Every mirrored field that differs
is one `Discrepancy` naming the entity, the field, the owner's value and the stale side's value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Side = Literal["crm", "bas"]
Kind = Literal["differs", "missing", "orphan"]
ENTITIES = ("clients", "products", "prices", "invoices")
Split = Callable[[str, "str | None"], "str | None"]


@dataclass(frozen=True)
class Pair:
    entity: str  # clients | products | invoices
    key: str  # what a person recognises: tax code, product code, invoice number
    owner: Side
    crm_id: str | None
    bas_ref: str | None
    expected: Mapping[str, Any] | None
    actual: Mapping[str, Any] | None
    label: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)  # what fix.py needs to re-push


@dataclass(frozen=True)
class Discrepancy:
    entity: str
    kind: Kind
    key: str
    label: str
    owner: Side
    crm_id: str | None
    bas_ref: str | None
    field: str | None
    owner_value: Any
    stale_value: Any

    @property
    def stale(self) -> Side:
        return "bas" if self.owner == "crm" else "crm"

    def json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "field": self.field,
            "owner": self.owner,
            "owner_value": _plain(self.owner_value),
            "stale_side": self.stale,
            "stale_value": _plain(self.stale_value),
            "crm_id": self.crm_id,
            "bas_ref": self.bas_ref,
        }


def splitter(wanted: set[str], price_fields: set[str]) -> Split:
    """Which reported entity a field belongs to, None when not asked for: a product field
    computed from the price is `prices`, the other product fields `products`; a missing or
    orphan product (field None) is `products`, or `prices` when only prices are asked for."""

    def split(entity: str, name: str | None) -> str | None:
        if entity != "products":
            return entity if entity in wanted else None
        if name is None:
            return next((e for e in ("products", "prices") if e in wanted), None)
        shown = "prices" if name in price_fields else "products"
        return shown if shown in wanted else None

    return split


def compare(pairs: Iterable[Pair], split: Split | None = None) -> list[Discrepancy]:
    """Discrepancies of every pair. `split(entity, field)` names the reported entity of a field
    (e.g. a product's PRICE is reported under `prices`), or None to leave the field out."""
    found: list[Discrepancy] = []
    for pair in pairs:
        found += _of_pair(pair, split or (lambda entity, _field: entity))
    return found


def _of_pair(pair: Pair, split: Split) -> list[Discrepancy]:
    def one(kind: Kind, entity: str, name: str | None, owner: Any, stale: Any) -> Discrepancy:
        return Discrepancy(
            entity, kind, pair.key, pair.label, pair.owner, pair.crm_id, pair.bas_ref, name,
            owner, stale,
        )  # fmt: skip

    whole = split(pair.entity, None)
    if pair.expected is None:
        return [one("orphan", whole, None, None, _summary(pair.actual))] if whole else []
    if pair.actual is None:
        return [one("missing", whole, None, _summary(pair.expected), None)] if whole else []
    found = []
    for name, value in pair.expected.items():
        entity = split(pair.entity, name)
        if entity is not None and not same(value, pair.actual.get(name)):
            found.append(one("differs", entity, name, value, pair.actual.get(name)))
    return found


def same(owner: Any, stale: Any) -> bool:
    """Equal as mirrored values: empty equals empty; a number equals its text ("189.00" is 189.0);
    anything else compares as text."""
    if _empty(owner) or _empty(stale):
        return _empty(owner) and _empty(stale)
    if _is_number(owner) or _is_number(stale):
        a, b = _decimal(owner), _decimal(stale)
        if a is not None and b is not None:
            return a == b
    return str(owner) == str(stale)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _summary(record: Mapping[str, Any] | None) -> Any:
    return None if record is None else {k: _plain(v) for k, v in record.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Summary:
    compared: dict[str, int]  # records compared per entity
    discrepancies: list[Discrepancy]
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        out = {e: {"compared": n, "differs": 0, "missing": 0, "orphan": 0} for e, n in
               self.compared.items()}  # fmt: skip
        for d in self.discrepancies:
            out.setdefault(d.entity, {"compared": 0, "differs": 0, "missing": 0, "orphan": 0})
            out[d.entity][d.kind] += 1
        return out

    def json(self) -> dict[str, Any]:
        return {
            "clean": not self.discrepancies,
            "counts": self.counts(),
            "discrepancies": [d.json() for d in self.discrepancies],
            "notes": self.notes,
        }
