"""Makes docs/invoice-pdf.png: one invoice issued in the BAS sandbox, rendered, page 1 as PNG.

    .venv/bin/python docs/invoice_png.py   # needs pdftoppm (Debian: apt-get install poppler-utils)

The sandbox runs in this process (no port): the connector talks to its OData interface through
the same in-process caller the sandbox's print service uses, creates the invoice as the
issue_invoice flow does, and crmbridge.documents draws it. The date is fixed, so the picture only
changes when the form or the seed does.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx

from crmbridge import documents
from crmbridge.clock import FakeClock
from crmbridge.connectors.onec import objects
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.sandbox import seed as seeding
from crmbridge.sandbox.bas import BasSandbox
from crmbridge.sandbox.bas.printform import BASE, InProcess
from crmbridge.sandbox.bas.seeding import contract_ref
from crmbridge.sandbox.control import SandboxControl

OUT = Path(__file__).resolve().parent / "invoice-pdf.png"


def invoice_pdf(profile: str = "bas-buh") -> bytes:
    seed = seeding.build()
    sandbox = BasSandbox(seed, SandboxControl(), profile=profile)
    client = ODataClient(InProcess(sandbox.service), BASE, httpx.BasicAuth("", ""))
    bas = BasConnector.start(client, profile, FakeClock())
    party = seed.counterparties[0]
    header = objects.InvoiceHeader(
        organisation=seed.organisation.ref_key,
        counterparty=party.ref_key,
        contract=contract_ref(party.ref_key),
        currency=seed.currency_ref_key,
        date=datetime(2026, 3, 4, 10, 0),
        comment="Угода CRM № 1",
    )
    chosen = (seed.products[0], seed.products[1], *seed.products[6:8])  # two goods, two services
    lines = [
        objects.Line(p.ref_key, Decimal(n), p.price, p.vat_rate, p.is_service, p.name)
        for n, p in zip((10, 2, 1, 3), chosen, strict=True)
    ]
    created = objects.create_invoice(bas, header, lines)
    pdf = documents.invoice_pdf(bas.client, profile, str(created["Ref_Key"]))
    assert pdf is not None
    return pdf


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "invoice.pdf"
        source.write_bytes(invoice_pdf())
        page = Path(folder) / "page"
        command = ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run([*command, str(source), str(page)], check=True)
        OUT.write_bytes(page.with_suffix(".png").read_bytes())
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
