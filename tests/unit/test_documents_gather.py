"""Gathering print data from 1C records: what each field is made of, read through a fake of the
two OData reads (`read`, `function`), so the choices are checked without a server."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from crmbridge.connectors.onec.errors import NotFound
from crmbridge.documents.gather import invoice_print
from crmbridge.documents.model import Account, Line, Party
from crmbridge.documents.sources import sources

ORG, BUYER, INV = "0b3c8a52-0000-4000-8000-000000000001", "0002", "0003"
LEGAL, POSTAL = "k-legal", "k-postal"


class FakeOData:
    def __init__(self, objects: dict[tuple[str, str], dict[str, Any]], vat: Any) -> None:
        self.objects, self.vat = objects, vat
        self.calls: list[tuple[str, str]] = []

    def read(self, entity_set: str, ref: str, select: tuple[str, ...] = ()) -> dict[str, Any]:
        self.calls.append((entity_set, ref))
        if (entity_set, ref) not in self.objects:
            raise NotFound("no such object", status=404)
        return dict(self.objects[(entity_set, ref)])

    def function(
        self, entity_set: str, function: str, params: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        assert function == "SliceLast" and ORG in params["Condition"]
        assert params["Period"] == "datetime'2026-03-04T10:00:00'"
        if isinstance(self.vat, Exception):
            raise self.vat
        return self.vat


def _row(n: int, product: str, qty: int, price: int, **extra: Any) -> dict[str, Any]:
    amount = qty * price
    row = {"LineNumber": str(n), "Номенклатура_Key": product, "Количество": qty, "Цена": price}
    return row | {"Сумма": amount, "СуммаНДС": Decimal(amount) / 6} | extra


def infobase() -> dict[tuple[str, str], dict[str, Any]]:
    contacts = [
        {"LineNumber": "1", "Тип": "Телефон", "Вид_Key": "k-phone", "Представление": "+380 44"},
        {"LineNumber": "2", "Тип": "Адрес", "Вид_Key": POSTAL, "Представление": "а/с 15, Київ"},
        {"LineNumber": "3", "Тип": "Адрес", "Вид_Key": LEGAL, "Представление": "м. Київ, 1"},
    ]
    return {
        ("Document_СчетНаОплатуПокупателю", INV): {
            "Ref_Key": INV, "Number": "СБ00-000007", "Date": "2026-03-04T10:00:00",
            "Организация_Key": ORG, "Контрагент_Key": BUYER, "ДоговорКонтрагента_Key": "c1",
            "СтруктурнаяЕдиница_Key": "00000000-0000-0000-0000-000000000000",
            "СуммаВключаетНДС": True, "СуммаДокумента": Decimal("1300.00"),
            "Услуги": [_row(1, "p-svc", 1, 100, Содержание="Монтаж, березень")],
            "Товары": [_row(2, "p-box", 1, 200), _row(1, "p-box", 5, 200)],
        },
        ("Catalog_Организации", ORG): {
            "Ref_Key": ORG, "Description": "Сандбокс", "НаименованиеПолное": "ТОВ «Сандбокс»",
            "КодПоЕДРПОУ": "43987125", "ИНН": "439871226598",
            "ОсновнойБанковскийСчет_Key": "acc", "КонтактнаяИнформация": contacts,
        },
        ("Catalog_ВидыКонтактнойИнформации", LEGAL): {"PredefinedDataName": "ЮрАдресОрганизации"},
        ("Catalog_ВидыКонтактнойИнформации", POSTAL): {"PredefinedDataName": "ПочтовыйАдрес"},
        ("Catalog_БанковскиеСчета", "acc"): {"НомерСчета": "UA2132231300", "Банк_Key": "bank"},
        ("Catalog_Банки", "bank"): {"Code": "322313", "Description": "АТ «Банк»"},
        ("Catalog_Контрагенты", BUYER): {
            "Description": "Петренко", "КодПоЕДРПОУ": "3012345678", "ИНН": "3012345678",
        },
        ("Catalog_ДоговорыКонтрагентов", "c1"): {
            "Description": "Основний договір", "Номер": "Д-7", "Дата": "2025-01-02T00:00:00",
        },
        ("Catalog_Номенклатура", "p-box"): {
            "НаименованиеПолное": "Коробка", "БазоваяЕдиницаИзмерения_Key": "u1",
        },
        ("Catalog_Номенклатура", "p-svc"): {"Description": "Монтаж"},
        ("Catalog_КлассификаторЕдиницИзмерения", "u1"): {"Description": "шт"},
    }  # fmt: skip


def test_every_field_comes_from_its_record() -> None:
    reads = FakeOData(infobase(), [{"ПлательщикНДС": True}])
    data = invoice_print(reads, sources("bas-buh"), INV)
    assert data is not None
    assert (data.number, data.date) == ("СБ00-000007", datetime(2026, 3, 4, 10, 0))
    assert data.supplier == Party("ТОВ «Сандбокс»", ("код за ЄДРПОУ 43987125",), "м. Київ, 1")
    assert data.account == Account("UA2132231300", "АТ «Банк»", "МФО 322313")  # the main one
    assert data.vat_status == "Платник ПДВ, ІПН 439871226598"
    assert data.buyer == Party("Петренко", ("РНОКПП 3012345678",))  # a ФОП; ІПН not twice
    assert data.contract == "Основний договір № Д-7 від 02.01.2025"
    assert data.lines == (
        Line(1, "Коробка", Decimal(5), "шт", Decimal(200), Decimal(1000)),
        Line(2, "Коробка", Decimal(1), "шт", Decimal(200), Decimal(200)),
        Line(3, "Монтаж, березень", Decimal(1), "", Decimal(100), Decimal(100)),
    )
    assert data.vat == Decimal(1300) / 6 and data.vat_included and data.total == Decimal(1300)
    assert reads.calls.count(("Catalog_Номенклатура", "p-box")) == 1  # read once


def status(objects: dict[tuple[str, str], dict[str, Any]], vat: Any) -> str:
    data = invoice_print(FakeOData(objects, vat), sources("bas-buh"), INV)
    assert data is not None
    return data.vat_status


def test_vat_status_falls_back_to_the_invoices_vat_when_the_register_says_nothing() -> None:
    objects = infobase()
    assert status(objects, [{"ПлательщикНДС": False}]) == "Не є платником ПДВ"
    assert status(objects, NotFound("not in the composition", status=404)).startswith("Платник")
    invoice = objects[("Document_СчетНаОплатуПокупателю", INV)]
    for row in invoice["Товары"] + invoice["Услуги"]:
        row["СуммаНДС"] = 0
    assert status(objects, []) == "Не є платником ПДВ"


def test_the_invoices_own_account_and_any_address_and_blanks_for_what_is_missing() -> None:
    objects = infobase()
    objects[("Catalog_БанковскиеСчета", "acc2")] = {"НомерСчета": "UA99", "Банк_Key": "gone"}
    objects[("Document_СчетНаОплатуПокупателю", INV)]["СтруктурнаяЕдиница_Key"] = "acc2"
    del objects[("Catalog_ВидыКонтактнойИнформации", LEGAL)]  # kinds outside the composition
    del objects[("Catalog_ДоговорыКонтрагентов", "c1")]
    data = invoice_print(FakeOData(objects, []), sources("bas-buh"), INV)
    assert data is not None
    assert data.account == Account("UA99", "", "")
    assert data.supplier.address == "а/с 15, Київ"  # no legal address known: the first address
    assert data.contract == ""
    assert invoice_print(FakeOData(objects, []), sources("bas-buh"), "0404") is None


def test_bp30_prints_inn_and_kpp() -> None:
    objects = infobase()
    buyer = {"Description": "ООО Ромашка", "ИНН": "7701", "КПП": "7701001"}
    objects[("Catalog_Контрагенты", BUYER)] = buyer
    data = invoice_print(FakeOData(objects, [{"ПлательщикНДС": True}]), sources("bp30"), INV)
    assert data is not None
    assert data.buyer.codes == ("ИНН 7701", "КПП 7701001") and data.vat_status == "Платник ПДВ"
    assert [line.name for line in data.lines] == ["Коробка", "Коробка"]  # one section: Товары
