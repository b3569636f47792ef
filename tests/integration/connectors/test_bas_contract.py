"""The connector contract for BAS against the sandbox, both profiles (kind: invoice).

Invoices are documents, so `changes()` polls them by `Date` with the cursor's overlap, dedupe
and lag window; the sandbox gets invoices dated within the last hours (a user's edits to a
document older than the lag window are not polled — webhooks cover those).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.base import Record
from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.literals import format_datetime
from crmbridge.connectors.onec.webhooks import WebhookSecret, sign
from crmbridge.connectors.onec.wiring import connect
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.integration.connectors.bas_support import INVOICES, PROFILES, settings
from tests.integration.connectors.contract import ConnectorContract, ContractAdapter
from tests.support.sandbox import running_sandbox

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"contract-suite-bas-key-32-bytes!").decode()
PAGE_SIZE = 5
INVOICE_COUNT = 12
MISSING = "5b6f4c1e-0000-4000-8000-00000000dead"
_IGNORED = {"DataVersion", "Posted", "Number", "odata.metadata"}


def _same(written: Any, read: Any) -> bool:
    if isinstance(written, list):
        return (
            isinstance(read, list)
            and len(written) == len(read)
            and all(
                all(_same(v, r.get(k)) for k, v in w.items() if k != "Ref_Key")
                for w, r in zip(written, read, strict=True)
            )
        )
    if isinstance(written, Decimal | int | float) and not isinstance(written, bool):
        return Decimal(str(written)) == Decimal(str(read))
    return bool(written == read)


class BasAdapter:
    kind = "invoice"
    page_size = PAGE_SIZE

    def __init__(self, sandbox: Sandbox, connector: BasConnector, clock: FakeClock) -> None:
        self.sandbox = sandbox
        self.connector = connector
        self.clock = clock
        user, password = sandbox.bas_credentials
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.secrets = [password, token, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_")]

    def new_record(self, n: int) -> Record:
        seed = self.sandbox.seed
        product = seed.products[n % len(seed.products)]
        line = {
            "LineNumber": "1",
            "Номенклатура_Key": product.ref_key,
            "Количество": Decimal(n),
            "Цена": product.price,
            "Сумма": product.price * n,
            "СтавкаНДС": product.vat_rate,
        }
        return {
            "Date": format_datetime(datetime.now().replace(microsecond=0)),
            "Организация_Key": seed.organisation.ref_key,
            "Контрагент_Key": seed.counterparties[n % len(seed.counterparties)].ref_key,
            "СуммаДокумента": product.price * n,
            "Комментарий": f"CRM deal {n}",
            "Товары": [line],
        }

    def changed(self, record: Record) -> Record:
        return dict(record) | {"Комментарий": f"{record['Комментарий']} (змінено)"}

    def agrees(self, written: Record, read: Record) -> bool:
        fields = {
            k: v for k, v in written.items() if k not in _IGNORED and "@navigationLinkUrl" not in k
        }
        return all(_same(v, read.get(k)) for k, v in fields.items())

    def key_of(self, record: Record) -> str:
        return str(record["Ref_Key"])

    def missing_key(self) -> str:
        return MISSING

    def stored_keys(self) -> set[str]:
        return {str(i["Ref_Key"]) for i in self.sandbox.bas.invoices()}

    def touch(self, key: str) -> None:
        self.sandbox.bas.store.update(INVOICES, key, {"Комментарий": "змінено в BAS"}, None)

    def _delivery(self, secret: str) -> tuple[bytes, dict[str, str]]:
        key = sorted(self.stored_keys())[0]
        data = {"entity_set": INVOICES, "Ref_Key": key, "Number": "0001"}
        body = json.dumps({"type": "document.changed", "data": data}, ensure_ascii=False).encode()
        stamp = int(self.clock.now().timestamp())
        return body, sign(WebhookSecret(secret), "msg_contract_1", stamp, body)

    def authentic_webhook(self) -> tuple[bytes, Mapping[str, str], str]:
        body, headers = self._delivery(WEBHOOK_SECRET)
        return body, headers, json.loads(body)["data"]["Ref_Key"]

    def forged_webhook(self) -> tuple[bytes, Mapping[str, str]]:
        forged = "whsec_" + base64.b64encode(b"a key that is not the shared one").decode()
        return self._delivery(forged)


def seed_invoices(sandbox: Sandbox) -> None:
    """Invoices dated over the last hours, straight into the emulated infobase."""
    now = datetime.now().replace(microsecond=0)
    seed = sandbox.seed
    for n in range(INVOICE_COUNT):
        party = seed.counterparties[n % len(seed.counterparties)]
        sandbox.bas.store.create(
            INVOICES,
            {
                "Date": format_datetime(now - timedelta(minutes=10 * (INVOICE_COUNT - n))),
                "Организация_Key": seed.organisation.ref_key,
                "Контрагент_Key": party.ref_key,
                "Комментарий": f"seed {n}",
            },
        )


class TestBasContract(ConnectorContract):
    @pytest.fixture(params=PROFILES)
    def adapter(self, request: pytest.FixtureRequest, db: Database) -> Iterator[ContractAdapter]:
        clock = FakeClock(datetime.now().astimezone())
        with running_sandbox(profile=request.param, seed_size=6) as sandbox:
            seed_invoices(sandbox)
            config = settings(sandbox, page_size=PAGE_SIZE, webhook_secret=WEBHOOK_SECRET)
            with httpx.Client(timeout=10) as client:
                connector = connect(config, client, recorder=JournalRecorder(db), clock=clock)
                yield BasAdapter(sandbox, connector, clock)
