"""Error answers in the shapes real 1C servers give (reference §1.10, recorded in `ONECDC`).

`ODataError` is raised anywhere in the emulator and rendered at the HTTP edge as an
`odata.error` JSON body (JSON requests) or an `m:error` XML body (atom requests).
"""

from __future__ import annotations

import base64
import json
from xml.sax.saxutils import escape

METADATA_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
INTERNAL_ERROR = (
    "Произошла внутренняя ошибка OData сервиса. "
    "Дополнительные сведения можно найти в технологическом журнале."
)
MAINTENANCE_TEXT = "Начало сеанса с информационной базой запрещено.\nВедутся технические работы"


class ODataError(Exception):
    """A request the emulated server refuses; `code` is the 1C internal code, a string."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(set_name: str) -> ODataError:
    return ODataError(404, "9", f'Экземпляр сущности "{set_name}" не найден по переданному ключу.')


def unknown_set(name: str) -> ODataError:
    # A set outside the OData composition is indistinguishable from a misspelt one.
    return ODataError(404, "6", f"Неверный адрес ресурса: {name}")


def json_error(error: ODataError, lang: str) -> str:
    body = {"odata.error": {"code": error.code, "message": {"lang": lang, "value": error.message}}}
    return json.dumps(body, ensure_ascii=False)


def xml_error(error: ODataError) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<m:error xmlns:m="{METADATA_NS}">'
        f"<m:code>{escape(error.code)}</m:code><m:message>{escape(error.message)}</m:message>"
        "</m:error>"
    )


def maintenance_body(method: str, path: str) -> str:
    """The web extension's own exception when sessions are locked out (HTTP 403)."""
    # creationStack and data carry platform internals on a real server; placeholders here.
    inner = {
        "descr": "Ведутся технические работы",
        "creationStack": "core83.dll:0x0000000000085928 ",
        "data": base64.b64encode("Ведутся технические работы".encode()).decode(),
    }
    body = {
        "#exception": "{http://v8.1c.ru/8.2/virtual-resource-system}Exception",
        "exception": {
            "reason": 403,
            "descr": f"HTTP: Forbidden\nОшибка при выполнении запроса {method} к ресурсу {path}:",
            "inner": {"descr": MAINTENANCE_TEXT, "inner": inner},
        },
    }
    return json.dumps(body, ensure_ascii=False)
