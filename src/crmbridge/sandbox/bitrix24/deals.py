"""Deal-specific methods: product rows, the funnels (funnels.py) and their stages."""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24 import crm, funnels, records
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.query import list_query
from crmbridge.sandbox.bitrix24.wire import RestError, iso, not_found, param, to_int

_DEAL_TYPES = (("SALE", "Продаж"), ("GOODS", "Продаж товару"), ("SERVICES", "Сервіс"))
_PROCESS_COLORS = ("#39A8EF", "#2FC6F6", "#55D0E0", "#47E4C2", "#FFA900")
_COLORS = {"success": "#7BD500", "failure": "#FF5752"}


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


def _directory() -> list[dict[str, Any]]:
    """`crm.status.list` items: the default funnel's stages, the deal types, then the stages of
    the other funnels (ids in that order, so the first two keep the ids they always had)."""
    items = _stage_items(funnels.BY_ID[0], 1)
    for n, (code, name) in enumerate(_DEAL_TYPES):
        items.append(
            {
                "ID": str(len(items) + 1),
                "ENTITY_ID": "DEAL_TYPE",
                "STATUS_ID": code,
                "NAME": name,
                "NAME_INIT": name,
                "SORT": str((n + 1) * 10),
                "SYSTEM": "Y",
            }
        )
    for funnel in funnels.FUNNELS[1:]:
        items += _stage_items(funnel, len(items) + 1)
    return items


def _stage_items(funnel: funnels.Funnel, first_id: int) -> list[dict[str, Any]]:
    """Shape of `crm/status/crm-status-list.md`: NAME_INIT only for system stages."""
    items = []
    for n, (code, name, semantics) in enumerate(funnel.stages):
        color = _COLORS.get(semantics) or _PROCESS_COLORS[n % len(_PROCESS_COLORS)]
        system = funnels.code(code) in funnels.SYSTEM_CODES
        items.append(
            {
                "ID": str(first_id + n),
                "ENTITY_ID": funnel.entity_id,
                "STATUS_ID": code,
                "NAME": name,
                "NAME_INIT": name if system else "",
                "SORT": str((n + 1) * 10),
                "SYSTEM": "Y" if system else "N",
                "CATEGORY_ID": str(funnel.id) if funnel.id else None,
                "COLOR": color,
                "SEMANTICS": {"process": None, "success": "S", "failure": "F"}[semantics],
                "EXTRA": {"SEMANTICS": semantics, "COLOR": color},
            }
        )
    return items


def status_list(ctx: Context, params: dict[str, Any]) -> Reply:
    query = dict(params)
    query.setdefault("order", {"SORT": "ASC"})
    found = list_query(_directory(), query)
    return Reply(found.items, found.total, found.next)


def category_list(ctx: Context, params: dict[str, Any]) -> Reply:
    """Shape of `leshchenko1979/fast_bitrix24:tests/real_responses/crm_category_list.py`: the
    default funnel without `originId`/`originatorId`, the others with them empty."""
    if to_int(param(params, "entityTypeId")) != 2:
        raise RestError("NOT_FOUND", "Smart process not found")  # only deals have funnels here
    found = []
    for funnel in sorted(funnels.FUNNELS, key=lambda f: (f.sort, f.id)):
        entry: dict[str, Any] = {"id": funnel.id, "name": funnel.name, "sort": funnel.sort}
        entry.update(entityTypeId=2, isDefault="Y" if funnel.id == 0 else "N")
        if funnel.id:
            entry.update(originId="", originatorId="")
        found.append(entry)
    return Reply({"categories": found}, total=len(found))


def dealcategory_stage_list(ctx: Context, params: dict[str, Any]) -> Reply:
    """The older `crm.dealcategory.stage.list {id}`: no id or 0 is the default funnel, an unknown
    one "returns nothing" (`crm/outdated/category-old/crm-deal-category-stage-list.md`; `[]`
    assumed); items as recorded in `fast_bitrix24:tests/real_responses/crm_dealcategory_*`."""
    raw = param(params, "id")
    funnel = funnels.BY_ID.get(0 if raw in (None, "") else to_int(raw) or 0)
    if funnel is None:
        return Reply([])
    return Reply(
        [
            {"NAME": name, "SORT": (n + 1) * 10, "STATUS_ID": code}
            for n, (code, name, _semantics) in enumerate(funnel.stages)
        ]
    )


def methods() -> dict[str, Handler]:
    return {
        "crm.deal.productrows.get": productrows_get,
        "crm.deal.productrows.set": productrows_set,
        "crm.status.list": status_list,
        "crm.category.list": category_list,
        "crm.dealcategory.stage.list": dealcategory_stage_list,
    }
