"""Legacy per-entity CRM methods: `crm.<entity>.{get,list,add,update,fields}`.

Each entity is a declaration (`Kind`, its fields in `fields.py`); the verbs are shared. As on the
portal, unknown and read-only fields in `fields` are silently ignored, scalars are stored as
strings, and lookups fail with an empty error code and HTTP 400.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import pairwise
from typing import Any

from crmbridge.sandbox.bitrix24 import fields as declared
from crmbridge.sandbox.bitrix24 import funnels, records, userfields
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.query import list_query
from crmbridge.sandbox.bitrix24.wire import (
    RestError,
    as_wire,
    iso,
    money,
    not_found,
    param,
    to_decimal,
    to_int,
)

Validator = Callable[[Context, dict[str, Any]], None]


@dataclass(frozen=True)
class Kind:
    """A record kind. Fields its description calls read-only are never written, immutable ones
    only by `add` (`crm/data-types.md#crm_rest_field_description`); `extra_read_only` are fields
    the emulator derives itself (a deal's `CLOSED` follows its stage)."""

    name: str  # table and method infix: deal → crm.deal.*
    new: Callable[[int, datetime], dict[str, Any]]
    events: bool = True  # fires ONCRM<NAME>ADD / ONCRM<NAME>UPDATE
    validate_add: Validator | None = None
    extra_read_only: frozenset[str] = field(default_factory=frozenset)
    user_entity: str | None = None  # whose user fields (userfields.py) its records carry

    @property
    def read_only(self) -> frozenset[str]:
        return declared.read_only(self.name) | self.extra_read_only

    @property
    def fixed_after_add(self) -> frozenset[str]:
        return self.read_only | declared.immutable(self.name)


def _present(ctx: Context, kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
    return userfields.present(ctx.portal, ctx.urls, kind.user_entity, record)


def _entity_id(params: dict[str, Any]) -> int:
    eid = to_int(param(params, "id"))
    if eid is None or eid <= 0:
        raise RestError("", "ID is not defined or invalid.")
    return eid


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    value = param(params, "fields")
    if not isinstance(value, dict):
        raise RestError("", "Parameter 'fields' must be array.")
    return value


def _record(ctx: Context, kind: Kind, eid: int) -> dict[str, Any]:
    record = ctx.portal.table(kind.name).get(eid)
    if record is None:
        raise not_found()
    return record


def get(kind: Kind, ctx: Context, params: dict[str, Any]) -> Reply:
    return Reply(_present(ctx, kind, _record(ctx, kind, _entity_id(params))))


def list_(kind: Kind, ctx: Context, params: dict[str, Any]) -> Reply:
    # Filters see the stored record (a deal's file fields are rendered only for the page).
    table = ctx.portal.table(kind.name)
    found = list_query(
        table.values(),
        params,
        present=lambda r: _present(ctx, kind, r),
        in_id_order=all(a < b for a, b in pairwise(table)),  # filled in ID order: no sort
    )
    return Reply(found.items, found.total, found.next)


def add(kind: Kind, ctx: Context, params: dict[str, Any]) -> Reply:
    fields = _fields(params)
    if kind.validate_add is not None:
        kind.validate_add(ctx, fields)
    eid = ctx.portal.next_id(kind.name)
    record = kind.new(eid, ctx.clock.now())
    record.update(userfields.blank(ctx.portal, kind.user_entity))
    _apply(ctx, kind, record, fields, kind.read_only)
    ctx.portal.table(kind.name)[eid] = record
    if kind.events:
        ctx.events.emit(f"ONCRM{kind.name.upper()}ADD", eid)
    return Reply(eid)


def update(kind: Kind, ctx: Context, params: dict[str, Any]) -> Reply:
    eid = _entity_id(params)
    record = _record(ctx, kind, eid)
    _apply(ctx, kind, record, _fields(params), kind.fixed_after_add)
    stamp = "TIMESTAMP_X" if kind.name == "product" else "DATE_MODIFY"
    record[stamp] = iso(ctx.clock.now())
    if kind.events:
        ctx.events.emit(f"ONCRM{kind.name.upper()}UPDATE", eid)
    return Reply(True)


def describe(kind: Kind, ctx: Context, params: dict[str, Any]) -> Reply:
    described = declared.describe(kind.name)
    return Reply({**described, **userfields.describe(ctx.portal, kind.user_entity)})


def _apply(
    ctx: Context,
    kind: Kind,
    record: dict[str, Any],
    fields: dict[str, Any],
    skipped: frozenset[str],
) -> None:
    custom = userfields.by_name(ctx.portal, kind.user_entity) if kind.user_entity else {}
    # The funnel first: it decides which STAGE_ID the deal can take.
    for key, value in sorted(fields.items(), key=lambda kv: str(kv[0]).upper() != "CATEGORY_ID"):
        name = str(key).upper()
        if name not in record or name in skipped:
            continue  # unknown fields are ignored, as the portal does
        if name in custom:
            owner = f"{kind.name}:{record['ID']}"
            record[name] = userfields.value(ctx.portal, custom[name], record[name], value, owner)
        elif name in ("PHONE", "EMAIL"):
            record[name] = _multifield(ctx, name, record[name], value)
            record[f"HAS_{name}"] = "Y" if record[name] else "N"
        elif name == "CATEGORY_ID":
            _enter(record, value)
        elif name == "STAGE_ID":
            _move(ctx, record, str(value))
        elif name in ("OPPORTUNITY", "PRICE", "REVENUE"):
            record[name] = money(to_decimal(value))
        else:
            record[name] = as_wire(value)
    if kind.name == "deal":
        recompute(ctx, record)


def _enter(record: dict[str, Any], value: Any) -> None:
    """A new deal's funnel (`crm-deal-add.md`: CATEGORY_ID, then "the first available stage
    relative to the funnel"); an unknown funnel leaves it in the default one [assumption]."""
    funnel = funnels.BY_ID.get(to_int(value) or 0)
    if funnel is not None:
        record["CATEGORY_ID"] = str(funnel.id)
        records.apply_stage(record, funnel.first_stage)


def _move(ctx: Context, record: dict[str, Any], stage: str) -> None:
    """Only a stage of the deal's own funnel is taken (`crm-deal-update.md`: its stages are
    `DEAL_STAGE_<CATEGORY_ID>`); another funnel's or an unknown one leaves the deal where it is,
    as the portal ignores fields it cannot use [assumption: no public answer shows this case]."""
    if funnels.CATEGORY.get(stage) != int(record["CATEGORY_ID"]) or stage == record["STAGE_ID"]:
        return
    records.apply_stage(record, stage)
    record["MOVED_TIME"] = iso(ctx.clock.now())
    record["MOVED_BY_ID"] = str(ctx.user_id)


def recompute(ctx: Context, record: dict[str, Any]) -> None:
    """OPPORTUNITY follows the product rows unless the amount is manual."""
    rows = ctx.portal.rows.get(int(record["ID"]))
    if rows and record["IS_MANUAL_OPPORTUNITY"] != "Y":
        record["OPPORTUNITY"] = records.rows_total(rows)


def _multifield(ctx: Context, type_id: str, current: list[Any], value: Any) -> list[Any]:
    entries = list(value.values()) if isinstance(value, dict) else value
    result = [dict(e) for e in current]
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        existing = next((e for e in result if e["ID"] == str(entry.get("ID"))), None)
        if existing is not None:
            existing["VALUE"] = str(entry.get("VALUE", existing["VALUE"]))
        elif entry.get("VALUE"):
            mid = ctx.portal.next_id("multifield")
            item = records.multifield(mid, type_id, str(entry["VALUE"]))
            item["VALUE_TYPE"] = str(entry.get("VALUE_TYPE", "WORK"))
            result.append(item)
    return [e for e in result if e["VALUE"]]  # an empty VALUE deletes the entry [unverified]


def _check_requisite(ctx: Context, fields: dict[str, Any]) -> None:
    """The documented errors of `crm.requisite.add` (`crm-requisite-add.md`)."""
    type_id = to_int(param(fields, "ENTITY_TYPE_ID"))
    if type_id not in (3, 4):
        raise RestError("", "ENTITY_TYPE_ID is not defined or invalid.")
    entity_id = to_int(param(fields, "ENTITY_ID"))
    if entity_id is None or entity_id <= 0:
        raise RestError("", "ENTITY_ID is not defined or invalid.")
    preset = to_int(param(fields, "PRESET_ID"))
    if preset is None or preset <= 0:
        raise RestError("", "PRESET_ID is not defined or invalid.")
    table = "company" if type_id == 4 else "contact"
    if entity_id not in ctx.portal.table(table):
        raise RestError("", "Entity not found.")


KINDS = (
    # A deal's funnel is set by add and cannot change through crm.deal.update (CATEGORY_ID is
    # immutable; crm-deal-update.md sends that to crm.item.update).
    Kind(
        "deal",
        records.new_deal,
        extra_read_only=frozenset({"CLOSED"}),
        user_entity=userfields.DEAL,
    ),
    Kind("company", records.new_company),
    Kind("contact", lambda cid, now: records.contact(cid, "", "", 0, 1, now)),
    Kind("requisite", records.new_requisite, validate_add=_check_requisite),
    Kind("product", records.new_product),
)
_VERBS: dict[str, Callable[[Kind, Context, dict[str, Any]], Reply]] = {
    "get": get,
    "list": list_,
    "add": add,
    "update": update,
    "fields": describe,
}
_OFFERED = {
    "deal": ("get", "list", "add", "update", "fields"),
    "company": ("get", "list", "add", "update", "fields"),
    "contact": ("get", "list", "fields"),
    "requisite": ("get", "list", "add", "update", "fields"),
    "product": ("get", "list", "add", "update", "fields"),
}


def methods() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for kind in KINDS:
        for verb in _OFFERED[kind.name]:
            table[f"crm.{kind.name}.{verb}"] = partial(_VERBS[verb], kind)
    return table
