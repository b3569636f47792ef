"""`tasks.task.{add,list,get}` and `user.get`.

Tasks answer in camelCase with string scalars wrapped in `{"task": ...}` / `{"tasks": [...]}`
(`leshchenko1979/fast_bitrix24:tests/real_responses/single_add.py`, `get_all_tasks.py`); filters
and `select` still use UPPER_CASE names. Tasks are stored UPPER_CASE and renamed on the way out.
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply
from crmbridge.sandbox.bitrix24.query import list_query
from crmbridge.sandbox.bitrix24.wire import RestError, as_wire, iso, param, to_int

_CAMEL = {
    "ID": "id",
    "TITLE": "title",
    "DESCRIPTION": "description",
    "PRIORITY": "priority",
    "STATUS": "status",
    "SUB_STATUS": "subStatus",
    "RESPONSIBLE_ID": "responsibleId",
    "CREATED_BY": "createdBy",
    "CREATED_DATE": "createdDate",
    "CHANGED_DATE": "changedDate",
    "DEADLINE": "deadline",
    "GROUP_ID": "groupId",
    "UF_CRM_TASK": "ufCrmTask",
    "UF_TASK_WEBDAV_FILES": "ufTaskWebdavFiles",
}
_WRITABLE = ("TITLE", "DESCRIPTION", "PRIORITY", "RESPONSIBLE_ID", "CREATED_BY", "DEADLINE")
_WRITABLE_LISTS = ("UF_CRM_TASK", "UF_TASK_WEBDAV_FILES")


def _camel(record: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    """The task as the portal answers it: all of it after an add (the recorded answer carries
    ufCrmTask); on a read, the fields `select` names, or with no select or "*" every standard
    field, user fields (UF_CRM_TASK…) only when named (tasks.task.get: "user fields and the CRM
    binding UF_CRM_TASK must be named in SELECT")."""
    wanted = {s.upper() for s in select or []}
    every = not wanted or "*" in wanted
    if select is None:
        wanted = set(record)
    out = {
        _CAMEL[k]: v
        for k, v in record.items()
        if k == "ID" or k in wanted or (every and not k.startswith("UF_"))
    }
    out["group"] = []  # the portal adds the group object (empty without a group)
    return out


def add(ctx: Context, params: dict[str, Any]) -> Reply:
    fields = param(params, "fields")
    if not isinstance(fields, dict):
        raise RestError("ERROR_CORE", "Wrong fields")  # [assumption] wording
    fields = {str(k).upper(): v for k, v in fields.items()}
    if not str(fields.get("TITLE") or "").strip():
        raise RestError("ERROR_CORE", "Не вказано назву завдання<br>")  # [assumption] wording
    tid = ctx.portal.next_id("task")
    now = iso(ctx.clock.now())
    record: dict[str, Any] = {
        "ID": str(tid),
        "PRIORITY": "1",
        "STATUS": "2",
        "SUB_STATUS": "-1",
        "RESPONSIBLE_ID": str(ctx.user_id),
        "CREATED_BY": str(ctx.user_id),
        "CREATED_DATE": now,
        "CHANGED_DATE": now,
        "DEADLINE": None,
        "GROUP_ID": "0",
        "DESCRIPTION": "",
        "UF_CRM_TASK": False,  # the portal prints an empty multiple field as false
        "UF_TASK_WEBDAV_FILES": False,
    }
    record.update({k: as_wire(fields[k]) for k in _WRITABLE if k in fields})
    for name in _WRITABLE_LISTS:
        value = fields.get(name)
        items = list(value.values()) if isinstance(value, dict) else value
        if isinstance(items, list) and items:
            record[name] = [str(v) for v in items]
    ctx.portal.table("task")[tid] = record
    return Reply({"task": _camel(record)})


def get(ctx: Context, params: dict[str, Any]) -> Reply:
    tid = to_int(param(params, "taskId"))
    record = ctx.portal.table("task").get(tid or 0)
    if record is None:
        raise RestError("ERROR_CORE", "Задачу не знайдено або доступ заборонено")  # [assumption]
    return Reply({"task": _camel(record, param(params, "select") or [])})


def list_(ctx: Context, params: dict[str, Any]) -> Reply:
    select = param(params, "select")
    query = {k: v for k, v in params.items() if k.lower() != "select"}
    found = list_query(ctx.portal.table("task").values(), query)
    items = [_camel(r, select if isinstance(select, list) else []) for r in found.items]
    return Reply({"tasks": items}, found.total, found.next)


def user_get(ctx: Context, params: dict[str, Any]) -> Reply:
    """Users by `ID` or a `FILTER`; unlike CRM, `ACTIVE` is a boolean here."""
    flt = dict(param(params, "filter") or {})
    for key in ("ID", "EMAIL", "ACTIVE"):
        if key in params:
            flt[key] = params[key]
    if "ACTIVE" in flt:
        flt["ACTIVE"] = str(flt["ACTIVE"]).lower() in ("true", "y", "1")
    users = [u for u in ctx.portal.table("user").values() if _user_matches(u, flt)]
    found = list_query(users, {"start": param(params, "start")})
    return Reply(found.items, found.total, found.next)


def _user_matches(user: dict[str, Any], flt: dict[str, Any]) -> bool:
    for key, value in flt.items():
        name = str(key).upper().lstrip("=")
        if name == "ACTIVE":
            if user["ACTIVE"] != value:
                return False
        elif str(user.get(name)) != str(value):
            return False
    return True


def methods() -> dict[str, Handler]:
    return {
        "tasks.task.add": add,
        "tasks.task.get": get,
        "tasks.task.list": list_,
        "user.get": user_get,
    }
