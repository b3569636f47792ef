"""Deal user fields as portal state: `crm.deal.userfield.{add,list,get,update,delete}`.

A user field is a row of the portal's `userfield` table, kept as `crm.deal.userfield.get` prints
it; every deal carries a value for each (`null`, `[]` when multiple), `crm.deal.fields` describes
each, and deleting one removes it from both. The seed's fields are created by `create` like any
other, so a portal without them (`Bitrix24Sandbox(user_fields=False)`) is a new customer's.

Sources, all `bitrix24/b24restdocs` at 5988ed13 under `api-reference/crm/`:
- `deals/user-defined-fields/crm-deal-userfield-add.md`: the name rule (upper-cased; `UF_CRM_`
  kept, `UF_` made `UF_CRM_`, otherwise prefixed), at most 50 characters of `A-Z0-9_`, the types,
  the defaults (`SORT` 100, `MULTIPLE`/`MANDATORY`/`SHOW_IN_LIST` N, `EDIT_IN_LIST` Y, `LABEL`
  filling every label not given, boolean never multiple) and the error table, whose bodies are
  copied; the result is the new id as a JSON number.
- `...-list.md`: filter and order keys, default order `SORT, ID`, labels only with `filter.LANG`,
  `total` without `next`; `...-get.md`: labels as maps keyed by the 21 languages of its example;
  `...-update.md`: what can change (not `FIELD_NAME`, `USER_TYPE_ID`, `MULTIPLE`), labels sent as
  a map blank the languages not sent; `...-delete.md`; the three answer `ERROR_NOT_FOUND`
  "The entity with ID '<id>' is not found." and "ID is not defined or invalid.".
- `requisites/user-fields/crm-requisite-userfield-add.md`: a name in use answers `ERROR_CORE`
  "The field <NAME> for the <ENTITY> object already exists." (that page's example, for
  `CRM_REQUISITE`; the deal page lists no such error — the same core check is assumed).
- `universal/user-defined-fields/userfield-type.md`: an unknown type answers `ERROR_CORE`
  "Invalid user type specified." with HTTP 400 (quoted there from a real answer; the deal page
  words it "Incorrect custom type specified.").
- The types and their default `SETTINGS`: `fields.USER_TYPES`.
- Both missing `USER_TYPE_ID` and `FIELD_NAME` are named in one answer, joined by a newline, and
  `SHOW_FILTER=Y` is stored as `E` (employee fields `I`), as Bitrix's REST module
  (`Bitrix\\Rest\\UserFieldProxy`) does.
Assumed: the portal speaks Ukrainian (`ua`) for the labels of `crm.deal.fields`; a label left
empty there is the field's name; `MANDATORY` is not enforced on deals; no `ONCRMDEALUSERFIELD*`
events; new enumeration items sort at 0 and get an md5 `XML_ID`.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from crmbridge.sandbox.bitrix24 import files
from crmbridge.sandbox.bitrix24.dispatch import Context, Handler, Reply, Urls
from crmbridge.sandbox.bitrix24.fields import CRM_LINKS, USER_TYPES
from crmbridge.sandbox.bitrix24.query import matcher, sort
from crmbridge.sandbox.bitrix24.state import Portal
from crmbridge.sandbox.bitrix24.wire import RestError, as_wire, param, php_array, to_int

DEAL = "CRM_DEAL"
TABLE = "userfield"
OWNERS = {DEAL: "deal"}  # user-field entity → the table whose records carry the values
PREFIX = {DEAL: "UF_CRM_"}
LANGUAGES = (
    *("ar", "br", "de", "en", "fr", "hi", "id", "in", "it", "ja", "kz"),
    *("la", "ms", "pl", "ru", "sc", "tc", "th", "tr", "ua", "vn"),
)
PORTAL_LANGUAGE = "ua"
LABELS = (
    "EDIT_FORM_LABEL",
    "LIST_COLUMN_LABEL",
    "LIST_FILTER_LABEL",
    "ERROR_MESSAGE",
    "HELP_MESSAGE",
)
_FLAGS = {"MANDATORY": "N", "SHOW_IN_LIST": "N", "EDIT_IN_LIST": "Y", "IS_SEARCHABLE": "N"}
_FILTERS = (
    "ID",
    "FIELD_NAME",
    "USER_TYPE_ID",
    "XML_ID",
    "SORT",
    "MULTIPLE",
    *_FLAGS,
    "SHOW_FILTER",
)
_ORDERS = ("ID", "FIELD_NAME", "USER_TYPE_ID", "XML_ID", "SORT")
_NAME = re.compile(r"[A-Z0-9_]+")
_LONGEST = 50


# portal state ---------------------------------------------------------------------------------
def of(portal: Portal, entity: str) -> list[dict[str, Any]]:
    """The entity's user fields in the portal's order: by SORT, then by ID."""
    mine = [f for f in portal.table(TABLE).values() if f["ENTITY_ID"] == entity]
    return sort(mine, {"SORT": "ASC", "ID": "ASC"})


def by_name(portal: Portal, entity: str) -> dict[str, dict[str, Any]]:
    return {f["FIELD_NAME"]: f for f in of(portal, entity)}


def blank(portal: Portal, entity: str | None) -> dict[str, Any]:
    """The values a record without any: `null`, or `[]` for a multiple field [assumed]."""
    if entity is None:
        return {}
    return {f["FIELD_NAME"]: _empty(f) for f in of(portal, entity)}


def _empty(field: Mapping[str, Any]) -> Any:
    return [] if field["MULTIPLE"] == "Y" else None


def create(portal: Portal, entity: str, fields: Mapping[str, Any]) -> int:
    """`crm.<entity>.userfield.add`: checks, stores, and gives every record an empty value."""
    fields = {str(k).upper(): v for k, v in fields.items()}
    type_id = str(fields.get("USER_TYPE_ID") or "").strip()
    given = str(fields.get("FIELD_NAME") or "").strip()
    missing = [f"The '{key}' field is not found." for key, v in _required(type_id, given) if not v]
    if missing:
        raise RestError("", "\n".join(missing))
    name = full_name(entity, given)
    if len(name) > _LONGEST:
        raise _core("Field name is too long (more than 50 characters).")
    if not _NAME.fullmatch(name):
        raise _core(
            "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."
        )
    if type_id not in USER_TYPES:
        raise _core("Invalid user type specified.")
    if name in by_name(portal, entity):
        raise _core(f"The field {name} for the {entity} object already exists.")
    field_id = portal.next_id(TABLE)
    record = _new(field_id, entity, name, type_id, fields)
    if type_id == "enumeration":
        record["LIST"] = _items(portal, fields.get("LIST"), record["MULTIPLE"] == "Y", [])
    portal.table(TABLE)[field_id] = record
    for carrier in portal.table(OWNERS[entity]).values():
        carrier.setdefault(name, _empty(record))
    return field_id


def _required(type_id: str, name: str) -> tuple[tuple[str, str], ...]:
    return (("USER_TYPE_ID", type_id), ("FIELD_NAME", name))


def full_name(entity: str, given: str) -> str:
    """`note` → `UF_CRM_NOTE`, `UF_NOTE` → `UF_CRM_NOTE`, `UF_CRM_NOTE` stays."""
    name, prefix = given.upper(), PREFIX[entity]
    if name.startswith(prefix):
        return name
    return prefix + name.removeprefix("UF_")


def _core(description: str) -> RestError:
    return RestError("ERROR_CORE", description)


def _new(
    field_id: int, entity: str, name: str, type_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    label = str(fields.get("LABEL") or "").strip() or name
    shown = _yn(fields.get("SHOW_FILTER"), "N") == "Y"
    record: dict[str, Any] = {
        "ID": str(field_id),
        "ENTITY_ID": entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": type_id,
        "XML_ID": _text(fields.get("XML_ID")),
        "SORT": str(_positive(fields.get("SORT")) or 100),
        "MULTIPLE": "N" if type_id == "boolean" else _yn(fields.get("MULTIPLE"), "N"),
        **{flag: _yn(fields.get(flag), default) for flag, default in _FLAGS.items()},
        "SHOW_FILTER": ("I" if type_id == "employee" else "E") if shown else "N",
        "SETTINGS": _settings(type_id, copy.deepcopy(USER_TYPES[type_id]), fields.get("SETTINGS")),
    }
    for key in LABELS:
        record[key] = _labels(fields.get(key), label)
    if type_id == "crm" and not any(record["SETTINGS"][k] == "Y" for k in CRM_LINKS):
        record["SETTINGS"]["LEAD"] = "Y"  # "binding to leads is enabled by default"
    return record


def _yn(value: Any, default: str) -> str:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return "Y" if value else "N"
    return "Y" if str(value).strip().upper() in ("Y", "1", "TRUE") else "N"


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _positive(value: Any) -> int | None:
    number = to_int(value)
    return number if number is not None and number > 0 else None


def _settings(type_id: str, current: Mapping[str, Any], given: Any) -> dict[str, Any]:
    """Known settings of the type replace the current ones; others are dropped."""
    merged = dict(current)
    for key, value in (given if isinstance(given, dict) else {}).items():
        if str(key).upper() in USER_TYPES[type_id]:
            merged[str(key).upper()] = value
    if type_id == "crm":
        merged.update({k: _yn(merged.get(k), "N") for k in CRM_LINKS})
    return merged


def _labels(value: Any, default: str) -> dict[str, str]:
    """A string goes to every language; a map to its languages, `default` to the others."""
    if isinstance(value, dict):
        return {lang: str(value.get(lang, default) or default) for lang in LANGUAGES}
    text = default if value in (None, "") else str(value)
    return dict.fromkeys(LANGUAGES, text)


def _items(
    portal: Portal, given: Any, multiple: bool, current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Enumeration items: sent ones with an ID change or (`DEL=Y`) drop, new ones are added."""
    items = {item["ID"]: dict(item) for item in current}
    for sent in _entries(given):
        known = items.get(str(to_int(sent.get("ID"))))
        if known is not None and str(sent.get("DEL", "")).upper() == "Y":
            del items[known["ID"]]
        elif known is not None:
            known.update(_item_changes(sent))
        elif str(sent.get("VALUE") or "").strip():
            item_id = str(portal.next_id("userfield_item"))
            value = str(sent["VALUE"]).strip()
            xml = (
                _text(sent.get("XML_ID")) or hashlib.md5(f"{item_id}:{value}".encode()).hexdigest()
            )
            items[item_id] = {"ID": item_id, "SORT": "0", "VALUE": value, "DEF": "N", "XML_ID": xml}
            items[item_id].update(_item_changes(sent))
    chosen = [i for i in items.values() if i["DEF"] == "Y"]
    if not multiple and len(chosen) > 1:
        for item in chosen[1:]:
            item["DEF"] = "N"  # one default: the first sent
    xml_ids = [i["XML_ID"] for i in items.values()]
    if (twice := next((x for x in xml_ids if xml_ids.count(x) > 1), None)) is not None:
        raise _core(f"List item with value XML_ID={twice} already exists.")
    return sort(list(items.values()), {"SORT": "ASC", "ID": "ASC"})


