"""Requests to one published infobase: its OData interface and the extension's HTTP service.

All calls go through a `Caller` — the shared HTTP layer (`crmbridge.connectors.http.HttpCaller`),
which holds the BAS concurrency cap, records each exchange with secrets redacted and maps
transport failures. This module builds 1C URLs and bodies and reads 1C answers: every status
above 299 becomes a `Retryable` or `Permanent` error (`errors.classify`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol

import httpx

from crmbridge.connectors.http import retry_after
from crmbridge.connectors.onec import errors, literals
from crmbridge.connectors.onec.query import Query
from crmbridge.errors import Permanent

Record = dict[str, Any]
ODATA_SUFFIX = "odata/standard.odata/"
_JSON = {"Accept": "application/json"}


class Caller(Protocol):
    def request(
        self, method: str, url: str, *, operation: str, business_key: str | None = None, **kw: Any
    ) -> httpx.Response: ...


def _number(value: Decimal) -> int | float | str:
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    # float's repr is the shortest exact text up to 15 significant digits; beyond, a string
    return float(value) if len(value.as_tuple().digits) <= 15 else format(value, "f")


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(body: Mapping[str, Any]) -> bytes:
    """JSON for 1C: Decimals as plain numbers, Cyrillic unescaped (UTF-8)."""
    return json.dumps(body, ensure_ascii=False, default=_default).encode()


def decode(response: httpx.Response) -> Any:
    """JSON with fractional numbers as Decimal (money must not pass through float)."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Permanent(f"1C answered {response.status_code} with a body that is not JSON") from exc


def publication_root(odata_url: str) -> str:
    """`http://host/base/` from `http://host/base/odata/standard.odata/`."""
    url = odata_url if odata_url.endswith("/") else odata_url + "/"
    if not url.endswith(ODATA_SUFFIX):
        raise ValueError(f"not an OData URL of a 1C publication: {odata_url}")
    return url[: -len(ODATA_SUFFIX)]


class ODataClient:
    def __init__(self, caller: Caller, odata_url: str, auth: httpx.Auth) -> None:
        self.base = odata_url if odata_url.endswith("/") else odata_url + "/"
        self.root = publication_root(self.base)
        self._caller = caller
        self._auth = auth

    def __repr__(self) -> str:
        return f"ODataClient({self.base!r})"

    def send(self, method: str, path: str, *, operation: str, **kw: Any) -> httpx.Response:
        """One request to `base + path`; an error status raises the mapped exception.

        The exchange's business key is the job's (`correlation`), not the Ref_Key: the trace
        of one business operation finds every call made for it; the URL names the object."""
        url = path if path.startswith("http") else self.base + path
        response = self._caller.request(method, url, operation=operation, auth=self._auth, **kw)
        if response.status_code >= 300:
            what = f"{operation} {method}"
            raise errors.classify(
                response.status_code,
                response.content,
                retry_after=retry_after(response),
                what=what,
            )
        return response

    def _query(self, path: str, params: Mapping[str, str]) -> str:
        return f"{path}?{literals.query_string(params)}" if params else path

    # reading ------------------------------------------------------------------------------
    def metadata(self) -> bytes:
        return self.send("GET", "$metadata", operation="odata.metadata").content

    def read(self, entity_set: str, ref: str, select: tuple[str, ...] = ()) -> Record:
        path = self._query(literals.entity_path(entity_set, ref), Query(select=select).params())
        found: Record = decode(self.send("GET", path, operation="odata.get", headers=_JSON))
        found.pop("odata.metadata", None)
        return found

    def find(self, entity_set: str, query: Query, operation: str = "odata.list") -> list[Record]:
        path = self._query(literals.entity_path(entity_set), query.params())
        return list(decode(self.send("GET", path, operation=operation, headers=_JSON))["value"])

    def pages(self, entity_set: str, query: Query, size: int) -> Iterator[list[Record]]:
        """Pages of `size` by `$top`/`$skip` over the query's (stable) `$orderby`; the last
        page is the first one shorter than `size`."""
        if not query.orderby:
            raise ValueError("paging needs a stable $orderby")
        skip = 0
        while True:
            page = self.find(entity_set, query.with_page(skip, size), "odata.page")
            yield page
            if len(page) < size:
                return
            skip += size

    def function(self, entity_set: str, function: str, params: Mapping[str, str]) -> list[Record]:
        """A virtual table (`SliceLast`, …); `$skip` is refused by 1C there, so one page."""
        path = literals.function_path(entity_set, function, params) + "?$format=json"
        return list(
            decode(self.send("GET", path, operation="odata.function", headers=_JSON))["value"]
        )

    # writing ------------------------------------------------------------------------------
    def create(self, entity_set: str, body: Mapping[str, Any]) -> Record:
        path = literals.entity_path(entity_set) + "?$format=json"
        headers = _JSON | {"Content-Type": "application/json"}
        response = self.send(
            "POST", path, operation="odata.create", content=encode(body), headers=headers
        )
        created: Record = decode(response)
        created.pop("odata.metadata", None)
        return created

    def update(
        self, entity_set: str, ref: str, body: Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        """PATCH: only the sent properties change (a sent tabular section is replaced whole)."""
        path = literals.entity_path(entity_set, ref) + "?$format=json"
        headers = _JSON | {"Content-Type": "application/json"}
        if if_match:
            headers["If-Match"] = if_match
        response = self.send(
            "PATCH", path, operation="odata.update", content=encode(body), headers=headers
        )
        updated: Record = decode(response)
        updated.pop("odata.metadata", None)
        return updated

    def action(self, entity_set: str, ref: str, name: str, params: Mapping[str, str]) -> None:
        """`Post` / `Unpost` of a document."""
        path = self._query(literals.entity_path(entity_set, ref, name), params)
        self.send("POST", path, operation=f"odata.{name.lower()}", headers=_JSON)

    def download(self, path: str, operation: str) -> httpx.Response:
        """GET under the publication root (the extension's HTTP services live at `hs/…`)."""
        return self.send("GET", self.root + path, operation=operation)
