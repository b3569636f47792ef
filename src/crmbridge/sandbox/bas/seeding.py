"""Loads the shared sandbox seed into an emulated infobase, shaped by the profile.

Tax codes go where each configuration keeps them: `КодПоЕДРПОУ` (+ ІПН in `ИНН`) in BAS,
`ИНН`/`КПП` in BP 3.0. A head counterparty points `ГоловнойКонтрагент_Key` at itself, as the
recorded BP 3.0 card does (`LARAVEL` `app/Kontragent.php`); a branch points at its head.
The organisation has what its printed invoice shows: contact information rows of predefined
kinds, and a VAT status that changed once (a period register, so SliceLast has work to do).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bas.store import Store
from crmbridge.sandbox.seed import Counterparty, Seed, ref_key

ORG_TYPE = "StandardODATA.Catalog_Организации"
# Predefined contact information kinds of the organisation (BSP names; the legal address is
# what the invoice prints) and their types.
CONTACT_KINDS = {
    "ЮрАдресОрганизации": ("Юридична адреса", "Адрес"),
    "ФактАдресОрганизации": ("Фактична адреса", "Адрес"),
    "ТелефонОрганизации": ("Телефон", "Телефон"),
}
VAT_PAYER_SINCE = "2025-01-01T00:00:00"  # before: a single-tax payer outside VAT
PRICE_PERIOD = "2026-01-01T00:00:00"
OLD_PRICE_PERIOD = "2025-01-01T00:00:00"


def _code(n: int) -> str:
    return f"{n:09d}"


def _references(store: Store, seed: Seed) -> None:
    org = seed.organisation
    store.put_object(
        "Catalog_Валюты",
        {
            "Ref_Key": seed.currency_ref_key,
            "Code": "980",
            "Description": "грн",
            "НаименованиеПолное": "Українська гривня",
        },
    )
    bank = ref_key("bank", org.mfo)
    store.put_object(
        "Catalog_Банки",
        {"Ref_Key": bank, "Code": org.mfo, "Description": org.bank_name, "Город": "Київ"},
    )
    store.put_object(
        "Catalog_БанковскиеСчета",
        {
            "Ref_Key": bank_account_ref(seed),
            "Code": _code(1),
            "Description": f"{org.iban}, {org.bank_name}",
            "Owner": org.ref_key,
            "Owner_Type": ORG_TYPE,
            "НомерСчета": org.iban,
            "Банк_Key": bank,
            "ВалютаДенежныхСредств_Key": seed.currency_ref_key,
        },
    )
    store.put_object(
        "Catalog_ТипыЦенНоменклатуры",
        {
            "Ref_Key": seed.price_type_ref_key,
            "Code": _code(1),
            "Description": seed.price_type_name,
            "ВалютаЦены_Key": seed.currency_ref_key,
            "ЦенаВключаетНДС": True,
        },
    )
    store.put_object(
        "Catalog_Пользователи",
        {"Ref_Key": user_ref(), "Code": _code(1), "Description": "Адміністратор"},
    )


def bank_account_ref(seed: Seed) -> str:
    return ref_key("bank_account", seed.organisation.ref_key)


def user_ref() -> str:
    return ref_key("user", 0)


def contract_ref(counterparty_ref: str) -> str:
    return ref_key("contract", counterparty_ref)


def _contact_kinds(store: Store) -> None:
    for n, (name, (description, kind)) in enumerate(CONTACT_KINDS.items(), start=1):
        store.put_object(
            "Catalog_ВидыКонтактнойИнформации",
            {"Ref_Key": ref_key("contact_kind", name), "Code": _code(n)}
            | {"Description": description, "Тип": kind}
            | {"Predefined": True, "PredefinedDataName": name},
        )


def _contacts(seed: Seed) -> list[dict[str, Any]]:
    """The legal address after a phone, so a reader has to pick it by its kind."""
    phone = {"Тип": "Телефон", "Представление": "+380 44 000 00 01"}
    address = {"Тип": "Адрес", "Представление": seed.organisation.address}
    address |= {"Страна": "УКРАЇНА", "Город": "Київ"}
    rows = [("ТелефонОрганизации", phone), ("ЮрАдресОрганизации", address)]
    return [
        row
        | {"LineNumber": n, "Вид_Key": ref_key("contact_kind", kind)}
        | {"ВидДляСписка_Key": ref_key("contact_kind", kind)}
        for n, (kind, row) in enumerate(rows, start=1)
    ]


def _vat_status(store: Store, seed: Seed) -> None:
    register = store.schema.profile["vat_register"]
    extra = {"СистемаНалогообложения": "Общая"} if store.schema.name == "bp30" else {}
    for period, payer in (("2024-01-01T00:00:00", False), (VAT_PAYER_SINCE, True)):
        values = {"Period": period, "Организация_Key": seed.organisation.ref_key}
        store.add_record(register, values | {"ПлательщикНДС": payer} | extra)


def _organisation(store: Store, seed: Seed) -> None:
    org = seed.organisation
    values: dict[str, Any] = {
        "Ref_Key": org.ref_key,
        "Code": _code(1),
        "Description": org.name,
        "НаименованиеПолное": org.full_name,
        "Префикс": "СБ",
        "ОсновнойБанковскийСчет_Key": bank_account_ref(seed),
        "КонтактнаяИнформация": _contacts(seed),
    }
    if store.schema.name == "bas-buh":
        values |= {
            "КодПоЕДРПОУ": org.edrpou,
            "ИНН": org.ipn,
            "НомерСвидетельства": org.vat_certificate,
        }
    else:
        values |= {"ИНН": org.edrpou, "КПП": f"{org.edrpou[:4]}01001"}
    store.put_object("Catalog_Организации", values)


def _products(store: Store, seed: Seed) -> None:
    groups = {False: ("goods", "Товари"), True: ("services", "Послуги")}
    for n, (key, name) in enumerate(groups.values(), start=1):
        folder = {"Ref_Key": ref_key("product_group", key), "IsFolder": True}
        store.put_object(
            "Catalog_Номенклатура", folder | {"Code": f"00-Г{n:07d}", "Description": name}
        )
    units = sorted({p.unit for p in seed.products})
    for n, unit in enumerate(units, start=1):
        values = {"Ref_Key": ref_key("unit", unit), "Code": f"{n:04d}", "Description": unit}
        store.put_object(
            "Catalog_КлассификаторЕдиницИзмерения", values | {"НаименованиеПолное": unit}
        )
    for product in seed.products:
        store.put_object(
            "Catalog_Номенклатура",
            {
                "Ref_Key": product.ref_key,
                "Parent_Key": ref_key("product_group", groups[product.is_service][0]),
                "Code": product.code,
                "Description": product.name,
                "НаименованиеПолное": product.name,
                "Артикул": product.sku,
                "Услуга": product.is_service,
                "СтавкаНДС": product.vat_rate,
                f"{store.schema.profile['product_unit']}_Key": ref_key("unit", product.unit),
            },
        )
        _prices(store, seed, product.ref_key, product.price)


def _prices(store: Store, seed: Seed, product: str, price: Decimal) -> None:
    # An older price too, so that SliceLast has something to slice.
    old = (price * Decimal("0.9")).quantize(Decimal("0.01"))
    for period, value in ((OLD_PRICE_PERIOD, old), (PRICE_PERIOD, price)):
        store.add_record(
            "InformationRegister_ЦеныНоменклатуры",
            {
                "Period": period,
                "Номенклатура_Key": product,
                "ТипЦен_Key": seed.price_type_ref_key,
                "Цена": value,
                "Валюта_Key": seed.currency_ref_key,
            },
        )


def _tax_fields(profile: str, party: Counterparty) -> dict[str, Any]:
    if profile == "bas-buh":
        branch = {"КодФилиала": "1"} if party.head_ref_key else {}
        return {"КодПоЕДРПОУ": party.edrpou, "ИНН": party.ipn} | branch
    if party.legal_form == "ФизическоеЛицо":
        return {"ИНН": party.edrpou, "КПП": ""}
    unit = "02" if party.head_ref_key else "01"  # a branch has its own КПП, same ИНН
    return {"ИНН": party.edrpou, "КПП": f"{party.edrpou[:4]}{unit}001"}


def _counterparties(store: Store, seed: Seed) -> None:
    profile = store.schema.profile
    for party in seed.counterparties:
        values: dict[str, Any] = {
            "Ref_Key": party.ref_key,
            "Code": party.code,
            "Description": party.name,
            "НаименованиеПолное": party.full_name,
            "ЮридическоеФизическоеЛицо": party.legal_form,
            "ОбособленноеПодразделение": party.head_ref_key is not None,
            "ГоловнойКонтрагент_Key": party.head_ref_key or party.ref_key,
            "ОсновнойДоговорКонтрагента_Key": contract_ref(party.ref_key),
        }
        store.put_object("Catalog_Контрагенты", values | _tax_fields(store.schema.name, party))
        contract: dict[str, Any] = {
            "Ref_Key": contract_ref(party.ref_key),
            "Owner_Key": party.ref_key,
            "Code": party.code,
            "Description": profile["contract_name"],
            "Организация_Key": seed.organisation.ref_key,
            "ВидДоговора": "СПокупателем",
            "ВалютаВзаиморасчетов_Key": seed.currency_ref_key,
            "ТипЦен_Key": seed.price_type_ref_key,
            "Дата": "2025-01-01T00:00:00",
            "Номер": f"Д-{party.code[-4:]}",
            "СрокОплаты": 5,
        }
        if store.schema.name == "bas-buh":
            contract["ВедениеВзаиморасчетов"] = "ПоРасчетнымДокументам"
        store.put_object("Catalog_ДоговорыКонтрагентов", contract)


def load(store: Store, seed: Seed) -> None:
    with store.locked():
        _references(store, seed)
        _contact_kinds(store)
        _organisation(store, seed)
        _vat_status(store, seed)
        _products(store, seed)
        _counterparties(store, seed)
