"""One sandbox process: both emulators on one port, plus the control endpoints and an index page.

`GET /sandbox/stats` and `POST /sandbox/faults` are for tests and benchmarks;
`/sandbox/bitrix24/...` does what a portal admin does in the UI (`bitrix24/admin.py`); `/` links
the two demo pages. With a state file the emulators' data is saved every few seconds and at
shutdown, and loaded at start, so a restart keeps what the demo did.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from crmbridge.sandbox import seed as seeding
from crmbridge.sandbox.bas.sandbox import PASSWORD, USER, BasSandbox
from crmbridge.sandbox.bitrix24 import admin as bitrix24_admin
from crmbridge.sandbox.bitrix24.sandbox import Bitrix24Sandbox
from crmbridge.sandbox.control import FAULT_MODES, SYSTEMS, SandboxControl

log = logging.getLogger("crmbridge.sandbox")
STATE_VERSION = 2  # 2: the BAS seed holds what the invoice print form reads


@dataclass(frozen=True)
class SandboxSettings:
    public_url: str = "http://127.0.0.1:8765"
    seed_size: int = 20
    b24_rate: float | None = 2.0
    b24_burst: int = 50
    outgoing_webhook: str | None = None
    profile: str = "bas-buh"
    bas_extension: bool = False  # the optional BAS extension with the invoice PDF service
    unpublished: tuple[str, ...] = ()  # BAS entity sets left out of the OData composition
    state_file: Path | None = None
    save_every: float = 2.0
    fresh_portal: bool = False  # the portal without crmbridge's deal user fields


class FaultRequest(BaseModel):
    system: str = Field(pattern="^(" + "|".join(SYSTEMS) + ")$")
    mode: str = Field(pattern="^(" + "|".join(FAULT_MODES) + ")$")
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    duration: float | None = Field(default=None, gt=0)
    delay: float = Field(default=2.0, ge=0.0, le=120.0)


class Sandbox:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.control = SandboxControl()
        self.seed = seeding.build(settings.seed_size)
        self.bitrix24 = Bitrix24Sandbox(
            self.seed,
            self.control,
            rate=settings.b24_rate,
            burst=settings.b24_burst,
            outgoing_webhook=settings.outgoing_webhook,
            public_url=settings.public_url,
            user_fields=not settings.fresh_portal,
        )
        self.bas = BasSandbox(
            self.seed,
            self.control,
            profile=settings.profile,
            extension=settings.bas_extension,
            unpublished=settings.unpublished,
        )
        self._saving = threading.Event()
        if settings.state_file is not None and settings.state_file.exists():
            self.load(settings.state_file)
        self.app = self._build_app()

    # addresses ----------------------------------------------------------------------------
    @property
    def bitrix24_webhook(self) -> str:
        return self.bitrix24.webhook_url

    @property
    def odata_url(self) -> str:
        return f"{self.settings.public_url}/bas/odata/standard.odata/"

    @property
    def bas_credentials(self) -> tuple[str, str]:
        return USER, PASSWORD

    def addresses(self) -> dict[str, str]:
        base = self.settings.public_url
        pdf = f"{base}/bas/hs/crm/invoice/<Ref_Key>/pdf"
        return {
            "Bitrix24 inbound webhook": self.bitrix24_webhook,
            "Bitrix24 application token": "sandbox-app-token",
            "BAS OData": f"{self.odata_url} (user {USER}, password {PASSWORD})",
            "BAS invoice PDF": pdf if self.settings.bas_extension else "off (--bas-extension)",
            "CRM deals page": f"{base}/bitrix24/",
            "BAS invoices page": f"{base}/bas/",
            "stats": f"{base}/sandbox/stats",
        }

    # state --------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "seed_size": self.settings.seed_size,
            "profile": self.settings.profile,
            "bitrix24": self.bitrix24.snapshot(),
            "bas": self.bas.snapshot(),
        }

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # atomic: a crash mid-write leaves the previous state

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION or data.get("profile") != self.settings.profile:
            raise ValueError(
                f"{path} holds sandbox state of another version or profile; remove it to start over"
            )
        self.bitrix24.restore(data["bitrix24"])
        self.bas.restore(data["bas"])

    def close(self) -> None:
        self.bitrix24.close()

    # web ----------------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        routes = [
            Route("/", self._index),
            Route("/sandbox/stats", self._stats, methods=["GET"]),
            Route("/sandbox/stats/reset", self._reset_stats, methods=["POST"]),
            Route("/sandbox/faults", self._faults, methods=["POST", "DELETE"]),
            Mount("/sandbox/bitrix24", routes=bitrix24_admin.routes(self.bitrix24)),
            *self.bitrix24.oauth_routes(),
            Mount("/bitrix24", app=self.bitrix24.app),
            Mount("/bas", app=self.bas.app),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        saver = None
        if self.settings.state_file is not None:
            saver = threading.Thread(target=self._save_loop, name="sandbox-state", daemon=True)
            saver.start()
        try:
            yield
        finally:
            self._saving.set()
            if saver is not None:
                saver.join(timeout=10)
            self.close()

    def _save_loop(self) -> None:
        path = self.settings.state_file
        assert path is not None
        while not self._saving.wait(self.settings.save_every):
            self.save(path)
        self.save(path)

    def _stats(self, _request: Request) -> Response:
        return JSONResponse(self.control.stats())

    def _reset_stats(self, _request: Request) -> Response:
        self.control.reset_stats()
        return JSONResponse(self.control.stats())

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.control.clear_faults()
            return JSONResponse({"faults": "cleared"})
        try:
            fault = FaultRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]}
                for e in exc.errors()
            ]
            return JSONResponse({"error": "invalid fault", "details": errors}, status_code=400)
        self.control.set_fault(
            fault.system,  # type: ignore[arg-type]
            fault.mode,  # type: ignore[arg-type]
            rate=fault.rate,
            duration=fault.duration,
            delay=fault.delay,
        )
        return JSONResponse(fault.model_dump(), status_code=201)

    def _index(self, _request: Request) -> Response:
        items = "".join(
            f"<li><b>{html.escape(name)}</b>: <code>{html.escape(value)}</code></li>"
            for name, value in self.addresses().items()
        )
        body = (
            "<!doctype html><meta charset='utf-8'><title>crmbridge sandbox</title>"
            "<h1>crmbridge sandbox</h1><p>Emulated Bitrix24 portal and BAS infobase.</p>"
            "<p><a href='/bitrix24/'>CRM deals</a> · <a href='/bas/'>BAS invoices</a></p>"
            f"<ul>{items}</ul>"
        )
        return HTMLResponse(body)
