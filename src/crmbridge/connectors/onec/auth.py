"""HTTP Basic with the credentials encoded as UTF-8 (reference §1.4).

1C infobase users are often Cyrillic (`Адміністратор`); latin-1, which several clients use for
Basic, cannot encode them. The header is built once; neither `repr` nor `str` shows it.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx


def basic_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class Utf8BasicAuth(httpx.Auth):
    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self._header = basic_header(user, password)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"Utf8BasicAuth(user={self.user!r}, password=<redacted>)"

    __str__ = __repr__
