"""Printed documents made by crmbridge from what BAS's OData interface gives.

Two halves with a plain value between them (`model.InvoicePrint`):
- `gather` reads the invoice and everything it prints over OData (I/O, through the client it
  is given; `sources` declares per profile where each configuration keeps what is printed);
- `draw` turns the value into PDF bytes with fpdf2 (pure; `words` writes the amount in words).

A standard BAS has no print service over HTTP, so this is how the invoice PDF is made by default
(`flows.issue_invoice.pdf: render`); a BAS extension's own print form is the other option.
"""

from __future__ import annotations

from crmbridge.documents.draw import render
from crmbridge.documents.gather import Reads, invoice_print
from crmbridge.documents.sources import sources


def invoice_pdf(reads: Reads, profile: str, ref: str) -> bytes | None:
    """The «Рахунок на оплату» PDF of invoice `ref`, or None if BAS has no such invoice."""
    data = invoice_print(reads, sources(profile), ref)
    return None if data is None else render(data)


__all__ = ["Reads", "invoice_pdf", "invoice_print", "render", "sources"]
