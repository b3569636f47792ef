"""The connector contract, for Bitrix24 against the sandbox (kind: company), through an inbound
webhook and as an installed OAuth application."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24 import Bitrix24Connector
from crmbridge.sandbox.bitrix24 import records
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.integration.connectors.bitrix24_support import (
    APPLICATION_TOKEN,
    WEBHOOK_CODE,
    b24_app,
    sandbox_and_connector,
)
from tests.integration.connectors.contract import ConnectorContract, ContractAdapter, drain

EXTRA_COMPANIES = 60  # the seed has 7 companies; lists must span more than one page of 50


class Bitrix24Adapter:
    kind = "company"
    page_size = 50

    def __init__(
        self,
        sandbox: Sandbox,
        connector: Bitrix24Connector,
        secrets: list[str] | None = None,
        token: str = APPLICATION_TOKEN,
    ) -> None:
        self.sandbox = sandbox
        self.connector = connector
        self.secrets = secrets or [WEBHOOK_CODE, APPLICATION_TOKEN]
        self.token = token  # what the connector's deliveries must carry

    def new_record(self, n: int) -> Record:
        return {"TITLE": f"ТОВ «Контракт {n}»", "COMMENTS": "створено тестом", "REVENUE": "10.50"}

    def changed(self, record: Record) -> Record:
        return {"TITLE": f"{record['TITLE']} (змінено)"}

    def agrees(self, written: Record, read: Record) -> bool:
        return all(str(read.get(k)) == str(v) for k, v in written.items())

    def key_of(self, record: Record) -> str:
        return str(record["ID"])

    def missing_key(self) -> str:
        return "987654"

    def stored_keys(self) -> set[str]:
        with self.sandbox.bitrix24.portal.lock:
            return {str(k) for k in self.sandbox.bitrix24.portal.table("company")}

    def touch(self, key: str) -> None:
        self.sandbox.bitrix24.call("crm.company.update", {"id": key, "fields": {"COMMENTS": "x"}})

    def _delivery(self, token: str) -> bytes:
        pairs = self.sandbox.bitrix24.events.payload("ONCRMCOMPANYUPDATE", 5, 3)
        pairs = [(k, token if k == "auth[application_token]" else v) for k, v in pairs]
        return urlencode(pairs).encode()

    def authentic_webhook(self) -> tuple[bytes, Mapping[str, str], str]:
        return self._delivery(self.token), _FORM, "3"

    def forged_webhook(self) -> tuple[bytes, Mapping[str, str]]:
        return self._delivery("forged-" + self.token[:-1]), _FORM


_FORM = {"content-type": "application/x-www-form-urlencoded"}


class TestBitrix24Contract(ConnectorContract):
    def test_a_late_commit_inside_the_overlap_is_reported(self, adapter: Bitrix24Adapter) -> None:
        """A record that shows up after the cursor passed its (older) stamp is still found."""
        _, cursor = drain(adapter, None)
        portal = adapter.sandbox.bitrix24.portal
        with portal.lock:
            newest = max(r["DATE_MODIFY"] for r in portal.table("company").values())
            late_stamp = (datetime.fromisoformat(newest) - timedelta(seconds=20)).isoformat()
            late = records.new_company(portal.next_id("company"), datetime.now(UTC))
            late.update(TITLE="Запізнілий запис", DATE_MODIFY=late_stamp)
            portal.table("company")[int(late["ID"])] = late
        assert drain(adapter, cursor)[0] == [late["ID"]]

    @pytest.fixture(params=["webhook", "oauth"])
    def adapter(self, request: pytest.FixtureRequest, db: Database) -> Iterator[ContractAdapter]:
        with ExitStack() as stack:
            sandbox, connector = stack.enter_context(sandbox_and_connector(db))
            for n in range(EXTRA_COMPANIES):
                sandbox.bitrix24.call("crm.company.add", {"fields": {"TITLE": f"ФОП Дод {n}"}})
            if request.param == "webhook":
                yield Bitrix24Adapter(sandbox, connector)
                return
            client = stack.enter_context(httpx.Client())
            app, secrets = b24_app(sandbox, client, db=db)
            yield Bitrix24Adapter(
                sandbox, app, list(secrets.values()), secrets["application_token"]
            )
