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
from crmbridge.sandbox.bas import metadata as sandbox_metadata
from crmbridge.sandbox.bas.profiles import profile as sandbox_profile
from crmbridge.sandbox.bas.schema import Schema

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


class ServesMetadata:
    """Answers `$metadata` with the current document and a create with 201; counts requests."""

    def __init__(self, document: str) -> None:
        self.document = document
        self.calls: list[str] = []

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self.calls.append(f"{method} {url.rsplit('/', 1)[-1].split('?')[0]}")
        request = httpx.Request(method, url)
        if url.endswith("$metadata"):
            return httpx.Response(200, content=self.document.encode(), request=request)
        return httpx.Response(
            201, json={"Ref_Key": "4f1c0d6e-aaaa-4bbb-8ccc-000000000001"}, request=request
        )


def test_a_field_added_by_a_configuration_update_is_found_after_a_re_read() -> None:
    before = sandbox_metadata.render(Schema(sandbox_profile("bas-buh")))
    marker = '<Property Name="КодФилиала" Type="Edm.String" Nullable="true"/>'
    after = before.replace(marker, marker + '<Property Name="IdCRM" Type="Edm.String"/>', 1)
    caller, clock = ServesMetadata(before), FakeClock()
    client = ODataClient(
        caller, "http://bas.local/buh/odata/standard.odata/", Utf8BasicAuth("Адміністратор", "pw")
    )
    bas = BasConnector.start(client, "bas-buh", clock)
    caller.document = after  # the infobase was updated meanwhile
    with pytest.raises(UnknownFields):
        bas.put("counterparty", {"Description": "ТОВ", "IdCRM": "7"})
    assert caller.calls == ["GET $metadata"]  # read recently: not read again, nothing sent
    clock.advance(601)
    assert bas.put("counterparty", {"Description": "ТОВ", "IdCRM": "7"})
    assert caller.calls[1:] == [
        "GET $metadata",
        "POST Catalog_%D0%9A%D0%BE%D0%BD%D1%82%D1%80%D0%B0%D0%B3%D0%B5%D0%BD%D1%82%D1%8B",
    ]
    with pytest.raises(UnknownFields):  # still unknown after a fresh read: refused
        clock.advance(601)
        bas.put("counterparty", {"IdCMR": "7"})
    assert caller.calls[-1] == "GET $metadata"
