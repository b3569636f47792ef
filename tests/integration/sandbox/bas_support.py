"""A running BAS sandbox on loopback and an httpx client for its OData interface."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from crmbridge.sandbox import seed as seed_module
from crmbridge.sandbox.bas import BasSandbox
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import Seed
from tests.support.servers import serve_app

INVOICES = "Document_СчетНаОплатуПокупателю"
EMPTY = "00000000-0000-0000-0000-000000000000"


def basic(user: str, password: str, encoding: str = "utf-8") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode(encoding)).decode()


AUTH = basic("Адміністратор", "sandbox")


@dataclass
class Bas:
    sandbox: BasSandbox
    control: SandboxControl
    seed: Seed
    root: str  # http://127.0.0.1:port/bas
    client: httpx.Client  # base URL .../standard.odata/, JSON, authenticated

    @property
    def profile(self) -> str:
        return self.sandbox.schema.name

    @property
    def odata(self) -> str:
        return f"{self.root}/odata/standard.odata/"

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.client.get(path, params=params)

    def value(self, path: str, **params: str) -> list[dict[str, Any]]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["value"]
        return rows

    def invoice_body(self, counterparty: int = 0, **extra: Any) -> dict[str, Any]:
        """A goods line and a service line, routed to sections the way the profile wants."""
        party = self.seed.counterparties[counterparty]
        goods, service = self.seed.products[0], self.seed.products[6]
        sections = self.sandbox.schema.profile["invoice_sections"]
        lines = {sections["goods"]: [_line(1, goods.ref_key, 2, goods.price, "НДС20")]}
        service_line = _line(
            len(lines.get(sections["services"], [])) + 1, service.ref_key, 1, service.price, "НДС20"
        )
        lines.setdefault(sections["services"], []).append(service_line)
        total = goods.price * 2 + service.price
        body = {
            "Date": "2026-03-04T10:00:00",
            "Организация_Key": self.seed.organisation.ref_key,
            "Контрагент_Key": party.ref_key,
            "ВалютаДокумента_Key": self.seed.currency_ref_key,
            "СуммаВключаетНДС": True,
            "СуммаДокумента": float(total),
            "Комментарий": "CRM deal 4711",
        }
        return body | lines | extra

    def create_invoice(self, **extra: Any) -> dict[str, Any]:
        response = self.client.post(INVOICES, json=self.invoice_body(**extra))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def _line(n: int, product: str, qty: int, price: Decimal, vat: str) -> dict[str, Any]:
    total = price * qty
    return {
        "LineNumber": str(n),
        "Номенклатура_Key": product,
        "Количество": qty,
        "Цена": float(price),
        "Сумма": float(total),
        "СтавкаНДС": vat,
        "СуммаНДС": float((total / 6).quantize(Decimal("0.01"))),
    }


@contextmanager
def running(profile: str, *, size: int = 20, extension: bool = False) -> Iterator[Bas]:
    """The infobase served on loopback; `extension` installs the one with the PDF service."""
    seed = seed_module.build(size)
    control = SandboxControl()
    sandbox = BasSandbox(seed, control, profile=profile, extension=extension)
    root = Starlette(routes=[Mount("/bas", app=sandbox.app)])
    with serve_app(root) as url:
        headers = {"Authorization": AUTH, "Accept": "application/json"}
        base = f"{url}/bas/odata/standard.odata/"
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            yield Bas(sandbox, control, seed, f"{url}/bas", client)


def pdf_text(data: bytes) -> str:
    """Text of a PDF: pypdf when installed (dev dependency), else poppler's pdftotext."""
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        tool = shutil.which("pdftotext")
        assert tool, "install pypdf (dev dependency) or poppler-utils to read PDFs in tests"
        done = subprocess.run([tool, "-", "-"], input=data, capture_output=True, check=True)
        return done.stdout.decode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
