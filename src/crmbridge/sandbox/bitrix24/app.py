"""ASGI routes of the emulator, relative to where it is mounted (the lead mounts `/bitrix24`),
and of the emulated authorization server (`oauth_routes`, mounted at the sandbox's root).

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
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from crmbridge.sandbox.bitrix24 import apps, files, pages
from crmbridge.sandbox.bitrix24.dispatch import Urls
from crmbridge.sandbox.bitrix24.oauth import OAuthServer
from crmbridge.sandbox.bitrix24.rest import Credentials, RestEndpoint, envelope, no_auth
from crmbridge.sandbox.bitrix24.state import Portal
from crmbridge.sandbox.bitrix24.wire import RestError, parse_php_query, to_int


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
    endpoint: RestEndpoint,
    portal: Portal,
    issue_invoice: Callable[[int], None],
    authorize: Callable[[str, str], str | None],
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

    async def oauth_authorize(request: Request) -> Response:
        """The user's browser at `/oauth/authorize/` (already logged in as the admin, user 1)."""
        query = request.query_params
        location = authorize(query.get("client_id", ""), query.get("state", ""))
        if location is None:  # the portal shows the error on its own page [assumption] wording
            return HTMLResponse("<h1>Application not found or not installed</h1>", 400)
        return RedirectResponse(location, status_code=302)

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
            Route("/oauth/authorize/", oauth_authorize, methods=["GET"]),
            Route("/bitrix/components/bitrix/crm.deal.show/show_file.php", download),
            Route("/disk/downloadFile/{file_id:int}/", download),
        ]
    )


def oauth_routes(server: OAuthServer, urls: Urls) -> list[Route]:
    """`/oauth/token/` and `/rest/app.info` of the emulated oauth.bitrix.info."""

    async def token(request: Request) -> Response:
        params = {k: str(v) for k, v in (await read_params(request)).items()}
        status, body = await run_in_threadpool(server.token, params)
        return JSONResponse(body, status_code=status)

    async def app_info(request: Request) -> Response:
        params = await read_params(request)
        token = str(params.get("auth") or "")
        try:
            if not token:
                raise no_auth()
            grant = server.grant(token)
        except RestError as error:
            if error.code == "invalid_token":
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            return JSONResponse(error.body(), status_code=error.status)
        app = server.apps.get(grant.client_id)
        assert app is not None
        result = apps.server_info(app, grant.user_id, grant.expires, urls)
        return JSONResponse(envelope(result, server.clock.now()))

    return [
        Route("/oauth/token/", token, methods=["GET", "POST"]),
        Route("/rest/app.info", app_info, methods=["GET", "POST"]),
        Route("/rest/app.info.json", app_info, methods=["GET", "POST"]),
    ]
