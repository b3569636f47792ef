"""The dashboard: server-rendered pages over the store (Jinja2, autoescaped, no JavaScript).

Overview per flow, exchange search by business key, an entity's trace, dead letters with Retry
and Retry-all-matching, the ownership map, and the login form. Every POST checks the session's
CSRF token (`auth.csrf_ok`); the session itself is checked by `auth.AuthGate`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crmbridge.app import Application
from crmbridge.errors import ConfigError
from crmbridge.store import jobs as job_sql
from crmbridge.store.jobs import JobFilter
from crmbridge.store.overview import flow_stats, search_exchanges
from crmbridge.trace import KINDS, timeline
from crmbridge.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Auth, cookie_header, csrf_ok

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 200


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["ago"] = _duration
    env.filters["pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1, default=str)
    env.filters["compact"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    return Jinja2Templates(env=env)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


@dataclass(frozen=True)
class Pages:
    application: Application
    auth: Auth
    views: Jinja2Templates

    def render(self, request: Request, name: str, *, status: int = 200, **data: Any) -> Response:
        session = getattr(request.state, "session", None)
        context = {"session": session, "auth_enabled": self.auth.enabled, **data}
        response = self.views.TemplateResponse(request, name, context, status_code=status)
        response.headers["cache-control"] = "no-store"
        return response

    def login_page(self, next_path: str, error: str | None = None) -> tuple[str, str]:
        """The login form's HTML and the Set-Cookie header of its double-submit token."""
        token = secrets.token_urlsafe(24)
        html = self.views.get_template("login.html").render(
            next=_local(next_path), token=token, error=error, session=None, auth_enabled=True
        )
        return html, cookie_header(LOGIN_COOKIE, token, max_age=3600, secure=False)


def _local(path: str) -> str:
    """Only a path of this site is a place to go back to after login (no open redirect)."""
    # Browsers read `/\host` like `//host`: another site.
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"


def _check_csrf(request: Request, token: str) -> None:
    if not csrf_ok(getattr(request.state, "session", None), token):
        raise HTTPException(403, "the form is stale or not from this site (CSRF token mismatch)")


def router(pages: Pages) -> APIRouter:
    web = APIRouter(include_in_schema=False)
    app, db = pages.application, pages.application.db

    @web.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        now = app.clock.now()
        return pages.render(
            request,
            "overview.html",
            flows=flow_stats(db, now),
            totals=job_sql.counts_by_status(db),
            kinds=KINDS,
        )

    @web.get("/exchanges", response_class=HTMLResponse)
    def exchanges(request: Request, key: str = "") -> Response:
        found = search_exchanges(db, key.strip(), PAGE_SIZE) if key.strip() else []
        return pages.render(request, "exchanges.html", key=key, found=found, limit=PAGE_SIZE)

    @web.get("/trace", response_class=HTMLResponse)
    def trace_lookup(request: Request, kind: str = "deal", key: str = "") -> Response:
        if key.strip():
            where = f"/trace/{quote(kind, safe='')}/{quote(key.strip(), safe='')}"
            return RedirectResponse(where, status_code=303)
        return pages.render(request, "trace.html", kinds=KINDS, kind=kind, key="", entries=None)

    @web.get("/trace/{kind}/{key}", response_class=HTMLResponse)
    def trace(request: Request, kind: str, key: str) -> Response:
        try:
            entity, crm_id, entries = timeline(db, kind, key)
        except ConfigError as exc:
            missing: dict[str, Any] = {"entries": None, "error": exc.message, "status": 404}
            return pages.render(request, "trace.html", kinds=KINDS, kind=kind, key=key, **missing)
        found: dict[str, Any] = {"entries": entries, "entity": entity, "crm_id": crm_id}
        return pages.render(request, "trace.html", kinds=KINDS, kind=kind, key=key, **found)

    @web.get("/dead", response_class=HTMLResponse)
    def dead(request: Request, flow: str = "", error: str = "", retried: int = -1) -> Response:
        flt = JobFilter(status="dead", flow=flow or None, error_contains=error or None)
        listed: dict[str, Any] = {
            "jobs": job_sql.find(db, flt, PAGE_SIZE),
            "total": job_sql.count(db, flt),
            "flows": sorted(s.flow for s in flow_stats(db, app.clock.now())),
        }
        return pages.render(request, "dead.html", flow=flow, error=error, retried=retried, **listed)

    @web.post("/dead/retry")
    def retry_matching(
        request: Request,
        csrf: Annotated[str, Form()] = "",
        flow: Annotated[str, Form()] = "",
        error: Annotated[str, Form()] = "",
    ) -> Response:
        _check_csrf(request, csrf)
        flt = JobFilter(status="dead", flow=flow or None, error_contains=error or None)
        n = job_sql.replay_matching(db, flt, app.clock.now())
        query = urlencode({"flow": flow, "error": error, "retried": n})
        return RedirectResponse(f"/dead?{query}", status_code=303)

    @web.post("/jobs/{job_id}/retry")
    def retry(request: Request, job_id: int, csrf: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        n = job_sql.replay(db, [job_id], app.clock.now())
        return RedirectResponse(f"/dead?retried={n}", status_code=303)

    @web.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job(request: Request, job_id: int) -> Response:
        found = job_sql.get(db, job_id)
        if found is None:
            raise HTTPException(404, f"there is no job {job_id}")
        attempts = job_sql.attempts_of(db, job_id)
        return pages.render(request, "job.html", job=found, attempts=attempts)

    @web.get("/ownership", response_class=HTMLResponse)
    def ownership(request: Request) -> Response:
        config = app.config
        return pages.render(
            request, "ownership.html", ownership=config.ownership, mappings=config.mappings
        )

    _login_routes(web, pages)
    return web


def _login_routes(web: APIRouter, pages: Pages) -> None:
    @web.get("/login", response_class=HTMLResponse)
    def login_form(next: str = "/") -> Response:
        html, cookie = pages.login_page(next)
        return HTMLResponse(html, headers={"set-cookie": cookie, "cache-control": "no-store"})

    @web.post("/login")
    def login(
        request: Request,
        user: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(token.encode(), expected.encode()):
            html, cookie = pages.login_page(next, "The form expired; please log in again.")
            return HTMLResponse(html, 403, headers={"set-cookie": cookie})
        client = request.client.host if request.client else "?"
        if not pages.auth.may_try(client):
            html, cookie = pages.login_page(next, "Too many failed logins; wait a few minutes.")
            return HTMLResponse(html, 429, headers={"set-cookie": cookie, "retry-after": "300"})
        name = pages.auth.login(user.strip(), password)
        if name is None:
            pages.auth.failed(client)
            html, cookie = pages.login_page(next, "Wrong user name or password.")
            return HTMLResponse(html, 401, headers={"set-cookie": cookie})
        _, value = pages.auth.new_session(name)
        response = RedirectResponse(_local(next), status_code=303)
        secure = request.url.scheme == "https"
        response.headers.append(
            "set-cookie",
            cookie_header(SESSION_COOKIE, value, max_age=pages.auth.max_age, secure=secure),
        )
        return response

    @web.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        _check_csrf(request, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.headers.append(
            "set-cookie", cookie_header(SESSION_COOKIE, "", max_age=0, secure=False)
        )
        return response
