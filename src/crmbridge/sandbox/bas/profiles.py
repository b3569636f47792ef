"""Metadata profiles of the emulated configurations, kept as plain data.

A profile names the published entity sets and their attributes the way the configuration's
`$metadata` does (Russian identifiers, reference §1.14). Attribute kinds:
- an Edm type name (`"Edm.String"`, `"Edm.Double"`, `"Edm.Int64"`, ...) for a plain attribute;
- `"ref:<Set>"` for a reference, which goes on the wire as `<Name>_Key` (Edm.Guid);
- `"composite"` for a composite-type attribute: `<Name>` plus `<Name>_Type`.

`bas-buh` follows the UA edition (BAS Бухгалтерія, `SABATEX` models and `DATEX` $metadata in the
reference): `КодПоЕДРПОУ`, invoice sections `Товары` and `Услуги`, payment rows linked to the
invoice through the composite `Сделка`. `bp30` follows 1С:Бухгалтерия 3.0 (`LARAVEL` recordings):
`ИНН`/`КПП`, a single `Товары` section, payment rows with `СчетНаОплату_Key`.
Both publish what the invoice print form reads (the organisation's contact information, the
contact information kinds, units, a register with the VAT status): see docs/invoice-pdf.md.
Sets marked `"published": False` exist in the infobase but are outside the OData composition, so
requests to them answer 404 as on a real server.
"""

from __future__ import annotations

import copy
from typing import Any

Profile = dict[str, Any]

_S, _D, _B, _I, _T = "Edm.String", "Edm.Double", "Edm.Boolean", "Edm.Int64", "Edm.DateTime"

# Attribute order follows the recorded BP 3.0 card (`LARAVEL` app/Kontragent.php).
_COUNTERPARTY_COMMON = {
    "НаименованиеПолное": _S,
    "ОбособленноеПодразделение": _B,
    "ЮридическоеФизическоеЛицо": _S,
    "ГоловнойКонтрагент": "ref:Catalog_Контрагенты",
    "ИНН": _S,
    "ОсновнойБанковскийСчет": "ref:Catalog_БанковскиеСчета",
    "ОсновнойДоговорКонтрагента": "ref:Catalog_ДоговорыКонтрагентов",
    "Комментарий": _S,
}


def _invoice_header(bank_account: str) -> dict[str, str]:
    """Header order of the recorded BP 3.0 sales document (`LARAVEL` app/Act.php)."""
    return {
        "Организация": "ref:Catalog_Организации",
        "Контрагент": "ref:Catalog_Контрагенты",
        "ДоговорКонтрагента": "ref:Catalog_ДоговорыКонтрагентов",
        "ТипЦен": "ref:Catalog_ТипыЦенНоменклатуры",
        "ВалютаДокумента": "ref:Catalog_Валюты",
        "КурсВзаиморасчетов": _D,
        "КратностьВзаиморасчетов": _I,
        "СуммаВключаетНДС": _B,
        bank_account: "ref:Catalog_БанковскиеСчета",
        "СуммаДокумента": _D,
        "Ответственный": "ref:Catalog_Пользователи",
        "Комментарий": _S,
    }


_PAYMENT_HEADER = {
    "ВидОперации": _S,
    "Организация": "ref:Catalog_Организации",
    "Контрагент": "ref:Catalog_Контрагенты",
    "ДоговорКонтрагента": "ref:Catalog_ДоговорыКонтрагентов",
    "ВалютаДокумента": "ref:Catalog_Валюты",
    "СуммаДокумента": _D,
    "Комментарий": _S,
}

_PAYMENT_ROW = {
    "ДоговорКонтрагента": "ref:Catalog_ДоговорыКонтрагентов",
    "КурсВзаиморасчетов": _D,
    "КратностьВзаиморасчетов": _I,
    "СуммаПлатежа": _D,
    "СуммаВзаиморасчетов": _D,
    "СтавкаНДС": _S,
    "СуммаНДС": _D,
}

_GOODS_ROW = {
    "Номенклатура": "ref:Catalog_Номенклатура",
    "Содержание": _S,
    "Количество": _D,
    "Цена": _D,
    "Сумма": _D,
    "СтавкаНДС": _S,
    "СуммаНДС": _D,
}


