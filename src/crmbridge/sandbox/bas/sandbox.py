"""`BasSandbox`: one emulated BAS/1C infobase with its web publication, ready to mount at `/bas`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette

from crmbridge.sandbox.bas import printform, seeding
from crmbridge.sandbox.bas.accounting import INVOICES, Accounting
from crmbridge.sandbox.bas.app import create_app
from crmbridge.sandbox.bas.odata import ODataService
from crmbridge.sandbox.bas.pages import InvoiceRow
from crmbridge.sandbox.bas.profiles import profile as load_profile
from crmbridge.sandbox.bas.query import Options
from crmbridge.sandbox.bas.schema import Schema
from crmbridge.sandbox.bas.store import Store
from crmbridge.sandbox.control import SandboxControl
from crmbridge.sandbox.seed import Seed

USER = "Адміністратор"
PASSWORD = "sandbox"


def _local_now() -> datetime:
    # 1C dates are naive wall-clock time of the server
    return datetime.now().replace(microsecond=0)


def _composition(spec: dict[str, Any], unpublished: Iterable[str]) -> dict[str, Any]:
    """The profile with `unpublished` sets left out of the OData composition: they exist in the
    infobase but answer 404, as on a server whose administrator has not published them."""
    for name in unpublished:
        if name not in spec["sets"]:
            raise ValueError(f"the {spec['name']} profile has no entity set {name}")
        spec["sets"][name]["published"] = False
    return spec


class BasSandbox:
    """The emulator of a BAS Бухгалтерія (`bas-buh`) or 1С:БП 3.0 (`bp30`) infobase.

    `extension` installs the optional crmbridge extension, whose HTTP service serves the invoice
    PDF at `hs/crm/invoice/<Ref_Key>/pdf`. A plain BAS has no such service: without it that path
    is unknown to the publication and answers 404, as every other unknown path does."""

    def __init__(
        self,
        seed: Seed,
        control: SandboxControl,
        *,
        profile: str = "bas-buh",
        now: Callable[[], datetime] = _local_now,
        extension: bool = False,
        unpublished: Iterable[str] = (),
    ) -> None:
        self.seed = seed
        self.control = control
        self.extension = extension
        self.schema = Schema(_composition(load_profile(profile), unpublished))
        self.store = Store(self.schema, now)
        self.service = ODataService(self.schema, self.store, now)
        self.accounting = Accounting(self.schema, self.store, now)
        self.credentials = (USER, PASSWORD)
        self.lang = str(self.schema.profile["lang"])
        seeding.load(self.store, seed)
        self.app: Starlette = create_app(self)

    # state --------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return self.store.snapshot()

    def restore(self, data: dict[str, Any]) -> None:
        self.store.restore(data)

    # helpers for tests and the demo ---------------------------------------------------------
    def invoice(self, ref: str) -> dict[str, Any]:
        """The invoice as `GET Document_СчетНаОплатуПокупателю(guid'…')?$format=json` shows it."""
        entity = self.schema.sets[INVOICES]
        with self.store.locked():
            row = self.store.get(INVOICES, ref)
            return self.service.wire.entity(entity, row, Options(metadata="nometadata"))

    def invoices(self) -> list[dict[str, Any]]:
        with self.store.locked():
            refs = [row["Ref_Key"] for row in self.store.rows(INVOICES)]
            return [self.invoice(ref) for ref in refs]

    def paid(self, invoice_ref: str) -> Decimal:
        """What posted bank and cash receipts have paid on the invoice so far."""
        return self.accounting.paid(invoice_ref)

    def record_payment(self, invoice_ref: str, amount: Decimal | None = None) -> str:
        """Create and post a bank receipt for the rest of the invoice (or `amount`); its Ref_Key."""
        return self.accounting.record_payment(invoice_ref, amount)

    def invoice_pdf(self, ref: str) -> bytes | None:
        """What the extension's print service returns for `ref` (None: no such invoice)."""
        return printform.invoice_pdf(self.service, ref)

    def summaries(self) -> list[InvoiceRow]:
        rows = []
        with self.store.locked():
            for inv in sorted(self.store.rows(INVOICES), key=lambda r: (r["Date"], r["Number"])):
                party = self.store.find("Catalog_Контрагенты", inv["Контрагент_Key"]) or {}
                rows.append(
                    InvoiceRow(
                        ref=inv["Ref_Key"],
                        number=inv["Number"],
                        date=inv["Date"],
                        counterparty=str(party.get("Description", "")),
                        total=inv["СуммаДокумента"],
                        posted=inv["Posted"],
                        paid=self.paid(inv["Ref_Key"]),
                    )
                )
        return rows
