"""Settings that reach what they say they set (found unread in a review): the portal's request
timeout, and BAS's sessions shared among worker processes."""

from __future__ import annotations

import httpx
import pytest

from crmbridge.clock import SystemClock
from crmbridge.config.load import load_config
from crmbridge.connectors.bitrix24.settings import Bitrix24System
from crmbridge.connectors.bitrix24.system import bitrix24_connector
from crmbridge.connectors.onec.settings import BasSystem
from crmbridge.connectors.onec.system import port as bas_port
from crmbridge.errors import Retryable
from crmbridge.sandbox.bitrix24.rest import WEBHOOK_CODE
from crmbridge.systems import Wiring
from tests.e2e.conftest import EXAMPLE
from tests.support.sandbox import running_sandbox


def test_systems_crm_timeout_bounds_a_call_to_a_slow_portal() -> None:
    with running_sandbox() as sandbox, httpx.Client() as client:
        sandbox.control.set_fault("bitrix24", "slow", delay=5.0)
        settings = Bitrix24System(
            webhook_url=sandbox.bitrix24_webhook, application_token="t", timeout=0.5
        )
        connector = bitrix24_connector(
            settings, client, db=None, clock=SystemClock(), recorder=None
        )
        with pytest.raises(Retryable, match=r"(?i)time"):
            connector.get("deal", "1")
        assert WEBHOOK_CODE not in repr(connector)


def test_each_worker_process_takes_its_share_of_the_bas_sessions() -> None:
    with running_sandbox() as sandbox, httpx.Client() as client:
        user, password = sandbox.bas_credentials
        settings = BasSystem(
            odata_url=sandbox.odata_url, user=user, password=password, sessions=6, processes=3
        )
        config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url})
        wiring = Wiring(config.config, client, None, SystemClock(), None)
        accounting = bas_port(settings, wiring)
        assert accounting.connector.client._caller.limiter.limit == 2  # type: ignore[attr-defined]
