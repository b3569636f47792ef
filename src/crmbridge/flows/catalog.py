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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import objects
from crmbridge.errors import Permanent
from crmbridge.flows.context import FlowContext

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
    prices_read = pool.submit(lambda: objects.prices(ctx.bas, price_type(ctx)))
    pool.shutdown(wait=False)
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("catalog"))
    seen = written = 0
    repriced: dict[str, Decimal] = {}  # CRM product id → new price, for open deals' rows

    def mapped(chunk: list[Record]) -> list[tuple[Record, dict[str, Any]]]:
        prices = prices_read.result()
        return [
            (
                p,
                ctx.rules.values(
                    mapping, {"product": p, "price": prices.get(str(p["Ref_Key"]), Decimal(0))}
                ),
            )
            for p in chunk
        ]

    # Reading and mapping the next chunk overlap writing this one (the portal's rate is the
    # bound).
    for chunk, rows in _prefetched((c, mapped(c)) for c in _chunks(ctx, done)):
        changed = [
            (p, v) for p, v in rows if full or prints.get(str(p["Ref_Key"])) != _fingerprint(v)
        ]
        if changed:
            ctx.guard("product", "bas", sorted({k for _, v in changed for k in v}))
            ids = ctx.crm.upsert_products([v for _, v in changed])
            ctx.link_many(
                "product", [(i, str(p["Ref_Key"])) for (p, _), i in zip(changed, ids, strict=True)]
            )
            for (product, values), crm_id in zip(changed, ids, strict=True):
                prints[str(product["Ref_Key"])] = _fingerprint(values)
                if not full and "PRICE" in values:
                    repriced[crm_id] = Decimal(str(values["PRICE"]))
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


# What crm.deal.productrows.get returns but .set does not take.
_READ_ONLY_ROW = {
    "ID",
    "OWNER_ID",
    "OWNER_TYPE",
    "PRICE_EXCLUSIVE",
    "PRICE_NETTO",
    "PRICE_BRUTTO",
    "PRICE_ACCOUNT",
    "STORE_ID",
    "RESERVE_ID",
    "RESERVE_QUANTITY",
    "TYPE",
}


def reprice_open_deals(ctx: FlowContext, prices: dict[str, Decimal]) -> int:
    """New catalog prices reach the rows of open, not yet invoiced deals; a row with a discount
    the rep gave by hand keeps its price when `keep_manual_discounts` (the default) says so.
    Only increments do this: an initial load sets prices, it does not change them."""
    flow = ctx.config.flows.catalog
    keep = flow.keep_manual_discounts if flow is not None else True
    updated = 0
    for deal in ctx.crm.iterate("deal", {"CLOSED": "N"}):
        deal_id = str(deal["ID"])
        if ctx.bas_ref("invoice", deal_id):
            continue  # invoiced: the deal's prices are the invoice's now
        rows = ctx.crm.deals.rows(deal_id)
        changed = [_repriced(ctx, deal_id, row, prices, keep) for row in rows]
        if any(c for _, c in changed):
            ctx.crm.deals.set_rows(deal_id, [row for row, _ in changed])
            updated += 1
    return updated


def _repriced(
    ctx: FlowContext, deal_id: str, row: Record, prices: dict[str, Decimal], keep: bool
) -> tuple[dict[str, Any], bool]:
    writable = {k: v for k, v in row.items() if k not in _READ_ONLY_ROW}
    new = prices.get(str(row.get("PRODUCT_ID")))
    if new is None or Decimal(str(row.get("PRICE") or 0)) == new:
        return writable, False
    discounted = (
        Decimal(str(row.get("DISCOUNT_RATE") or 0)) != 0
        or Decimal(str(row.get("DISCOUNT_SUM") or 0)) != 0
    )
    inputs = {
        "product": row.get("PRODUCT_ID"),
        "row price": str(row.get("PRICE")),
        "catalog price": str(new),
        "discount": str(row.get("DISCOUNT_RATE")),
    }
    if discounted and keep:
        ctx.decide(
            FLOW, "keep a manual discount", inputs, "kept", entity=("deal", deal_id), matched=True
        )
        return writable, False
    writable.update(PRICE=str(new), DISCOUNT_RATE=0, DISCOUNT_SUM=0)
    ctx.decide(
        FLOW, "new catalog price on an open deal", inputs, str(new), entity=("deal", deal_id)
    )
    return writable, True


def price_type(ctx: FlowContext) -> str:
    name = ctx.config.systems.bas.price_type

    def load() -> str:
        types = [t for t in ctx.bas.iterate("price_type") if not t.get("DeletionMark")]
        chosen = [t for t in types if t.get("Description") == name] if name else types
        if len(chosen) != 1:
            raise Permanent(
                f"BAS has no price type {name!r}"
                if name
                else "set systems.bas.price_type: BAS has several"
            )
        return str(chosen[0]["Ref_Key"])

    return str(ctx.cached("price_type", load))


def _chunks(ctx: FlowContext, done: set[str]) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    size = FIRST_CHUNK
    for product in objects.products(ctx.bas):
        if str(product["Ref_Key"]) in done:
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