def _entries(given: Any) -> list[dict[str, Any]]:
    entries = list(given.values()) if isinstance(given, dict) else given
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _item_changes(sent: Mapping[str, Any]) -> dict[str, str]:
    changes = {}
    if str(sent.get("VALUE") or "").strip():
        changes["VALUE"] = str(sent["VALUE"]).strip()
    if (number := to_int(sent.get("SORT"))) is not None and number >= 0:
        changes["SORT"] = str(number)
    if sent.get("DEF") not in (None, ""):
        changes["DEF"] = _yn(sent["DEF"], "N")
    if sent.get("XML_ID") not in (None, ""):
        changes["XML_ID"] = str(sent["XML_ID"])
    return changes


def change(portal: Portal, record: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """`crm.<entity>.userfield.update`: name, type and multiplicity stay as created."""
    fields = {str(k).upper(): v for k, v in fields.items()}
    type_id = record["USER_TYPE_ID"]
    for flag in _FLAGS:
        if flag in fields:
            record[flag] = _yn(fields[flag], record[flag])
    if "SHOW_FILTER" in fields:
        shown = _yn(fields["SHOW_FILTER"], "N") == "Y"
        record["SHOW_FILTER"] = ("I" if type_id == "employee" else "E") if shown else "N"
    if "XML_ID" in fields:
        record["XML_ID"] = _text(fields["XML_ID"])
    if (number := _positive(fields.get("SORT"))) is not None:
        record["SORT"] = str(number)
    if "SETTINGS" in fields:
        record["SETTINGS"] = _settings(type_id, record["SETTINGS"], fields["SETTINGS"])
    for key in LABELS:
        if key in fields:
            record[key] = _labels(fields[key], "")
    if type_id == "enumeration" and "LIST" in fields:
        record["LIST"] = _items(portal, fields["LIST"], record["MULTIPLE"] == "Y", record["LIST"])


def remove(portal: Portal, record: dict[str, Any]) -> None:
    del portal.table(TABLE)[int(record["ID"])]
    for carrier in portal.table(OWNERS[record["ENTITY_ID"]]).values():
        carrier.pop(record["FIELD_NAME"], None)


def value(portal: Portal, field: Mapping[str, Any], current: Any, given: Any, owner: str) -> Any:
    """A record's new value of a user field after a write. File fields keep file ids (as
    files.py takes them), one at most when not multiple; other multiple fields a list."""
    if field["USER_TYPE_ID"] == "file":
        ids = files.field_value(portal, current or [], given, owner)
        return ids if field["MULTIPLE"] == "Y" else ids[-1:]
    if field["MULTIPLE"] == "Y":
        values = list(given.values()) if isinstance(given, dict) else given
        values = values if isinstance(values, list) else [values]
        return [as_wire(v) for v in values if v not in (None, "")]
    return as_wire(given)


def present(
    portal: Portal, urls: Urls, entity: str | None, record: Mapping[str, Any]
) -> dict[str, Any]:
    """A record as `get` prints it: file fields as links (an object, or a list when multiple)."""
    out = dict(record)
    for field in of(portal, entity) if entity is not None else []:
        name = field["FIELD_NAME"]
        if field["USER_TYPE_ID"] == "file" and name in record:
            links = files.render_field(urls, int(record["ID"]), name, record[name] or [])
            out[name] = links if field["MULTIPLE"] == "Y" else next(iter(links), None)
    return out


def describe(portal: Portal, entity: str | None) -> dict[str, dict[str, Any]]:
    """The entity's user fields as `crm.<kind>.fields` prints them."""
    out = {}
    for field in of(portal, entity) if entity is not None else []:
        name = field["FIELD_NAME"]
        out[name] = {
            "type": field["USER_TYPE_ID"],
            "isRequired": field["MANDATORY"] == "Y",
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": field["MULTIPLE"] == "Y",
            "isDynamic": True,
            "title": name,
            "listLabel": field["LIST_COLUMN_LABEL"][PORTAL_LANGUAGE] or name,
            "formLabel": field["EDIT_FORM_LABEL"][PORTAL_LANGUAGE] or name,
            "filterLabel": field["LIST_FILTER_LABEL"][PORTAL_LANGUAGE] or name,
            "settings": php_array(field["SETTINGS"]),
        }
    return out


# methods ------------------------------------------------------------------------------------
def _fields_param(params: dict[str, Any]) -> dict[str, Any]:
    fields = param(params, "fields")
    if not isinstance(fields, dict):
        raise RestError("", "Parameter 'fields' must be array.")
    return fields


def _existing(entity: str, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    field_id = to_int(param(params, "id"))
    if field_id is None or field_id <= 0:
        raise RestError("", "ID is not defined or invalid.")
    record = ctx.portal.table(TABLE).get(field_id)
    if record is None:
        raise RestError("ERROR_NOT_FOUND", f"The entity with ID '{field_id}' is not found.")
    if record["ENTITY_ID"] != entity:
        raise RestError("", "Access denied.")
    return record


def _wire(record: Mapping[str, Any], lang: str | None = None, *, labels: bool = True) -> Any:
    out = dict(record)
    out["SETTINGS"] = php_array(record["SETTINGS"])
    for key in LABELS:
        if not labels:
            del out[key]
        elif lang is not None:
            out[key] = record[key].get(lang)
    return out


def add(entity: str, ctx: Context, params: dict[str, Any]) -> Reply:
    return Reply(create(ctx.portal, entity, _fields_param(params)))


def get(entity: str, ctx: Context, params: dict[str, Any]) -> Reply:
    return Reply(_wire(_existing(entity, ctx, params)))


def list_(entity: str, ctx: Context, params: dict[str, Any]) -> Reply:
    flt, order = param(params, "filter") or {}, param(params, "order") or {}
    for name, value in (("filter", flt), ("order", order)):
        if not isinstance(value, dict):
            raise RestError("", f"Parameter '{name}' must be array.")
    flt = {str(k).upper(): v for k, v in flt.items()}
    lang = flt.pop("LANG", None)
    accepts = matcher({k: v for k, v in flt.items() if k in _FILTERS})  # others are ignored
    chosen = [f for f in of(ctx.portal, entity) if accepts(f)]
    wanted = {str(k).upper(): v for k, v in order.items() if str(k).upper() in _ORDERS}
    found = sort(chosen, wanted or {"SORT": "ASC", "ID": "ASC"})
    shown = [_wire(f, str(lang), labels=lang is not None) for f in found]
    return Reply(shown, total=len(shown))


def update(entity: str, ctx: Context, params: dict[str, Any]) -> Reply:
    record = _existing(entity, ctx, params)
    change(ctx.portal, record, _fields_param(params))
    return Reply(True)


def delete(entity: str, ctx: Context, params: dict[str, Any]) -> Reply:
    remove(ctx.portal, _existing(entity, ctx, params))
    return Reply(True)


_VERBS: dict[str, Callable[[str, Context, dict[str, Any]], Reply]] = {
    "add": add,
    "get": get,
    "list": list_,
    "update": update,
    "delete": delete,
}


def methods() -> dict[str, Handler]:
    return {f"crm.deal.userfield.{verb}": partial(run, DEAL) for verb, run in _VERBS.items()}
