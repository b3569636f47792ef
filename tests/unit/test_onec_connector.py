"""What the BAS connector decides before any request: kinds, published sets, field checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.base import WebhookRejected
from crmbridge.connectors.onec import metadata
from crmbridge.connectors.onec.auth import Utf8BasicAuth
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.connector import BasConnector, UnknownFields
from crmbridge.connectors.onec.profile import PROFILES
from crmbridge.errors import Permanent

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "bas"


class NoNetwork:
    """A caller that must not be called: everything here is decided locally."""

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        raise AssertionError(f"unexpected request {method} {url}")


@pytest.fixture
def bas() -> BasConnector:
    schema = metadata.parse((RECORDED / "datex_metadata_excerpt.xml").read_bytes())
    client = ODataClient(
        NoNetwork(),
        "http://bas.local/buh/odata/standard.odata/",
        Utf8BasicAuth("Адміністратор", "secret-pw"),
    )
    return BasConnector(client, PROFILES["bas-buh"], schema, FakeClock())


def test_a_set_outside_the_composition_is_permanent(bas: BasConnector) -> None:
    with pytest.raises(Permanent, match="not in the OData composition"):
        bas.get("invoice", "5b6f4c1e-0000-4000-8000-000000000000")
    with pytest.raises(Permanent, match="no kind"):
        bas.get("deal", "1")


def test_unknown_fields_fail_before_any_request(bas: BasConnector) -> None:
    with pytest.raises(UnknownFields) as caught:
        bas.put("counterparty", {"Description": "ТОВ", "КодЄДРПОУ": "1"})
    assert "КодЄДРПОУ" in str(caught.value)


def test_webhooks_without_a_secret_are_rejected(bas: BasConnector) -> None:
    with pytest.raises(WebhookRejected):
        bas.parse_webhook(b"{}", {})


def test_repr_names_the_publication_not_the_credentials(bas: BasConnector) -> None:
    assert "secret-pw" not in repr(bas) and "bas.local/buh" in repr(bas)
