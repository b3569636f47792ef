"""Recorded 1C answers (`tests/fixtures/recorded/bas`) through the connector's record handling."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from crmbridge.connectors.onec.client import decode
from crmbridge.connectors.onec.connector import writable
from crmbridge.connectors.onec.cursor import DocumentCursor

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "bas"


def recorded(name: str) -> Any:
    return decode(httpx.Response(200, content=(RECORDED / name).read_bytes()))


def test_recorded_document_numbers_decode_exactly() -> None:
    [doc] = recorded("bp30_document_realizaciya_collection.json")["value"]
    first = doc["Товары"][0]
    assert first["СуммаНДС"] == Decimal("22729.17")  # Edm.Double, not a float
    assert first["Количество"] == 25 and first["LineNumber"] == "1"  # Int64 comes as a string
    assert doc["КратностьВзаиморасчетов"] == "1"
    assert sum(Decimal(str(r["Сумма"])) for r in doc["Товары"]) == Decimal(
        str(doc["СуммаДокумента"])
    )


def test_recorded_entity_put_back_drops_what_1c_only_echoes() -> None:
    entity = recorded("bp30_catalog_kontragenty_entity.json")
    body, version = writable(entity)
    assert version == "AAAAAQAAAAA="
    assert not [k for k in body if "@navigationLinkUrl" in k]
    assert {"DataVersion", "Predefined", "PredefinedDataName"}.isdisjoint(body)
    assert body["ИНН"] == "5024089920" and body["КонтактнаяИнформация"] == []


def test_recorded_rows_lose_the_repeated_owner_key_only() -> None:
    [doc] = recorded("bp30_document_realizaciya_collection.json")["value"]
    body, version = writable(doc)
    assert version == "AAAACgAAAAA=" and "Posted" not in body  # read, so posting is not ours
    assert [
        sorted(set(r) ^ set(o)) for r, o in zip(body["Товары"], doc["Товары"], strict=True)
    ] == [
        ["Ref_Key"],
        ["Ref_Key"],
    ]
    assert body["Товары"][1]["LineNumber"] == "2"


def test_a_mapping_written_posted_flag_is_kept_for_the_field_check_to_refuse() -> None:
    body, version = writable({"Posted": True, "Комментарий": "x"})
    assert version is None and body == {"Posted": True, "Комментарий": "x"}


def test_cursor_over_a_recorded_page() -> None:
    page = recorded("bp30_document_realizaciya_collection.json")["value"]
    cursor = DocumentCursor().after(page, timedelta(days=1))
    assert cursor.since == datetime(2021, 12, 22, 17, 22, 8)
    assert not cursor.is_new(page[0])
