"""Reconciliation: compare both systems on every mirrored field; optionally re-push from the owner.

`run(ctx, entities)` reads (read.py, bulk.py), compares (compare.py) and returns a `Result`;
`fix=True` re-pushes what differs or is missing (fix.py). Entities: clients, products, prices
(the product fields computed from the price), invoices (the deal fields BAS owns).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from crmbridge import correlation
from crmbridge.errors import ConfigError
from crmbridge.flows.context import FlowContext
from crmbridge.reconcile import read
from crmbridge.reconcile.compare import ENTITIES, Pair, Split, Summary, compare, splitter
from crmbridge.reconcile.fix import FLOW, Fixed, fix

__all__ = ["ENTITIES", "Result", "parse_entities", "run"]


@dataclass(frozen=True)
class Result:
    summary: Summary
    fixed: Fixed | None
    correlation_id: str

    def json(self) -> dict[str, object]:
        body: dict[str, object] = dict(self.summary.json())
        if self.fixed is not None:
            body["fixed"] = {"records": self.fixed.records, "errors": self.fixed.errors}
        body["correlation_id"] = self.correlation_id
        return body


def parse_entities(text: str | None) -> list[str]:
    """`clients,products` → the list; None → all four. Unknown names are a clear error."""
    if text is None or not text.strip():
        return list(ENTITIES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENTITIES]
    if unknown:
        raise ConfigError(
            f"--entities: unknown {', '.join(unknown)}; choose from {', '.join(ENTITIES)}"
        )
    return list(dict.fromkeys(names))


def run(ctx: FlowContext, entities: Sequence[str], *, fix_stale: bool = False) -> Result:
    call = correlation.CallContext(correlation_id=f"{FLOW}:{uuid.uuid4().hex[:12]}")
    with correlation.bound(call):
        notes: list[str] = []
        reader = read.Reader(ctx, notes)
        pairs, compared, split = _pairs(reader, entities)
        summary = Summary(compared, compare(pairs, split), notes)
        fixed = fix(ctx, pairs, split) if fix_stale else None
    return Result(summary, fixed, call.correlation_id)


def _pairs(
    reader: read.Reader, entities: Sequence[str]
) -> tuple[list[Pair], dict[str, int], Split]:
    wanted = set(entities)
    pairs: list[Pair] = []
    compared: dict[str, int] = {}
    prices: set[str] = set()
    for name in ("clients", "products", "invoices"):
        if name in wanted or (name == "products" and "prices" in wanted):
            found = read.READERS[name](reader)
            pairs += found
            mirrored = sum(1 for p in found if p.expected is not None and p.actual is not None)
            if name == "products":
                prices = _price_fields(reader)
                for shown in wanted & {"products", "prices"}:
                    compared[shown] = mirrored
            else:
                compared[name] = mirrored
    return pairs, compared, splitter(wanted, prices)


def _price_fields(reader: read.Reader) -> set[str]:
    mapping = reader.ctx.rules.mappings.get(reader.ctx.config.flows.mapping_of("catalog"))
    return read.price_fields(mapping) if mapping is not None else set()
