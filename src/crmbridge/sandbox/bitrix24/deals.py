"""Deal-specific methods: product rows, the funnel and its stages."""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24 import crm, records
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.query import list_query
from crmbridge.sandbox.bitrix24.wire import RestError, iso, not_found, param, to_int
from crmbridge.sandbox.seed import DEAL_STAGES

_DEAL_TYPES = (("SALE", "Продаж"), ("GOODS", "Продаж товару"), ("SERVICES", "Сервіс"))
_COLORS = ("#39A8EF", "#2FC6F6", "#55D0E0", "#47E4C2", "#FFA900", "#7BD500", "#FF5752")


def _deal(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    did = to_int(param(params, "id"))
    if did is None or did <= 0:
        raise RestError("", "The parameter id is invalid or not defined.")
    record = ctx.portal.table("deal").get(did)
    if record is None:
        raise not_found()
    return record


def productrows_get(ctx: Context, params: dict[str, Any]) -> Reply:
    record = _deal(ctx, params)
    return Reply([dict(r) for r in ctx.portal.rows.get(int(record["ID"]), [])])


def productrows_set(ctx: Context, params: dict[str, Any]) -> Reply:
    """Replaces all rows; the amount follows unless IS_MANUAL_OPPORTUNITY=Y."""
    record = _deal(ctx, params)
    rows = param(params, "rows", [])
    rows = list(rows.values()) if isinstance(rows, dict) else rows
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RestError("", "The parameter rows must be array.")
    did = int(record["ID"])
    ctx.portal.rows[did] = [
        records.product_row(ctx.portal.next_id("row"), did, {k.upper(): v for k, v in r.items()})
        for r in rows
    ]
    if not rows and record["IS_MANUAL_OPPORTUNITY"] != "Y":
        record["OPPORTUNITY"] = "0.00"
    crm.recompute(ctx, record)
    record["DATE_MODIFY"] = iso(ctx.clock.now())
    ctx.events.emit("ONCRMDEALUPDATE", did)
    return Reply(True)


def _stages() -> list[dict[str, Any]]:
    items = []
    for n, (code, name, semantics) in enumerate(DEAL_STAGES):
        sem = {"process": None, "success": "S", "failure": "F"}[semantics]
        items.append(
            {
                "ID": str(n + 1),
                "ENTITY_ID": "DEAL_STAGE",
                "STATUS_ID": code,
                "NAME": name,
                "NAME_INIT": name,
                "SORT": str((n + 1) * 10),
                "SYSTEM": "Y" if code in ("NEW", "WON", "LOSE") else "N",
                "CATEGORY_ID": None,
                "COLOR": _COLORS[n % len(_COLORS)],
                "SEMANTICS": sem,
                "EXTRA": {"SEMANTICS": semantics, "COLOR": _COLORS[n % len(_COLORS)]},
            }
        )
    for n, (code, name) in enumerate(_DEAL_TYPES):
        items.append(
            {
                "ID": str(len(DEAL_STAGES) + n + 1),
                "ENTITY_ID": "DEAL_TYPE",
                "STATUS_ID": code,
                "NAME": name,
                "NAME_INIT": name,
                "SORT": str((n + 1) * 10),
                "SYSTEM": "Y",
            }
        )
    return items


def status_list(ctx: Context, params: dict[str, Any]) -> Reply:
    query = dict(params)
    query.setdefault("order", {"SORT": "ASC"})
    found = list_query(_stages(), query)
    return Reply(found.items, found.total, found.next)


def category_list(ctx: Context, params: dict[str, Any]) -> Reply:
    """Shape of `leshchenko1979/fast_bitrix24:tests/real_responses/crm_category_list.py`."""
    if to_int(param(params, "entityTypeId")) != 2:
        raise RestError("NOT_FOUND", "Smart process not found")  # only deals have funnels here
    funnel = {"id": 0, "name": "Загальна", "sort": 100, "entityTypeId": 2, "isDefault": "Y"}
    return Reply({"categories": [funnel]}, total=1)


def methods() -> dict[str, Handler]:
    return {
        "crm.deal.productrows.get": productrows_get,
        "crm.deal.productrows.set": productrows_set,
        "crm.status.list": status_list,
        "crm.category.list": category_list,
    }
