"""Who may use the dashboard and the management API, and CSRF protection of the dashboard.

- `/api/*` and `/metrics` take `Authorization: Bearer <web.token>` or HTTP Basic with a
  `web.users` password (machines: scripts, Prometheus).
- The dashboard takes a signed session cookie (HttpOnly, SameSite=Strict) given by the login
  form. Every state-changing dashboard action is a POST carrying the session's CSRF token.
- `/hooks/*` (they check their own application token or signature), `/healthz`, `/readyz`,
  `/login` and `/static/*` are open.

The gate is an ASGI middleware that denies by default: a route mounted later (such as
`/metrics`) is protected without knowing about it. Secrets are compared with
`hmac.compare_digest` and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmbridge.config.model import WebSettings

SESSION_COOKIE = "crmbridge_session"
LOGIN_COOKIE = "crmbridge_login"  # double-submit token of the login form
OPEN_PREFIXES = ("/hooks/", "/static/")
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/login", "/favicon.ico"})
MACHINE_PREFIXES = ("/api/", "/metrics")
FAILED_LOGINS = 10  # per client address and window, then 429 until the window passes
FAILED_WINDOW = 300.0  # seconds


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str


class Auth:
    """Checks credentials and issues/reads sessions. `enabled=False` is `serve --no-auth`."""

    def __init__(
        self,
        settings: WebSettings,
        *,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self._monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._failures_lock = threading.Lock()
        self._token = settings.token.get_secret_value() if settings.token else None
        self._users = {name: pw.get_secret_value() for name, pw in settings.users.items()}
        secret = settings.session_secret
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        self._signer = URLSafeTimedSerializer(key, salt="crmbridge-session")
        self.max_age = int(settings.session_hours * 3600)

    def login(self, user: str, password: str) -> str | None:
        """The session's user name when the pair is right: a user and password, or a blank
        user with the token."""
        if not user and self._token is not None and _same(password, self._token):
            return "token"
        expected = self._users.get(user)
        # Compare against something even for an unknown user, so timing does not tell names.
        ok = _same(password, expected if expected is not None else secrets.token_hex(16))
        return user if ok and expected is not None else None

    def may_try(self, client: str) -> bool:
        """False while `client` has had too many failed logins in the window (this process).

        Loopback clients are never held back: this machine's own tools and checks (a proxy on
        this host passes the real address in X-Forwarded-For, which uvicorn trusts from it)."""
        if _loopback(client):
            return True
        with self._failures_lock:
            recent = self._failures.get(client)
            if recent is None:
                return True
            while recent and recent[0] < self._monotonic() - FAILED_WINDOW:
                recent.popleft()
            if not recent:
                del self._failures[client]
            return len(recent) < FAILED_LOGINS

    def failed(self, client: str) -> None:
        if _loopback(client):
            return
        with self._failures_lock:
            if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                self._failures.clear()
            self._failures.setdefault(client, deque()).append(self._monotonic())

    def machine(self, authorization: str | None) -> str | None:
        """The caller of `/api` from its Authorization header: bearer token or Basic user."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self._token is not None:
            return "token" if _same(value.strip(), self._token) else None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.login(user, password) if user else None
        return None

    def new_session(self, user: str) -> tuple[Session, str]:
        session = Session(user, secrets.token_urlsafe(24))
        return session, self._signer.dumps({"u": session.user, "c": session.csrf})

    def session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not {"u", "c"} <= data.keys():
            return None
        return Session(str(data["u"]), str(data["c"]))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def csrf_ok(session: Session | None, submitted: object) -> bool:
    return session is not None and isinstance(submitted, str) and _same(submitted, session.csrf)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def cookie_header(name: str, value: str, *, max_age: int, secure: bool, path: str = "/") -> str:
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}", "HttpOnly"]
    parts.append("SameSite=Strict")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def cookies_of(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no session
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return bytes(value).decode("latin-1")
    return None


class AuthGate:
    """ASGI middleware: open paths pass, `/api` and `/metrics` need a token or Basic user, the
    rest needs a session; a dashboard request without one gets 401 and the login form
    (`login_page(next_path)` gives its HTML and the Set-Cookie of its double-submit token).
    The session is put in `scope["state"]["session"]`."""

    def __init__(
        self, app: ASGIApp, auth: Auth, login_page: Callable[[str], tuple[str, str]]
    ) -> None:
        self.app, self.auth, self.login_page = app, auth, login_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
        elif path.startswith(MACHINE_PREFIXES) or path == "/api":
            await self._machine(scope, receive, send)
        else:
            await self._dashboard(scope, receive, send)

    async def _machine(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.auth.enabled:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?",))[0]
        if not self.auth.may_try(client):
            body = b'{"error":"too many failed logins; wait a few minutes"}'
            await _respond(send, 429, body, "application/json", [(b"retry-after", b"300")])
            return
        given = _header(scope, b"authorization")
        if self.auth.machine(given) is None:
            if given:
                self.auth.failed(client)
            body = b'{"error":"credentials required: Authorization: Bearer <token> or Basic"}'
            await _respond(send, 401, body, "application/json", [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)

    async def _dashboard(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = self.auth.session(cookies_of(scope).get(SESSION_COOKIE))
        if session is None and self.auth.enabled:
            page, cookie = self.login_page(scope["path"] if scope["method"] == "GET" else "/")
            headers = [(b"set-cookie", cookie.encode("latin-1"))]
            await _respond(send, 401, page.encode(), "text/html; charset=utf-8", headers)
            return
        extra: list[tuple[bytes, bytes]] = []
        if session is None:  # --no-auth: an anonymous session, so forms still carry a CSRF token
            session, cookie = self.auth.new_session("anonymous")
            secure = scope.get("scheme") == "https"
            value = cookie_header(SESSION_COOKIE, cookie, max_age=self.auth.max_age, secure=secure)
            extra.append((b"set-cookie", value.encode("latin-1")))
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, _adding_headers(send, extra) if extra else send)


def _adding_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *headers]}
        await send(message)

    return wrapped


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, headers: list[tuple[bytes, bytes]]
) -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *headers,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})
