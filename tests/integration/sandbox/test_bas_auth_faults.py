"""What happens before OData sees a request: Basic auth, request counting, injected faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.sandbox.bas_support import Bas, basic, running

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "bas"


@pytest.fixture
def bas() -> Iterator[Bas]:
    with running("bas-buh", extension=True) as env:
        yield env


@pytest.mark.parametrize(
    "header",
    [
        None,
        basic("Адміністратор", "wrong"),
        basic("Administrator", "sandbox"),
        "Bearer abc",
        "Basic !!!not-base64",
    ],
)
def test_bad_or_missing_basic_auth_is_401_with_a_challenge(bas: Bas, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for url in (
        bas.odata + "Catalog_Валюты",
        f"{bas.root}/hs/crm/invoice/{bas.seed.counterparties[0].ref_key}/pdf",
    ):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic realm=")


def test_user_name_must_be_utf8_encoded(bas: Bas) -> None:
    # Latin-1 cannot encode the name at all; cp1251 bytes are not the UTF-8 name the server reads.
    wrong = basic("Адміністратор", "sandbox", encoding="cp1251")
    assert (
        httpx.get(bas.odata + "Catalog_Валюты", headers={"Authorization": wrong}).status_code == 401
    )
    right = basic("Адміністратор", "sandbox")
    assert (
        httpx.get(bas.odata + "Catalog_Валюты", headers={"Authorization": right}).status_code == 200
    )


def test_every_request_is_counted_by_entity_set(bas: Bas) -> None:
    bas.control.reset_stats()
    bas.get("Catalog_Валюты")
    bas.get("Catalog_Валюты(guid'00000000-0000-0000-0000-000000000000')")
    bas.get("$metadata")
    httpx.get(bas.odata + "Catalog_Валюты")  # unauthenticated requests count too
    stats = bas.control.stats()["bas"]
    assert stats["by_set"] == {"Catalog_Валюты": 3, "$metadata": 1}
    assert stats["requests"] == 4


def test_maintenance_answers_403_with_the_web_extension_exception(bas: Bas) -> None:
    bas.control.set_fault("bas", "maintenance")
    response = bas.get("Catalog_Валюты")
    assert response.status_code == 403
    body = response.json()
    recorded = json.loads((RECORDED / "onecdc_maintenance_403.json").read_text())
    assert body["#exception"] == recorded["#exception"]
    assert body["exception"]["reason"] == 403
    assert body["exception"]["inner"]["descr"] == recorded["exception"]["inner"]["descr"]
    assert "Начало сеанса с информационной базой запрещено" in body["exception"]["inner"]["descr"]
    bas.control.clear_faults("bas")
    assert bas.get("Catalog_Валюты").status_code == 200


def test_error500_fault_is_a_lock_conflict(bas: Bas) -> None:
    bas.control.set_fault("bas", "error500")
    response = bas.get("Catalog_Валюты")
    assert response.status_code == 500
    error = response.json()["odata.error"]
    assert error["code"] == "-1" and "Конфликт блокировок" in error["message"]["value"]


def test_slow_fault_still_answers(bas: Bas) -> None:
    bas.control.set_fault("bas", "slow", delay=0.0)
    assert bas.get("Catalog_Валюты").status_code == 200


def test_faults_hit_the_pdf_service_too(bas: Bas) -> None:
    invoice = bas.create_invoice()
    bas.control.set_fault("bas", "maintenance")
    url = f"{bas.root}/hs/crm/invoice/{invoice['Ref_Key']}/pdf"
    assert (
        httpx.get(url, headers={"Authorization": bas.client.headers["Authorization"]}).status_code
        == 403
    )
