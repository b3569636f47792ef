"""ASGI routes of the emulated BAS web publication (mounted at `/bas`).

What the web server and the platform do before the OData layer sees a request lives here: the
request counter, injected faults (a maintenance lock-out answers 403 with the web extension's
`#exception` JSON), and HTTP Basic auth against a UTF-8 user name.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from decimal import Decimal, InvalidOperation
from typing import Protocol
from urllib.parse import parse_qsl, quote

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crmbridge.sandbox.bas import pages
from crmbridge.sandbox.bas.errors import ODataError, json_error, maintenance_body, xml_error
from crmbridge.sandbox.bas.odata import JSON, XML, ODataService, Reply, wants_json
from crmbridge.sandbox.bas.odata import Request as ODataRequest
from crmbridge.sandbox.control import SandboxControl

ODATA_ROOT = "/odata/standard.odata"
METHODS = ["GET", "POST", "PATCH", "PUT", "MERGE", "DELETE"]
LOCK_CONFLICT = (
    "Конфликт блокировок при выполнении транзакции:\n"
    "Превышено максимальное время ожидания предоставления блокировки"
)


class Sandbox(Protocol):
    """What the routes need from `BasSandbox` (a protocol, to keep imports one-way)."""

    control: SandboxControl
    service: ODataService
    credentials: tuple[str, str]
    lang: str
    extension: bool

    def invoice_pdf(self, ref: str) -> bytes | None: ...

    def summaries(self) -> list[pages.InvoiceRow]: ...

    def record_payment(self, invoice_ref: str, amount: Decimal | None = None) -> str: ...


def authorized(header: str | None, credentials: tuple[str, str]) -> bool:
    """Basic auth with the user name taken as UTF-8, as 1C expects (`Адміністратор`)."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = text.partition(":")
    expected = f"{credentials[0]}:{credentials[1]}".encode()
    return hmac.compare_digest(f"{user}:{password}".encode(), expected)


def _response(reply: Reply) -> Response:
    return Response(reply.body, reply.status, reply.headers, media_type=reply.content_type)


def _wants_json(request: Request) -> bool:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return wants_json(request.method, dict(request.query_params), headers)


def _set_name(path: str) -> str:
    head = path.strip("/")
    for stop in "(/":
        head = head.split(stop, 1)[0]
    return head or "$service"


class Gate:
    """Counting, faults and auth in front of every OData and HTTP-service request."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def check(self, request: Request, counted_as: str) -> Response | None:
        control = self.sandbox.control
        control.count_bas(counted_as)
        if control.fault("bas", "maintenance"):
            body = maintenance_body(request.method, request.url.path)
            return Response(body, 403, media_type=JSON)
        slow = control.fault("bas", "slow")
        if slow:
            await anyio.sleep(slow.delay)
        if control.fault("bas", "error500"):
            return self._error(request, ODataError(500, "-1", LOCK_CONFLICT))
        if not authorized(request.headers.get("authorization"), self.sandbox.credentials):
            return Response(b"", 401, {"WWW-Authenticate": 'Basic realm=""'})
        return None

    def _error(self, request: Request, error: ODataError) -> Response:
        if _wants_json(request):
            return Response(json_error(error, self.sandbox.lang), error.status, media_type=JSON)
        return Response(xml_error(error), error.status, media_type=XML)


def _base(request: Request) -> str:
    path = request.url.path
    prefix = path[: path.index(ODATA_ROOT)] if ODATA_ROOT in path else ""
    return f"{request.url.scheme}://{request.url.netloc}{prefix}{ODATA_ROOT}/"


def create_app(sandbox: Sandbox) -> Starlette:
    gate = Gate(sandbox)

    async def odata(request: Request) -> Response:
        path = str(request.path_params.get("path", ""))
        refused = await gate.check(request, _set_name(path))
        if refused is not None:
            return refused
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = await request.body()
        call = ODataRequest(request.method, path, params, headers, body, _base(request))
        return _response(sandbox.service.handle(call))

    async def invoice_pdf(request: Request) -> Response:
        refused = await gate.check(request, "hs/crm/invoice")
        if refused is not None:
            return refused
        pdf = sandbox.invoice_pdf(str(request.path_params["ref"]))
        if pdf is None:
            return Response("Рахунок не знайдено", 404, media_type="text/plain;charset=utf-8")
        disposition = f"inline; filename=\"invoice.pdf\"; filename*=UTF-8''{quote('Рахунок.pdf')}"
        return Response(
            pdf, 200, {"Content-Disposition": disposition}, media_type="application/pdf"
        )

    async def index(request: Request) -> Response:
        profile = sandbox.service.schema.profile
        return HTMLResponse(pages.index(sandbox.summaries(), profile, pdf=sandbox.extension))

    async def payment(request: Request) -> Response:
        form = await request.form()
        text = str(form.get("amount") or "").strip().replace(",", ".")
        try:
            amount = Decimal(text) if text else None
            sandbox.record_payment(str(form.get("invoice", "")), amount)
        except (InvalidOperation, ValueError, ODataError) as exc:
            return HTMLResponse(pages.failure(str(exc)), 400)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/", 303)

    routes = [
        Route(ODATA_ROOT, odata, methods=METHODS),
        Route(ODATA_ROOT + "/{path:path}", odata, methods=METHODS),
        Route("/", index, methods=["GET"]),
        Route("/sandbox/payments", payment, methods=["POST"]),
    ]
    if sandbox.extension:  # else `hs/crm/…` is an unknown path: 404 (docs/sandbox.md)
        routes.append(Route("/hs/crm/invoice/{ref}/pdf", invoice_pdf, methods=["GET"]))
    return Starlette(routes=routes)
