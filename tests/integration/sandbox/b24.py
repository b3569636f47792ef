"""Helpers for the Bitrix24 emulator tests: a served portal, an event receiver, shape checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from crmbridge.clock import FakeClock
from crmbridge.sandbox.bitrix24 import Bitrix24Sandbox
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import build
from tests.support.servers import free_port, serve_app


@dataclass
class Portal:
    """A running emulator: its object, the webhook base URL and an HTTP client."""

    sandbox: Bitrix24Sandbox
    control: SandboxControl
    clock: FakeClock
    base: str
    client: httpx.Client

    @property
    def hook(self) -> str:
        return f"{self.base}/bitrix24/rest/1/sandbox/"

    def call(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(self.hook + method, json=params or {})

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = self.call(method, params)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def app(self, scopes: tuple[str, ...] = ("crm",)) -> App:
        """A fresh local application, installed (by user 1, an admin): `event.*` need one."""
        registered = self.sandbox.apps.register(scopes=list(scopes), handler="")
        return App(self, self.sandbox.install_app(registered.client_id).auth)


@dataclass
class App:
    """A local application calling `/rest/<method>` with its access token."""

    portal: Portal
    auth: dict[str, str]

    def call(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        url = f"{self.portal.base}/bitrix24/rest/{method}"
        return self.portal.client.post(
            url, json={**(params or {}), "auth": self.auth["access_token"]}
        )

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = self.call(method, params)
        assert response.status_code == 200, response.text
        return response.json()["result"]


@contextmanager
def running_portal(**options: Any) -> Iterator[Portal]:
    """Serve a fresh sandbox mounted at /bitrix24; options go to `Bitrix24Sandbox`."""
    control = options.pop("control", None) or SandboxControl()
    clock = FakeClock()
    options.setdefault("rate", None)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    sandbox = Bitrix24Sandbox(build(), control, public_url=public, clock=clock, **options)
    root = Starlette(routes=[*sandbox.oauth_routes(), Mount("/bitrix24", app=sandbox.app)])
    with ExitStack() as stack:
        stack.callback(sandbox.close)
        base = stack.enter_context(serve_app(root, port=port))
        client = stack.enter_context(httpx.Client(timeout=10))
        yield Portal(sandbox, control, clock, base, client)


@dataclass
class Receiver:
    """A small app that records the form bodies POSTed to it (an event handler)."""

    url: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    _cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        with self._cond:
            self.forms.append(dict(parse_qsl(body, keep_blank_values=True)))
            self.forms[-1]["__content_type__"] = request.headers.get("content-type", "")
            self._cond.notify_all()
        return PlainTextResponse("ok", status_code=self.status)

    def wait_for(
        self, predicate: Callable[[list[dict[str, str]]], bool], timeout: float = 5
    ) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.forms):
                left = deadline - time.monotonic()
                assert left > 0, f"condition not met; received {self.forms}"
                self._cond.wait(left)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    with serve_app(app) as base:
        receiver.url = base + "/hook"
        yield receiver


def shape(value: Any) -> Any:
    """A value's JSON shape: dicts by key, lists by their first item, scalars by type name."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"  # PHP prints 100 and 899.1 alike as JSON numbers
    return "null" if value is None else type(value).__name__


def assert_same_shape(
    recorded: Any, emulated: Any, path: str = "$", *, lenient: bool = False
) -> None:
    """Same keys (all of them unless `lenient`) and the same value types where both are set.

    `lenient` allows the emulator to print fewer keys than the recorded portal (whose custom
    fields and extra modules we do not model); every key it does print must match.
    """
    if isinstance(recorded, dict) and isinstance(emulated, dict):
        if lenient:
            assert set(emulated) <= set(recorded), f"{path}: extra {set(emulated) - set(recorded)}"
        else:
            assert set(emulated) == set(recorded), (
                f"{path}: missing {set(recorded) - set(emulated)}, "
                f"extra {set(emulated) - set(recorded)}"
            )
        for key in set(recorded) & set(emulated):
            assert_same_shape(recorded[key], emulated[key], f"{path}.{key}", lenient=lenient)
        return
    if isinstance(recorded, list) and isinstance(emulated, list):
        if recorded and emulated:
            assert_same_shape(recorded[0], emulated[0], f"{path}[0]", lenient=lenient)
        return
    left, right = shape(recorded), shape(emulated)
    if "null" in (left, right):
        return  # an empty reference on one side says nothing about the type
    assert left == right, f"{path}: recorded {left}, emulated {right}"


def wait_until(predicate: Callable[[], bool], timeout: float = 5) -> None:
    """Poll a condition on another thread's work until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)
