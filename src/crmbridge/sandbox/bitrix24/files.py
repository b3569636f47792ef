"""Files on the portal: values of file user fields and timeline-comment attachments.

A file travels in as base64 (`{"fileData": ["name.pdf", "<base64>"]}` for legacy user fields,
`["name.pdf", "<base64>"]` pairs for `FILES`) and is read back as links. Following
`bitrix24/b24restdocs:api-reference/crm/universal/crm-item-update.md` ("How to Update a File Type
Custom Field"), a new value replaces the field: files whose ids are not sent again as
`{"id": <id>}` are dropped, and `""` clears the field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from crmbridge.sandbox.bitrix24.dispatch import Urls
from crmbridge.sandbox.bitrix24.state import Portal
from crmbridge.sandbox.bitrix24.wire import to_int


def store(portal: Portal, name: str, content_b64: str, owner: str) -> int | None:
    """Keep a file; None when the content is not base64 (the portal then ignores the value)."""
    try:
        data = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    fid = portal.next_id("file")
    portal.files[fid] = {"name": name, "content": content_b64, "size": len(data), "owner": owner}
    return fid


def content(portal: Portal, file_id: int) -> tuple[str, bytes] | None:
    entry = portal.files.get(file_id)
    if entry is None:
        return None
    return entry["name"], base64.b64decode(entry["content"])


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
        and "." in value[0]
    )


def field_value(portal: Portal, current: list[int], value: Any, owner: str) -> list[int]:
    """The new list of file ids of a multiple file field after an update with `value`."""
    if value in (None, "", [], {}):
        return []
    items = [value] if isinstance(value, dict) or _is_pair(value) else value
    if not isinstance(items, list):
        return list(current)
    kept: list[int] = []
    for item in items:
        fid = _one(portal, current, item, owner)
        if fid is not None and fid not in kept:
            kept.append(fid)
    return kept


def _one(portal: Portal, current: list[int], item: Any, owner: str) -> int | None:
    if _is_pair(item):
        return store(portal, item[0], item[1], owner)
    if not isinstance(item, dict):
        return None
    data = item.get("fileData")
    if isinstance(data, list) and len(data) >= 2:
        return store(portal, str(data[0]), str(data[1]), owner)
    fid = to_int(item.get("id", item.get("ID")))
    return fid if fid in current else None


def render_field(urls: Urls, owner: int, field: str, ids: list[int]) -> list[dict[str, Any]]:
    """How legacy `crm.deal.get` prints a file field: id plus show and download links."""
    out = []
    for fid in ids:
        link = urls.file_link(owner, field, fid)
        out.append({"id": fid, "showUrl": link, "downloadUrl": link + "&download=Y"})
    return out


def render_attachments(portal: Portal, urls: Urls, ids: list[int], meta: dict[str, Any]) -> Any:
    """`FILES` of a timeline comment: a map keyed by file id (`crm-timeline-comment-get.md`)."""
    files: dict[str, Any] = {}
    for fid in ids:
        entry = portal.files[fid]
        files[str(fid)] = {
            "id": fid,
            "date": meta["date"],
            "type": "file",
            "name": entry["name"],
            "size": entry["size"],
            "authorId": meta["author_id"],
            "authorName": meta["author_name"],
            "urlShow": urls.disk_link(fid, entry["name"]),
            "urlDownload": urls.disk_link(fid, entry["name"]),
        }
    return files