# The organisation's contact information rows: the columns of UA BP КОРП's
# `Организации.КонтактнаяИнформация` (sabatex/1C8 Models/Catalogs/Организации.cs), as recorded
# over OData in datareducer/console src/test/resources/odata/TabularSection.xml.
_CONTACT_ROW = {
    "Тип": _S,
    "Вид": "ref:Catalog_ВидыКонтактнойИнформации",
    "Представление": _S,
    "ЗначенияПолей": _S,
    "Страна": _S,
    "Регион": _S,
    "Город": _S,
    "АдресЭП": _S,
    "ДоменноеИмяСервера": _S,
    "НомерТелефона": _S,
    "НомерТелефонаБезКодов": _S,
    "ВидДляСписка": "ref:Catalog_ВидыКонтактнойИнформации",
}


def _vat_register(extra: dict[str, str]) -> dict[str, Any]:
    """A periodic register of the organisation's tax settings with its VAT payer flag (where
    each configuration keeps it: crmbridge/documents/sources.py)."""
    return {
        "kind": "InformationRegister",
        "dimensions": {"Организация": "ref:Catalog_Организации"},
        "attrs": {**extra, "ПлательщикНДС": _B},
    }


def _base_sets(bank_account: str) -> dict[str, Any]:
    return {
        "Catalog_Организации": {
            "kind": "Catalog",
            "attrs": {
                "НаименованиеПолное": _S,
                "Префикс": _S,
                "ИНН": _S,
                "ОсновнойБанковскийСчет": "ref:Catalog_БанковскиеСчета",
            },
            "tables": {"КонтактнаяИнформация": dict(_CONTACT_ROW)},
        },
        "Catalog_ВидыКонтактнойИнформации": {"kind": "Catalog", "attrs": {"Тип": _S}},
        "Catalog_Контрагенты": {
            "kind": "Catalog",
            "hierarchical": True,
            "attrs": dict(_COUNTERPARTY_COMMON),
            "tables": {"КонтактнаяИнформация": {"Тип": _S, "Представление": _S}},
        },
        "Catalog_ДоговорыКонтрагентов": {
            "kind": "Catalog",
            "owner": "Catalog_Контрагенты",
            "attrs": {
                "Организация": "ref:Catalog_Организации",
                "ВидДоговора": _S,
                "ВалютаВзаиморасчетов": "ref:Catalog_Валюты",
                "ТипЦен": "ref:Catalog_ТипыЦенНоменклатуры",
                "Дата": _T,
                "Номер": _S,
                "СрокОплаты": _I,
            },
        },
        "Catalog_Номенклатура": {
            "kind": "Catalog",
            "hierarchical": True,
            "attrs": {
                "НаименованиеПолное": _S,
                "Артикул": _S,
                "Услуга": _B,
                "СтавкаНДС": _S,
                "БазоваяЕдиницаИзмерения": "ref:Catalog_КлассификаторЕдиницИзмерения",
            },
        },
        "Catalog_КлассификаторЕдиницИзмерения": {
            "kind": "Catalog",
            "attrs": {"НаименованиеПолное": _S},
        },
        "Catalog_Пользователи": {"kind": "Catalog", "published": False, "attrs": {}},
        "Catalog_Валюты": {"kind": "Catalog", "attrs": {"НаименованиеПолное": _S}},
        "Catalog_Банки": {"kind": "Catalog", "attrs": {"Город": _S}},
        "Catalog_ТипыЦенНоменклатуры": {
            "kind": "Catalog",
            "attrs": {"ВалютаЦены": "ref:Catalog_Валюты", "ЦенаВключаетНДС": _B},
        },
        "Catalog_БанковскиеСчета": {
            "kind": "Catalog",
            "attrs": {
                "Owner": "composite",
                "НомерСчета": _S,
                "Банк": "ref:Catalog_Банки",
                "ВалютаДенежныхСредств": "ref:Catalog_Валюты",
            },
        },
        "InformationRegister_ЦеныНоменклатуры": {
            "kind": "InformationRegister",
            "dimensions": {
                "Номенклатура": "ref:Catalog_Номенклатура",
                "ТипЦен": "ref:Catalog_ТипыЦенНоменклатуры",
            },
            "attrs": {"Цена": _D, "Валюта": "ref:Catalog_Валюты"},
        },
        "Document_СчетНаОплатуПокупателю": {
            "kind": "Document",
            "attrs": _invoice_header(bank_account),
            "tables": {"Товары": dict(_GOODS_ROW)},
        },
        "Document_ПоступлениеНаРасчетныйСчет": {
            "kind": "Document",
            "attrs": {
                **_PAYMENT_HEADER,
                "СчетОрганизации": "ref:Catalog_БанковскиеСчета",
                "НазначениеПлатежа": _S,
                "НомерВходящегоДокумента": _S,
                "ДатаВходящегоДокумента": _T,
            },
            "tables": {"РасшифровкаПлатежа": dict(_PAYMENT_ROW)},
        },
        "Document_ПриходныйКассовыйОрдер": {
            "kind": "Document",
            "attrs": {**_PAYMENT_HEADER, "ПринятоОт": _S, "Основание": _S},
            "tables": {"РасшифровкаПлатежа": dict(_PAYMENT_ROW)},
        },
    }


