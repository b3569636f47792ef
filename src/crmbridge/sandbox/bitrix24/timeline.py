"""`crm.timeline.comment.{add,list,get}`: comments in a CRM item's feed, with attached files.

Since crm 23.100.0 `add` reads only lowercase `fields`
(`bitrix24/b24restdocs:api-reference/crm/timeline/comments/crm-timeline-comment-add.md`);
`FILES` is always a list of `[name, base64]` pairs. Read-back shape: `crm-timeline-comment-get.md`.
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24 import files
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.query import list_query
from crmbridge.sandbox.bitrix24.wire import RestError, iso, param, to_int

_ENTITY_TABLES = {"deal": "deal", "company": "company", "contact": "contact"}


def _not_found() -> RestError:
    return RestError("NOT_FOUND", "Not found.")


def add(ctx: Context, params: dict[str, Any]) -> Reply:
    fields = params.get("fields")
    if not isinstance(fields, dict):
        raise RestError("", "Parameter 'fields' must be array.")  # [assumption] for `FIELDS`
    entity_type = str(fields.get("ENTITY_TYPE", "")).lower()
    entity_id = to_int(fields.get("ENTITY_ID"))
    table = _ENTITY_TABLES.get(entity_type)
    if table is None or entity_id is None or entity_id not in ctx.portal.table(table):
        raise _not_found()
    comment = str(fields.get("COMMENT") or "")
    if not comment:
        raise RestError("", "COMMENT is not defined or invalid.")  # [assumption] wording
    cid = ctx.portal.next_id("comment")
    owner = f"comment:{cid}"
    stored = [files.store(ctx.portal, str(p[0]), str(p[1]), owner) for p in _pairs(fields)]
    ctx.portal.table("comment")[cid] = {
        "ID": str(cid),
        "ENTITY_ID": str(entity_id),
        "ENTITY_TYPE": entity_type,
        "CREATED": iso(ctx.clock.now()),
        "COMMENT": comment,
        "AUTHOR_ID": str(to_int(fields.get("AUTHOR_ID")) or ctx.user_id),
        "FILE_IDS": [f for f in stored if f is not None],
    }
    return Reply(cid)


def _pairs(fields: dict[str, Any]) -> list[list[Any]]:
    value = fields.get("FILES") or []
    items = list(value.values()) if isinstance(value, dict) else value
    return [p for p in items if isinstance(p, list) and len(p) >= 2]


def _present(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "FILE_IDS"}
    if record["FILE_IDS"]:
        author = ctx.portal.table("user").get(int(record["AUTHOR_ID"]))
        meta = {
            "date": record["CREATED"],
            "author_id": int(record["AUTHOR_ID"]),
            "author_name": f"{author['NAME']} {author['LAST_NAME']}" if author else "",
        }
        out["FILES"] = files.render_attachments(ctx.portal, ctx.urls, record["FILE_IDS"], meta)
    return out


def get(ctx: Context, params: dict[str, Any]) -> Reply:
    cid = to_int(param(params, "id"))
    if cid is None or cid <= 0:
        raise RestError("", "ID is not defined or invalid.")
    record = ctx.portal.table("comment").get(cid)
    if record is None:
        raise RestError("", "Not found.")
    return Reply(_present(ctx, record))


def list_(ctx: Context, params: dict[str, Any]) -> Reply:
    rows = [_present(ctx, r) for r in ctx.portal.table("comment").values()]
    found = list_query(rows, params)
    return Reply(found.items, found.total, found.next)


def methods() -> dict[str, Handler]:
    return {
        "crm.timeline.comment.add": add,
        "crm.timeline.comment.get": get,
        "crm.timeline.comment.list": list_,
    }
