"""Payments ↔ invoice for both profiles, and `changes()` over posted payments by cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from crmbridge.connectors.onec import objects, payments
from crmbridge.connectors.onec.connector import BasConnector, Options
from crmbridge.connectors.onec.literals import format_datetime
from crmbridge.connectors.onec.objects import InvoiceHeader, Line
from crmbridge.sandbox.server import Sandbox
from tests.integration.connectors.bas_support import PROFILES, bas_connector
from tests.support.sandbox import running_sandbox


@pytest.fixture(params=PROFILES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    # one per test: changes() sees every payment of the infobase
    with running_sandbox(profile=request.param, seed_size=8) as running:
        yield running


@pytest.fixture
def bas(sandbox: Sandbox) -> Iterator[BasConnector]:
    with bas_connector(sandbox) as connector:
        yield connector


def invoice(sandbox: Sandbox, bas: BasConnector, counterparty: int = 0) -> dict[str, Any]:
    party = sandbox.seed.counterparties[counterparty]
    product = sandbox.seed.products[0]
    head = InvoiceHeader(
        organisation=sandbox.seed.organisation.ref_key,
        counterparty=party.ref_key,
        contract=next(iter(bas.iterate("contract", {"Owner_Key": party.ref_key})))["Ref_Key"],
        currency=sandbox.seed.currency_ref_key,
        date=datetime(2026, 3, 4, 10, 0),
    )
    created = objects.create_invoice(
        bas, head, [Line(product.ref_key, Decimal(10), Decimal(150), "НДС20")]
    )
    bas.post("invoice", created["Ref_Key"])
    return created


def payment_body(
    bas: BasConnector, inv: dict[str, Any], amount: Decimal, when: datetime
) -> dict[str, Any]:
    """A bank receipt as an accountant would enter it, linked the profile's way."""
    row = {
        "LineNumber": "1",
        "ДоговорКонтрагента_Key": inv["ДоговорКонтрагента_Key"],
        "СуммаПлатежа": amount,
        "СуммаВзаиморасчетов": amount,
    }
    return {
        "Date": format_datetime(when),
        "ВидОперации": "ОплатаПокупателя",
        "Организация_Key": inv["Организация_Key"],
        "Контрагент_Key": inv["Контрагент_Key"],
        "СуммаДокумента": amount,
        "РасшифровкаПлатежа": [row | bas.profile.payment_link.values(inv["Ref_Key"])],
    }


def test_no_payment_yet(sandbox: Sandbox, bas: BasConnector) -> None:
    inv = invoice(sandbox, bas)
    assert payments.payments_for_invoice(bas, inv["Ref_Key"]) == []
    assert payments.paid_amount(bas, inv["Ref_Key"]) == 0


def test_partial_then_full_payment(sandbox: Sandbox, bas: BasConnector) -> None:
    inv = invoice(sandbox, bas)
    other = invoice(sandbox, bas, counterparty=1)
    sandbox.bas.record_payment(other["Ref_Key"])  # pays another invoice: must not count
    first = sandbox.bas.record_payment(inv["Ref_Key"], Decimal("400.50"))
    assert payments.paid_amount(bas, inv["Ref_Key"]) == Decimal("400.50")
    sandbox.bas.record_payment(inv["Ref_Key"])  # the rest
    assert payments.paid_amount(bas, inv["Ref_Key"]) == Decimal(1500)
    assert payments.paid_amount(bas, inv["Ref_Key"]) == sandbox.bas.paid(inv["Ref_Key"])
    found = payments.payments_for_invoice(bas, inv["Ref_Key"])
    assert [p.amount for p in found] == [Decimal("400.50"), Decimal("1099.50")]
    assert found[0].ref == first and all(p.posted for p in found)
    assert {p.entity_set for p in found} == {"Document_ПоступлениеНаРасчетныйСчет"}


def test_only_posted_payments_count(sandbox: Sandbox, bas: BasConnector) -> None:
    inv = invoice(sandbox, bas)
    ref = sandbox.bas.record_payment(inv["Ref_Key"], Decimal(500))
    bas.unpost("payment", ref)
    assert payments.paid_amount(bas, inv["Ref_Key"]) == 0
    [listed] = payments.payments_for_invoice(bas, inv["Ref_Key"])
    assert (listed.ref, listed.posted, listed.amount) == (ref, False, Decimal(500))
    bas.put("payment", {"DeletionMark": True}, key=ref)
    assert payments.payments_for_invoice(bas, inv["Ref_Key"]) == []


