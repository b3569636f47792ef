"""What a failed 1C answer means: the 1C text out of any body shape, then Retryable or Permanent.

Body shapes (reference §1.10): `odata.error` JSON, `m:error` XML, the web extension's
`#exception` JSON (maintenance lock-out), the platform's HTML error page, plain text (locks).

Decisions:
- maintenance («Начало сеанса с информационной базой запрещено»), lock conflicts, 408/429 and
  5xx without an OData error body → Retryable: they pass by themselves.
- an `odata.error` with code `-1` is the configuration refusing the data (posting checks,
  validation) → Permanent with 1C's own text, unless the text is a lock conflict.
- 412 (stale `If-Match`) → `VersionConflict`, Retryable: the job re-reads the object on its next
  attempt (events are "entity changed", flows re-read) and writes with the new DataVersion; a
  blind overwrite would lose the accountant's edit, and dead-lettering would need a human for
  something a re-read settles.
- other 4xx → Permanent (bad request, rights, unknown set); 404 → `NotFound`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from crmbridge.errors import Permanent, Retryable

MAINTENANCE_MARKERS = (
    "Начало сеанса с информационной базой запрещено",
    "Початок сеансу з інформаційною базою заборонено",  # Ukrainian UI sessions [INF]
    "блокировка установки соединений",
)
LOCK_MARKERS = ("Конфликт блокировок", "Ошибка блокировки данных", "Конфлікт блокувань")
_METADATA_NS = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_REASON = re.compile(r"by reason:\s*(.*?)(?:<|$)", re.IGNORECASE | re.DOTALL)
_RETRYABLE_STATUS = {408, 425, 429, 502, 503, 504}


@dataclass(frozen=True)
class Described:
    code: str | None  # 1C internal code of an OData error ("9", "-1"); None for other shapes
    text: str
    shape: str  # odata-json | odata-xml | exception | html | text | empty


class OneCError(Permanent):
    """1C refused the request."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class NotFound(OneCError):
    """No such object (or the set is outside the OData composition)."""


class Maintenance(Retryable):
    """The infobase does not admit sessions now (maintenance or an update); try again later."""


class Locked(Retryable):
    """1C could not take a data lock: someone else is writing the same data."""


class Unavailable(Retryable):
    """The 1C server or its web server failed for now."""


class VersionConflict(Retryable):
    """The object changed since it was read (stale DataVersion); re-read and write again."""


def _exception_text(node: Any) -> str:
    """`descr` of every level of a `#exception` chain, outermost first."""
    parts = []
    while isinstance(node, dict):
        if isinstance(node.get("descr"), str):
            parts.append(node["descr"].strip())
        node = node.get("inner")
    return "\n".join(parts)


def _from_json(data: Any) -> Described | None:
    if not isinstance(data, dict):
        return None
    error = data.get("odata.error")
    if isinstance(error, dict):
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else message
        return Described(str(error.get("code")), str(text or ""), "odata-json")
    if "#exception" in data or "exception" in data:
        return Described(None, _exception_text(data.get("exception")), "exception")
    return None


def _from_xml(text: str) -> Described | None:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    if root.tag != f"{_METADATA_NS}error":
        return None
    code = root.findtext(f"{_METADATA_NS}code")
    return Described(code, (root.findtext(f"{_METADATA_NS}message") or "").strip(), "odata-xml")


def _from_html(text: str) -> Described:
    reason = _REASON.search(text)
    title = _TITLE.search(text)
    found = reason or title
    return Described(None, found.group(1).strip() if found else text[:500], "html")


def describe(body: bytes | str) -> Described:
    """The 1C code and text of an error answer, whatever its shape."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if not stripped:
        return Described(None, "", "empty")
    if stripped.startswith("{"):
        try:
            found = _from_json(json.loads(stripped))
        except json.JSONDecodeError:
            found = None
        if found is not None:
            return found
    if stripped.startswith("<"):
        found = _from_xml(stripped.removeprefix("\ufeff"))
        return found if found is not None else _from_html(stripped)
    return Described(None, stripped[:2000], "text")


def _has(text: str, markers: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(m.casefold() in folded for m in markers)


def classify(
    status: int, body: bytes | str, *, retry_after: float | None = None, what: str = ""
) -> Exception:
    """The exception for an answer with an error status (the caller raises it)."""
    found = describe(body)
    detail = found.text or f"HTTP {status}"
    message = f"1C {what}: {detail}" if what else f"1C: {detail}"
    if _has(found.text, MAINTENANCE_MARKERS):
        return Maintenance(message, retry_after=retry_after)
    if _has(found.text, LOCK_MARKERS):
        return Locked(message, retry_after=retry_after)
    if status == 412:
        return VersionConflict(message, retry_after=0)
    if status == 404:
        return NotFound(message, status=status, code=found.code)
    if status in _RETRYABLE_STATUS:
        return Unavailable(message, retry_after=retry_after)
    if status >= 500 and found.shape not in ("odata-json", "odata-xml"):
        return Unavailable(message, retry_after=retry_after)
    return OneCError(message, status=status, code=found.code)
