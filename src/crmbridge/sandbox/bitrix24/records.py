"""Builders of records in the shape legacy `crm.*.get` prints them (string scalars, null refs).

Field sets follow the response examples in `bitrix24/b24restdocs` (`crm-deal-get.md` etc.) and the
recorded responses in `leshchenko1979/fast_bitrix24:tests/real_responses`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bitrix24 import funnels
from crmbridge.sandbox.bitrix24.wire import PORTAL_TZ, iso, money, to_decimal
from crmbridge.sandbox.seed import Company, Deal, Product, Rep

INVOICE_STAGE = "PREPAYMENT_INVOICE"
STAGE_SEMANTIC = funnels.SEMANTIC_ID  # stage id (of any funnel) → P / S / F
STAGE_NAMES = funnels.NAMES


def _stamps(now: datetime, user: int = 1) -> dict[str, Any]:
    return {
        "CREATED_BY_ID": str(user),
        "MODIFY_BY_ID": str(user),
        "DATE_CREATE": iso(now),
        "DATE_MODIFY": iso(now),
    }


def new_deal(did: int, now: datetime) -> dict[str, Any]:
    """A deal with the portal's defaults: first type, default funnel, first stage, +7 days.

    Without user fields: their values are added from the portal's state (`userfields.blank`)."""
    today = now.astimezone(PORTAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    record: dict[str, Any] = {
        "ID": str(did),
        "TITLE": f"Угода #{did}",
        "TYPE_ID": "SALE",
        "STAGE_ID": funnels.BY_ID[0].first_stage,
        "PROBABILITY": None,
        "CURRENCY_ID": "UAH",
        "OPPORTUNITY": "0.00",
        "IS_MANUAL_OPPORTUNITY": "N",
        "TAX_VALUE": "0.00",
        "LEAD_ID": None,
        "COMPANY_ID": "0",
        "CONTACT_ID": None,
        "QUOTE_ID": None,
        "BEGINDATE": iso(today),
        "CLOSEDATE": iso(today + timedelta(days=7)),
        "ASSIGNED_BY_ID": "1",
        **_stamps(now),
        "OPENED": "Y",
        "CLOSED": "N",
        "COMMENTS": None,
        "ADDITIONAL_INFO": None,
        "LOCATION_ID": None,
        "CATEGORY_ID": "0",
        "STAGE_SEMANTIC_ID": "P",
        "IS_NEW": "Y",
        "IS_RECURRING": "N",
        "IS_RETURN_CUSTOMER": "N",
        "IS_REPEATED_APPROACH": "N",
        "SOURCE_ID": None,
        "SOURCE_DESCRIPTION": None,
        "ORIGINATOR_ID": None,
        "ORIGIN_ID": None,
        "MOVED_BY_ID": "1",
        "MOVED_TIME": iso(now),
        "LAST_ACTIVITY_TIME": iso(now),
        "LAST_ACTIVITY_BY": "1",
        "UTM_SOURCE": None,
        "UTM_MEDIUM": None,
        "UTM_CAMPAIGN": None,
        "UTM_CONTENT": None,
        "UTM_TERM": None,
    }
    return record


def deal(did: int, seed_deal: Deal, now: datetime) -> dict[str, Any]:
    record = new_deal(did, now)
    record.update(
        TITLE=seed_deal.title,
        COMPANY_ID=str(seed_deal.company_id),
        ASSIGNED_BY_ID=str(seed_deal.assigned_by_id),
        IS_NEW="N",
    )
    apply_stage(record, seed_deal.stage_id)
    return record


def apply_stage(record: dict[str, Any], stage: str) -> None:
    """Stage-derived fields: `STAGE_SEMANTIC_ID` P/S/F and `CLOSED` for final stages."""
    record["STAGE_ID"] = stage
    record["STAGE_SEMANTIC_ID"] = STAGE_SEMANTIC[stage]
    record["CLOSED"] = "N" if STAGE_SEMANTIC[stage] == "P" else "Y"


def new_company(cid: int, now: datetime) -> dict[str, Any]:
    return {
        "ID": str(cid),
        "TITLE": "",
        "COMPANY_TYPE": "CUSTOMER",
        "INDUSTRY": None,
        "EMPLOYEES": None,
        "CURRENCY_ID": "UAH",
        "REVENUE": "0.00",
        "ADDRESS": None,
        "COMMENTS": None,
        "ASSIGNED_BY_ID": "1",
        **_stamps(now),
        "OPENED": "Y",
        "IS_MY_COMPANY": "N",
        "HAS_PHONE": "N",
        "HAS_EMAIL": "N",
        "ORIGINATOR_ID": None,
        "ORIGIN_ID": None,
        "PHONE": [],
        "EMAIL": [],
    }


def company(
    cid: int, seed_company: Company, now: datetime, field_ids: tuple[int, int]
) -> dict[str, Any]:
    record = new_company(cid, now)
    record.update(TITLE=seed_company.title, ASSIGNED_BY_ID=str(seed_company.assigned_by_id))
    phone_id, email_id = field_ids
    record["PHONE"] = [multifield(phone_id, "PHONE", seed_company.phone)]
    record["EMAIL"] = [multifield(email_id, "EMAIL", seed_company.email)]
    record.update(HAS_PHONE="Y", HAS_EMAIL="Y")
    return record


def multifield(mid: int, type_id: str, value: str) -> dict[str, Any]:
    return {"ID": str(mid), "VALUE_TYPE": "WORK", "VALUE": value, "TYPE_ID": type_id}


def contact(
    cid: int, name: str, last_name: str, company_id: int, rep: int, now: datetime
) -> dict[str, Any]:
    return {
        "ID": str(cid),
        "HONORIFIC": None,
        "NAME": name,
        "SECOND_NAME": None,
        "LAST_NAME": last_name,
        "POST": None,
        "COMPANY_ID": str(company_id),
        "TYPE_ID": "CLIENT",
        "SOURCE_ID": None,
        "ASSIGNED_BY_ID": str(rep),
        **_stamps(now),
        "OPENED": "Y",
        "HAS_PHONE": "N",
        "HAS_EMAIL": "N",
        "ORIGINATOR_ID": None,
        "ORIGIN_ID": None,
    }


def new_requisite(rid: int, now: datetime) -> dict[str, Any]:
    return {
        "ID": str(rid),
        "ENTITY_TYPE_ID": "4",
        "ENTITY_ID": "0",
        "PRESET_ID": "1",
        **_stamps(now),
        "NAME": "",
        "CODE": None,
        "XML_ID": None,
        "ORIGINATOR_ID": None,
        "ACTIVE": "Y",
        "SORT": "500",
        "RQ_COMPANY_NAME": None,
        "RQ_COMPANY_FULL_NAME": None,
        "RQ_EDRPOU": None,
        "RQ_INN": None,
        "RQ_DRFO": None,
        "RQ_VAT_ID": None,
        "RQ_VAT_PAYER": "N",
    }


def requisite(rid: int, seed_company: Company, now: datetime) -> dict[str, Any]:
    record = new_requisite(rid, now)
    record.update(
        ENTITY_ID=str(seed_company.id),
        PRESET_ID="3" if seed_company.is_fop else "1",  # 1 = company, 3 = individual entrepreneur
        NAME=seed_company.title,
        RQ_COMPANY_NAME=seed_company.title,
        RQ_EDRPOU=seed_company.edrpou,
        RQ_INN=seed_company.inn,
        RQ_VAT_PAYER="Y" if seed_company.inn else "N",
    )
    return record


def new_product(pid: int, now: datetime) -> dict[str, Any]:
    return {
        "ID": str(pid),
        "CATALOG_ID": "25",
        "PRICE": "0.00",
        "CURRENCY_ID": "UAH",
        "NAME": "",
        "CODE": None,
        "DESCRIPTION": None,
        "DESCRIPTION_TYPE": "text",
        "ACTIVE": "Y",
        "SECTION_ID": None,
        "SORT": "500",
        "VAT_ID": None,
        "VAT_INCLUDED": "Y",
        "MEASURE": "9",
        "XML_ID": None,
        "PREVIEW_PICTURE": None,
        "DETAIL_PICTURE": None,
        "DATE_CREATE": iso(now),
        "TIMESTAMP_X": iso(now),
        "MODIFIED_BY": "1",
        "CREATED_BY": "1",
    }


def product(pid: int, seed_product: Product, now: datetime) -> dict[str, Any]:
    record = new_product(pid, now)
    record.update(
        NAME=seed_product.name,
        CODE=seed_product.sku,
        PRICE=money(seed_product.price),
        XML_ID=seed_product.ref_key,
    )
    return record


def product_row(row_id: int, deal_id: int, spec: dict[str, Any]) -> dict[str, Any]:
    """A deal product row as `crm.deal.productrows.get` prints it (numbers, some strings).

    `PRICE` is the final unit price; with a percentage discount the pre-discount price is
    `PRICE_NETTO`. Tax is included in `PRICE` unless `TAX_INCLUDED` is N.
    """
    price = to_decimal(spec.get("PRICE"))
    rate = to_decimal(spec.get("DISCOUNT_RATE"))
    kind = int(to_decimal(spec.get("DISCOUNT_TYPE_ID"), Decimal(2)))
    if kind == 2 and rate < 100:
        netto = price * 100 / (100 - rate)
    else:
        netto = price + to_decimal(spec.get("DISCOUNT_SUM"))
    has_tax = spec.get("TAX_RATE") not in (None, "")
    tax = to_decimal(spec.get("TAX_RATE")) if has_tax else None
    factor = 1 + (tax or Decimal(0)) / 100
    included = str(spec.get("TAX_INCLUDED", "N")).upper() == "Y"
    exclusive = price / factor if included else price
    return {
        "ID": str(row_id),
        "OWNER_ID": str(deal_id),
        "OWNER_TYPE": "D",
        "PRODUCT_ID": int(to_decimal(spec.get("PRODUCT_ID"))),
        "PRODUCT_NAME": str(spec.get("PRODUCT_NAME") or ""),
        "ORIGINAL_PRODUCT_NAME": str(spec.get("PRODUCT_NAME") or ""),
        "PRODUCT_DESCRIPTION": None,
        "PRICE": _num(price),
        "PRICE_EXCLUSIVE": _num(exclusive),
        "PRICE_NETTO": _num(netto),
        "PRICE_BRUTTO": _num(netto if included else netto * factor),
        "PRICE_ACCOUNT": money(price),
        "QUANTITY": _num(to_decimal(spec.get("QUANTITY"), Decimal(1))),
        "DISCOUNT_TYPE_ID": kind,
        "DISCOUNT_RATE": _num(rate),
        "DISCOUNT_SUM": _num(netto - price),
        "TAX_RATE": None if tax is None else _num(tax),
        "TAX_INCLUDED": "Y" if included else "N",
        "CUSTOMIZED": "Y",
        "MEASURE_CODE": int(to_decimal(spec.get("MEASURE_CODE"), Decimal(796))),
        "MEASURE_NAME": str(spec.get("MEASURE_NAME") or "шт"),
        "SORT": int(to_decimal(spec.get("SORT"), Decimal(10))),
        "XML_ID": None,
        "TYPE": 1,
        "STORE_ID": 0,
        "RESERVE_ID": None,  # inventory reservation is not modelled
        "DATE_RESERVE_END": None,
        "RESERVE_QUANTITY": 0,
    }


def _num(value: Decimal) -> int | float:
    """JSON numbers as PHP prints them: 100 stays an integer, 899.1 a float."""
    rounded = value.quantize(Decimal("0.0001"))
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def rows_total(rows: list[dict[str, Any]]) -> str:
    """The deal amount from its rows: price × quantity, plus tax where it is not included."""
    total = Decimal(0)
    for row in rows:
        line = Decimal(str(row["PRICE"])) * Decimal(str(row["QUANTITY"]))
        if row["TAX_INCLUDED"] == "N" and row["TAX_RATE"]:
            line = line * (100 + Decimal(str(row["TAX_RATE"]))) / 100
        total += line
    return money(total)


def user(rep: Rep) -> dict[str, Any]:
    """A `user.get` item: string scalars except `ACTIVE`, which is a JSON boolean."""
    return {
        "ID": str(rep.id),
        "XML_ID": f"sandbox-{rep.id}",
        "ACTIVE": True,
        "NAME": rep.name,
        "LAST_NAME": rep.last_name,
        "SECOND_NAME": "",
        "EMAIL": rep.email,
        "LAST_LOGIN": None,
        "DATE_REGISTER": "2025-01-09T00:00:00+02:00",
        "IS_ONLINE": "N",
        "TIME_ZONE_OFFSET": "0",
        "TIMESTAMP_X": None,
        "PERSONAL_GENDER": "",
        "WORK_POSITION": "Менеджер з продажу",
        "UF_DEPARTMENT": [1],
        "USER_TYPE": "employee",
    }
