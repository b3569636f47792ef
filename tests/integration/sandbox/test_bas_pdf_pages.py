"""The invoice PDF HTTP service of the optional extension, the demo page, the plain-Python
helpers, snapshot and restore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from tests.integration.sandbox.bas_support import INVOICES, Bas, pdf_text, running


@pytest.fixture(params=["bas-buh", "bp30"])
def bas(request: pytest.FixtureRequest) -> Iterator[Bas]:
    with running(request.param, extension=True) as env:
        yield env


def _pdf(bas: Bas, ref: str) -> httpx.Response:
    url = f"{bas.root}/hs/crm/invoice/{ref}/pdf"
    return httpx.get(url, headers={"Authorization": bas.client.headers["Authorization"]})


def test_invoice_pdf_is_a_readable_ukrainian_invoice(bas: Bas) -> None:
    invoice = bas.create_invoice()
    response = _pdf(bas, invoice["Ref_Key"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(pdf_text(response.content).split())
    party = bas.seed.counterparties[0]
    assert "Рахунок на оплату" in text and invoice["Number"] in text
    assert party.full_name in text
    assert bas.seed.organisation.iban in text and bas.seed.organisation.edrpou in text
    total = Decimal(str(invoice["СуммаДокумента"]))
    assert f"{total:,.2f}".replace(",", " ").replace(".", ",") in text  # 1 578,00
    assert "гривень" in text or "гривні" in text or "гривня" in text
    assert bas.seed.products[0].name in text and bas.seed.products[6].name in text


def test_pdf_of_unknown_invoice_is_404(bas: Bas) -> None:
    assert _pdf(bas, bas.seed.counterparties[0].ref_key).status_code == 404
    assert _pdf(bas, "not-a-guid").status_code == 404


def test_without_the_extension_there_is_no_pdf_service() -> None:
    with running("bas-buh") as plain:
        invoice = plain.create_invoice()
        assert _pdf(plain, invoice["Ref_Key"]).status_code == 404  # an unknown path
        page = httpx.get(f"{plain.root}/").text
        assert invoice["Number"] in page and "hs/crm/invoice" not in page


def test_record_payment_helper_links_and_posts_a_bank_receipt(bas: Bas) -> None:
    invoice = bas.create_invoice()
    ref, total = invoice["Ref_Key"], Decimal(str(invoice["СуммаДокумента"]))
    payment = bas.sandbox.record_payment(ref, Decimal("100.50"))
    assert bas.sandbox.paid(ref) == Decimal("100.50")
    doc = bas.get(f"Document_ПоступлениеНаРасчетныйСчет(guid'{payment}')").json()
    assert doc["Posted"] is True and doc["ВидОперации"] == "ОплатаПокупателя"
    row = doc["РасшифровкаПлатежа"][0]
    if bas.profile == "bas-buh":
        assert (row["Сделка"], row["Сделка_Type"]) == (
            ref,
            "StandardODATA.Document_СчетНаОплатуПокупателю",
        )
        assert doc["ДокументОснование"] == ref
    else:
        assert row["СчетНаОплату_Key"] == ref
    bas.sandbox.record_payment(ref)  # the rest
    assert bas.sandbox.paid(ref) == total
    with pytest.raises(ValueError):
        bas.sandbox.record_payment(ref)


def test_invoice_helpers(bas: Bas) -> None:
    created = bas.create_invoice()
    assert bas.sandbox.invoice(created["Ref_Key"])["Number"] == created["Number"]
    assert [i["Ref_Key"] for i in bas.sandbox.invoices()] == [created["Ref_Key"]]
    assert "odata.metadata" not in bas.sandbox.invoice(created["Ref_Key"])


def test_demo_page_lists_invoices_and_records_a_payment(bas: Bas) -> None:
    invoice = bas.create_invoice()
    page = httpx.get(f"{bas.root}/")
    assert page.status_code == 200 and invoice["Number"] in page.text
    assert (
        bas.seed.counterparties[0].name.replace("«", "&laquo;") in page.text
        or "Альфа-Трейд" in page.text
    )
    form = {"invoice": invoice["Ref_Key"], "amount": "200,00"}
    posted = httpx.post(f"{bas.root}/sandbox/payments", data=form)
    assert posted.status_code == 303 and posted.headers["location"] == "/bas/"
    assert bas.sandbox.paid(invoice["Ref_Key"]) == Decimal(200)
    rest = httpx.post(f"{bas.root}/sandbox/payments", data={"invoice": invoice["Ref_Key"]})
    assert rest.status_code == 303
    assert "сплачено" in httpx.get(f"{bas.root}/").text
    refused = httpx.post(
        f"{bas.root}/sandbox/payments", data={"invoice": invoice["Ref_Key"], "amount": "x"}
    )
    assert refused.status_code == 400


def test_snapshot_is_json_and_restore_brings_the_state_back(bas: Bas) -> None:
    invoice = bas.create_invoice()
    saved = json.loads(json.dumps(bas.sandbox.snapshot()))
    before = bas.get(f"{INVOICES}(guid'{invoice['Ref_Key']}')").json()
    bas.sandbox.record_payment(invoice["Ref_Key"])
    bas.client.delete(f"{INVOICES}(guid'{invoice['Ref_Key']}')")
    bas.sandbox.restore(saved)
    assert bas.get(f"{INVOICES}(guid'{invoice['Ref_Key']}')").json() == before
    assert bas.sandbox.paid(invoice["Ref_Key"]) == 0
    assert bas.create_invoice()["Number"].endswith("000002")
    assert bas.create_invoice()["DataVersion"] != before["DataVersion"]
    other = "bp30" if bas.profile == "bas-buh" else "bas-buh"
    with pytest.raises(ValueError):
        bas.sandbox.restore(saved | {"profile": other})
