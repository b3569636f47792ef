"""BAS's own print form of an invoice, as the emulated extension's HTTP service returns it.

A real extension calls the configuration's print manager (reference §3.1). The emulator draws
the form with `crmbridge.documents`, gathering the data through its own OData interface
in-process: an `ODataClient` whose caller hands each request to `ODataService.handle`. So the
print service sees exactly what any OData client of this infobase sees (the composition, the
wire shapes), and the sandbox keeps no second copy of the form.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from crmbridge import documents
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.sandbox.bas.odata import ODataService
from crmbridge.sandbox.bas.odata import Request as ODataRequest

BASE = "http://infobase.invalid/odata/standard.odata/"


class InProcess:
    """A `Caller` (connectors/onec/client.py) that answers from the service, not the network."""

    def __init__(self, service: ODataService) -> None:
        self.service = service

    def request(self, method: str, url: str, *, operation: str, **kw: Any) -> httpx.Response:
        parts = urlsplit(url)
        path = unquote(parts.path).removeprefix(urlsplit(BASE).path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in (kw.get("headers") or {}).items()}
        call = ODataRequest(method, path, params, headers, kw.get("content") or b"", BASE)
        reply = self.service.handle(call)
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        headers = {"content-type": reply.content_type, **reply.headers}
        return httpx.Response(reply.status, content=body, headers=headers)


def invoice_pdf(service: ODataService, ref: str) -> bytes | None:
    """The invoice's PDF, or None if the infobase has no such invoice (nor such a key)."""
    try:
        uuid.UUID(ref)
    except ValueError:
        return None
    client = ODataClient(InProcess(service), BASE, httpx.BasicAuth("", ""))
    return documents.invoice_pdf(client, service.schema.name, ref)
