"""Catalog and prices BAS → CRM: products of the catalog, with prices of the configured type.

`sync(full=True)` is the initial load: every product, in chunks of 2,500 (the first 500) that the
Bitrix24 connector packs into batches of 50 commands; it is resumable (the fingerprints written so
far are the cursor) and reading and mapping the next chunk overlaps writing the current one.
`sync(full=False)` is the increment: only products whose mapped values changed since the last
sync are written (a fingerprint per product is kept). Products link CRM id ↔ BAS Ref_Key.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import CatalogItem, DealRow

FLOW = "catalog"
CHUNK = 2500  # one lookup request (50 × 50 keys), then 50 write batches
# The first chunk is small so the portal's first write starts after 5 BAS pages, not 25: while
# the first chunk is read, the rate-limited side (the bound) sits idle.
FIRST_CHUNK = 500
Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Synced:
    seen: int
    written: int
    unchanged: int


def sync(
    ctx: FlowContext,
    *,
    full: bool,
    state: dict[str, Any] | None,
    save: Callable[[dict[str, Any]], None],
    progress: Progress | None = None,
) -> Synced:
    """Run one catalog sync; `state` is the cursor from the last one, `save` stores the new."""
    state = dict(state or {})
    prints: dict[str, str] = dict(state.get("fingerprints") or {})
    # A full sync starts the fingerprints afresh, so when one is interrupted half-way the keys
    # fingerprinted so far are exactly what it had done, and it resumes after them (1C's page
    # order is by presentation, not by key, so a position would not do).
    resuming = full and bool(state.get("full_running"))
    if full and not resuming:
        prints = {}
    done: set[str] = set(prints) if resuming else set()
    # The price register is read while the first products are: both are needed to map a chunk.
    pool = ThreadPoolExecutor(1, thread_name_prefix="catalog-prices")
    prices_read = pool.submit(ctx.accounting.catalog.prices)
    pool.shutdown(wait=False)
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("catalog"))
    # Open deals are repriced only when the mapping gives the CRM a price at all.
    maps_price = any("price" in expr.variables for expr in mapping.fields.values())
    seen = written = 0
    repriced: dict[str, Decimal] = {}  # CRM product id → new price, for open deals' rows

    def mapped(chunk: list[CatalogItem]) -> list[tuple[CatalogItem, dict[str, Any]]]:
        prices = prices_read.result()
        return [
            (
                p,
                ctx.rules.values(
                    mapping, {"product": p.fields, "price": prices.get(p.ref, Decimal(0))}
                ),
            )
            for p in chunk
        ]

    # Reading and mapping the next chunk overlap writing this one (the portal's rate is the
    # bound).
    for chunk, rows in _prefetched((c, mapped(c)) for c in _chunks(ctx, done)):
        changed = [(p, v) for p, v in rows if full or prints.get(p.ref) != _fingerprint(v)]
        if changed:
            ctx.guard("product", "bas", sorted({k for _, v in changed for k in v}))
            ids = ctx.crm.products.upsert([v for _, v in changed])
            ctx.link_many("product", [(i, p.ref) for (p, _), i in zip(changed, ids, strict=True)])
            for (product, values), crm_id in zip(changed, ids, strict=True):
                prints[product.ref] = _fingerprint(values)
                if not full and maps_price:
                    repriced[crm_id] = prices_read.result().get(product.ref, Decimal(0))
        seen, written = seen + len(chunk), written + len(changed)
        state.update(fingerprints=prints, full_running=full)
        save(state)
        if progress:
            progress(len(chunk))
    prices_read.result()  # an empty catalog still reports a missing price type
    state.update(fingerprints=prints, full_running=False)  # every product is fingerprinted now
    save(state)
    if repriced:
        reprice_open_deals(ctx, repriced)
    ctx.decide(
        FLOW,
        "full sync" if full else "increment",
        {"seen": seen},
        {"written": written},
        entity=("catalog", "products"),
    )
    return Synced(seen, written, seen - written)


def reprice_open_deals(ctx: FlowContext, prices: dict[str, Decimal]) -> int:
    """New catalog prices reach the rows of open, not yet invoiced deals; a row with a discount
    the rep gave by hand keeps its price when `keep_manual_discounts` (the default) says so.
    Only increments do this: an initial load sets prices, it does not change them."""
    flow = ctx.config.flows.catalog
    keep = flow.keep_manual_discounts if flow is not None else True
    updated = 0
    for deal in ctx.crm.deals.open():
        if ctx.bas_ref("invoice", deal.id):
            continue  # invoiced: the deal's prices are the invoice's now
        rows = ctx.crm.deals.rows(deal.id)
        changed = [_repriced(ctx, deal.id, row, prices, keep) for row in rows]
        if any(c for _, c in changed):
            ctx.crm.deals.set_rows(deal.id, [row for row, _ in changed])
            updated += 1
    return updated


def _repriced(
    ctx: FlowContext, deal_id: str, row: DealRow, prices: dict[str, Decimal], keep: bool
) -> tuple[DealRow, bool]:
    new = prices.get(row.product_id or "")
    if new is None or row.price == new:
        return row, False
    inputs = {
        "product": row.product_id,
        "row price": str(row.price),
        "catalog price": str(new),
        "discounted": row.discounted,
    }
    if row.discounted and keep:
        ctx.decide(
            FLOW, "keep a manual discount", inputs, "kept", entity=("deal", deal_id), matched=True
        )
        return row, False
    ctx.decide(
        FLOW, "new catalog price on an open deal", inputs, str(new), entity=("deal", deal_id)
    )
    return replace(row, price=new, discounted=False), True


def _chunks(ctx: FlowContext, done: set[str]) -> Iterator[list[CatalogItem]]:
    chunk: list[CatalogItem] = []
    size = FIRST_CHUNK
    for product in ctx.accounting.catalog.items():
        if product.ref in done:
            continue  # done before the interruption
        chunk.append(product)
        if len(chunk) == size:
            yield chunk
            chunk, size = [], CHUNK
    if chunk:
        yield chunk


def _prefetched(chunks: Iterator[T]) -> Iterator[T]:
    """Read the next chunk from BAS while the caller writes the current one to the CRM."""
    ready: queue.Queue[T | BaseException | None] = queue.Queue(maxsize=1)

    def read() -> None:
        try:
            for chunk in chunks:
                ready.put(chunk)
            ready.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            ready.put(exc)

    threading.Thread(target=read, name="catalog-reader", daemon=True).start()
    while (item := ready.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item


def _fingerprint(values: dict[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
