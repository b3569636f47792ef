"""ASGI routes of the emulator, relative to where it is mounted (the lead mounts `/bitrix24`).

Parameters are read the way PHP fills `$_REQUEST`: the query string and the body merged, the body
being JSON, `x-www-form-urlencoded` or `multipart/form-data` with PHP-bracket keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crmbridge.sandbox.bitrix24 import files, pages
from crmbridge.sandbox.bitrix24.rest import Credentials, RestEndpoint
from crmbridge.sandbox.bitrix24.state import Portal
from crmbridge.sandbox.bitrix24.wire import parse_php_query, to_int


async def read_params(request: Request) -> dict[str, Any]:
    params = parse_php_query(request.query_params.multi_items())
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST":
        return params
    if kind == "application/json":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        params.update(body if isinstance(body, dict) else {})
    elif kind == "multipart/form-data":
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
        params.update(parse_php_query(pairs))
    else:
        text = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_php_query(parse_qsl(text, keep_blank_values=True)))
    return params


def _method_name(raw: str) -> str:
    return raw[: -len(".json")] if raw.lower().endswith(".json") else raw


def build_app(
    endpoint: RestEndpoint, portal: Portal, issue_invoice: Callable[[int], None]
) -> Starlette:
    async def rest(request: Request) -> Response:
        creds = Credentials(request.path_params["user"], request.path_params["code"])
        method = _method_name(request.path_params["method"])
        params = await read_params(request)
        return await run_in_threadpool(endpoint.serve, creds, method, params)

    async def rest_with_token(request: Request) -> Response:
        params = await read_params(request)
        token = params.pop("auth", None)
        creds = Credentials(token=str(token) if isinstance(token, str) and token else None)
        method = _method_name(request.path_params["method"])
        return await run_in_threadpool(endpoint.serve, creds, method, params)

    async def home(request: Request) -> Response:
        return HTMLResponse(pages.deal_list(portal, request.scope.get("root_path", "")))

    async def invoice(request: Request) -> Response:
        await run_in_threadpool(issue_invoice, int(request.path_params["deal_id"]))
        return RedirectResponse(request.scope.get("root_path", "") + "/", status_code=303)

    async def download(request: Request) -> Response:
        fid = to_int(request.path_params.get("file_id", request.query_params.get("fileId")))
        with portal.lock:
            found = files.content(portal, fid or 0)
        if found is None:
            return Response("File not found", status_code=404)
        name, data = found
        disposition = f"attachment; filename*=UTF-8''{quote(name)}"
        return Response(data, headers={"content-disposition": disposition})

    return Starlette(
        routes=[
            Route("/", home),
            Route("/sandbox/deals/{deal_id:int}/invoice", invoice, methods=["POST"]),
            Route("/rest/{user}/{code}/{method}", rest, methods=["GET", "POST"]),
            Route("/rest/{method}", rest_with_token, methods=["GET", "POST"]),
            Route("/bitrix/components/bitrix/crm.deal.show/show_file.php", download),
            Route("/disk/downloadFile/{file_id:int}/", download),
        ]
    )