_BAS_VAT = "InformationRegister_УчетнаяПолитикаОрганизаций"
_BP_VAT = "InformationRegister_НастройкиСистемыНалогообложения"


def _bas_buh() -> Profile:
    sets = _base_sets("СтруктурнаяЕдиница")
    sets["Catalog_Организации"]["attrs"].update({"КодПоЕДРПОУ": _S, "НомерСвидетельства": _S})
    sets["Catalog_Контрагенты"]["attrs"].update(
        {"КодПоЕДРПОУ": _S, "НомерСвидетельства": _S, "НеЯвляетсяРезидентом": _B, "КодФилиала": _S}
    )
    sets["Catalog_ДоговорыКонтрагентов"]["attrs"]["ВедениеВзаиморасчетов"] = _S
    invoice = sets["Document_СчетНаОплатуПокупателю"]
    goods = [(k, v) for k, v in _GOODS_ROW.items() if k != "Содержание"]
    goods.insert(1, ("Коэффициент", _D))  # where the recorded sales document has it
    invoice["tables"]["Товары"] = dict(goods)
    invoice["tables"]["Услуги"] = dict(_GOODS_ROW)
    for name in ("Document_ПоступлениеНаРасчетныйСчет", "Document_ПриходныйКассовыйОрдер"):
        sets[name]["attrs"]["ДокументОснование"] = "composite"
        sets[name]["tables"]["РасшифровкаПлатежа"]["Сделка"] = "composite"
    sets[_BAS_VAT] = _vat_register({})
    return {
        "name": "bas-buh",
        "title": "BAS Бухгалтерія",
        "lang": "ru",
        "number_prefix": "СБ00-",
        "tax_id_field": "КодПоЕДРПОУ",
        "invoice_sections": {"goods": "Товары", "services": "Услуги"},
        "payment_link": "Сделка",
        "contract_name": "Основний договір",
        "vat_register": _BAS_VAT,
        "product_unit": "БазоваяЕдиницаИзмерения",
        "inlinecount_ignores_paging": True,
        "sets": sets,
    }


def _bp30() -> Profile:
    sets = _base_sets("БанковскийСчетОрганизации")
    sets["Catalog_Организации"]["attrs"]["КПП"] = _S
    attrs = list(_COUNTERPARTY_COMMON.items())
    attrs[5:5] = [("КПП", _S), ("КодПоОКПО", _S)]  # after ИНН, as recorded
    sets["Catalog_Контрагенты"]["attrs"] = dict(attrs) | {"РегистрационныйНомер": _S}
    for name in ("Document_ПоступлениеНаРасчетныйСчет", "Document_ПриходныйКассовыйОрдер"):
        row = sets[name]["tables"]["РасшифровкаПлатежа"]
        row["СчетНаОплату"] = "ref:Document_СчетНаОплатуПокупателю"
        row["СпособПогашенияЗадолженности"] = _S
    product = sets["Catalog_Номенклатура"]["attrs"]  # `ЕдиницаИзмерения` in BP 3.0 (§2.4)
    product["ЕдиницаИзмерения"] = product.pop("БазоваяЕдиницаИзмерения")
    sets[_BP_VAT] = _vat_register({"СистемаНалогообложения": _S})
    return {
        "name": "bp30",
        "title": "1С:Бухгалтерия предприятия 3.0",
        "lang": "ru",
        "number_prefix": "0000-",
        "tax_id_field": "ИНН",
        "invoice_sections": {"goods": "Товары", "services": "Товары"},
        "payment_link": "СчетНаОплату",
        "contract_name": "Основной договор",
        "vat_register": _BP_VAT,
        "product_unit": "ЕдиницаИзмерения",
        "inlinecount_ignores_paging": True,
        "sets": sets,
    }


def profile(name: str) -> Profile:
    """A fresh copy of the named profile (callers may adjust it without touching the others)."""
    builders = {"bas-buh": _bas_buh, "bp30": _bp30}
    if name not in builders:
        raise ValueError(f"unknown BAS profile {name!r}; known: {', '.join(builders)}")
    return copy.deepcopy(builders[name]())


PROFILES: tuple[str, ...] = ("bas-buh", "bp30")
