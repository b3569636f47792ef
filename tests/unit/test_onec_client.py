from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from crmbridge.connectors.onec.client import decode, encode, publication_root
from crmbridge.connectors.onec.wiring import maintenance_throttle
from crmbridge.errors import Permanent
from crmbridge.sandbox.bas.errors import ODataError, json_error, maintenance_body


def test_publication_root_strips_the_odata_suffix() -> None:
    url = "http://host/base/odata/standard.odata/"
    assert publication_root(url) == "http://host/base/"
    assert publication_root(url.rstrip("/")) == "http://host/base/"
    with pytest.raises(ValueError):
        publication_root("http://host/base/hs/crm/")


def test_encode_writes_decimals_as_plain_json_numbers() -> None:
    body = {"Сумма": Decimal("1234.56"), "Кількість": Decimal(3), "Big": Decimal("1E+20")}
    text = encode(body).decode()
    assert '"Сумма": 1234.56' in text and '"Кількість": 3' in text
    assert json.loads(text)["Big"] == 10**20
    with pytest.raises(TypeError):
        encode({"x": object()})


def test_decode_keeps_money_exact() -> None:
    response = httpx.Response(200, content='{"Цена": 0.1, "LineNumber": "1"}'.encode())
    assert decode(response) == {"Цена": Decimal("0.1"), "LineNumber": "1"}
    with pytest.raises(Permanent):
        decode(httpx.Response(200, content=b"<html>"))


def test_maintenance_body_pauses_other_errors_do_not() -> None:
    throttle = maintenance_throttle(30)
    assert throttle(httpx.Response(403, content=maintenance_body("GET", "/x").encode())) == 30
    assert throttle(httpx.Response(429)) == 1.0
    rights = json_error(ODataError(403, "20", "Недостаточно прав"), "ru")
    assert throttle(httpx.Response(403, content=rights.encode())) is None
    assert throttle(httpx.Response(500, content=b"")) is None
