"""The BAS password never shows: not in reprs, logs, error messages or the exchange log."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest

from crmbridge.connectors.http import JournalRecorder
from crmbridge.connectors.onec import errors
from crmbridge.connectors.onec.wiring import BasSettings
from crmbridge.correlation import CallContext, bound
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from crmbridge.store.journal import exchanges_for
from tests.integration.connectors.bas_support import PROFILES, bas_connector, settings
from tests.support.sandbox import running_sandbox

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bas-signing-key-0123456789").decode()


@pytest.fixture(scope="module", params=PROFILES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with running_sandbox(profile=request.param, seed_size=6) as running:
        yield running


def secrets(sandbox: Sandbox) -> list[str]:
    user, password = sandbox.bas_credentials
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return [password, token, WEBHOOK_SECRET, WEBHOOK_SECRET[6:]]


def test_exchange_log_and_logs_hold_no_secret(
    sandbox: Sandbox, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    party = sandbox.seed.counterparties[0]
    with (
        caplog.at_level(logging.DEBUG),
        bound(CallContext("corr-bas-1", business_key="edrpou:1")),
        bas_connector(sandbox, recorder=JournalRecorder(db), webhook_secret=WEBHOOK_SECRET) as bas,
    ):
        bas.get("counterparty", party.ref_key)
        ref = bas.put("counterparty", {"Description": "ТОВ «Захист»"})
        bas.put("counterparty", {"Комментарий": "з CRM"}, key=ref)
        with pytest.raises(errors.NotFound) as caught:
            bas.invoice_pdf(ref)
        text = [repr(bas), repr(bas.client), str(caught.value), caplog.text]
    rows = exchanges_for(db, correlation_id="corr-bas-1")
    operations = [r["operation"] for r in rows]
    assert operations == [
        "odata.metadata",
        "odata.get",
        "odata.create",
        "odata.update",
        "hs.invoice_pdf",
    ]
    assert rows[1]["status"] == 200 and party.name in rows[1]["response_body"]
    assert {r["business_key"] for r in rows} == {"edrpou:1"}  # the job's, not the Ref_Key
    assert rows[-1]["status"] == 404
    stored = [str(v) for r in rows for v in r.values()]
    for secret in secrets(sandbox):
        assert not [t for t in stored + text if secret in t], secret


def test_settings_repr_hides_password_and_webhook_secret(sandbox: Sandbox) -> None:
    shown = repr(settings(sandbox, webhook_secret=WEBHOOK_SECRET))
    assert sandbox.bas_credentials[1] not in shown and WEBHOOK_SECRET not in shown
    assert isinstance(settings(sandbox), BasSettings)