def test_cash_receipts_count_too(sandbox: Sandbox, bas: BasConnector) -> None:
    inv = invoice(sandbox, bas)
    body = payment_body(bas, inv, Decimal(200), datetime(2026, 3, 5, 12, 0))
    body.pop("ВидОперации")
    ref = bas.put("cash_payment", body)
    bas.post("cash_payment", ref)
    [listed] = payments.payments_for_invoice(bas, inv["Ref_Key"])
    assert (listed.entity_set, listed.amount) == ("Document_ПриходныйКассовыйОрдер", Decimal(200))
    assert payments.paid_amount(bas, inv["Ref_Key"]) == sandbox.bas.paid(inv["Ref_Key"]) == 200


def test_a_row_of_another_type_in_the_composite_does_not_link(
    sandbox: Sandbox, bas: BasConnector
) -> None:
    inv = invoice(sandbox, bas)
    body = payment_body(bas, inv, Decimal(300), datetime(2026, 3, 5, 12, 0))
    if bas.profile.name == "bas-buh":
        body["РасшифровкаПлатежа"][0]["Сделка_Type"] = (
            "StandardODATA.Document_РеализацияТоваровУслуг"
        )
    else:
        body["РасшифровкаПлатежа"][0]["СчетНаОплату_Key"] = "00000000-0000-0000-0000-000000000000"
    bas.post("payment", bas.put("payment", body))
    assert payments.paid_amount(bas, inv["Ref_Key"]) == 0


def drain(bas: BasConnector, cursor: dict[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    refs: list[str] = []
    for _ in range(100):
        page = bas.changes("payment", cursor)
        cursor = page.cursor
        if not page.records:
            return refs, cursor
        refs += [r["Ref_Key"] for r in page.records]
    raise AssertionError("changes() did not run dry after 100 pages")


def test_changes_hand_out_each_posted_payment_once(sandbox: Sandbox) -> None:
    with bas_connector(sandbox, page_size=2) as bas:
        bas.options = Options(page_size=2, lag=timedelta(days=3), changes_size=3)
        invs = [invoice(sandbox, bas, n) for n in range(3)]
        made = [sandbox.bas.record_payment(i["Ref_Key"], Decimal(100)) for i in invs]
        made.append(sandbox.bas.record_payment(invs[0]["Ref_Key"], Decimal(50)))
        unposted = bas.put("payment", payment_body(bas, invs[1], Decimal(7), datetime.now()))
        first = bas.changes("payment", None)
        assert len(first.records) == 3  # a page is capped, the rest follows
        refs, cursor = drain(bas, first.cursor)
        handed = [r["Ref_Key"] for r in first.records] + refs
        assert sorted(handed) == sorted(made) and unposted not in handed
        assert drain(bas, cursor)[0] == []  # the overlap is read again but deduplicated
        bas.post("payment", unposted)
        later, cursor = drain(bas, cursor)
        assert later == [unposted]


def test_changes_pick_up_a_late_payment_inside_the_lag_window(
    sandbox: Sandbox, bas: BasConnector
) -> None:
    inv = invoice(sandbox, bas)
    now = datetime.now().replace(microsecond=0)
    sandbox.bas.record_payment(inv["Ref_Key"], Decimal(100))
    _, cursor = drain(bas, None)
    late = bas.put("payment", payment_body(bas, inv, Decimal(20), now - timedelta(days=1)))
    too_late = bas.put("payment", payment_body(bas, inv, Decimal(30), now - timedelta(days=9)))
    bas.post("payment", late)
    bas.post("payment", too_late)
    refs, _ = drain(bas, cursor)
    assert refs == [late]  # entered with a date older than the lag: only a re-scan finds it


def test_changes_hand_out_a_rewritten_payment_again(sandbox: Sandbox, bas: BasConnector) -> None:
    inv = invoice(sandbox, bas)
    ref = sandbox.bas.record_payment(inv["Ref_Key"], Decimal(100))
    refs, cursor = drain(bas, None)
    assert refs == [ref]
    bas.put("payment", {"Комментарий": "уточнено"}, key=ref)
    assert drain(bas, cursor)[0] == [ref]
