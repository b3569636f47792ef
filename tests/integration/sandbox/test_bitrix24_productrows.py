"""Deal product rows: replace-all semantics and the amount that follows them."""

from __future__ import annotations

from tests.integration.sandbox.b24 import Portal

ROWS = [
    {"PRODUCT_ID": 1, "PRICE": 100, "QUANTITY": 3, "TAX_RATE": 20, "TAX_INCLUDED": "Y"},
    {"PRODUCT_ID": 7, "PRODUCT_NAME": "Налаштування", "PRICE": "1500.00", "QUANTITY": 1},
]


def test_seeded_rows_and_amount(portal: Portal) -> None:
    rows = portal.result("crm.deal.productrows.get", {"id": 1})
    assert len(rows) == 2 and all(r["OWNER_TYPE"] == "D" and r["OWNER_ID"] == "1" for r in rows)
    assert isinstance(rows[0]["ID"], str) and isinstance(rows[0]["PRODUCT_ID"], int)
    total = sum(r["PRICE"] * r["QUANTITY"] for r in rows)
    assert portal.result("crm.deal.get", {"id": 1})["OPPORTUNITY"] == f"{total:.2f}"


def test_set_replaces_all_rows_and_recomputes_the_amount(portal: Portal) -> None:
    assert portal.result("crm.deal.productrows.set", {"id": 2, "rows": ROWS}) is True
    rows = portal.result("crm.deal.productrows.get", {"id": 2})
    assert [(r["PRODUCT_ID"], r["QUANTITY"]) for r in rows] == [(1, 3), (7, 1)]
    assert rows[0]["PRICE_EXCLUSIVE"] == 83.3333 and rows[0]["TAX_INCLUDED"] == "Y"
    assert portal.result("crm.deal.get", {"id": 2})["OPPORTUNITY"] == "1800.00"
    portal.result("crm.deal.productrows.set", {"id": 2, "rows": ROWS[1:]})
    assert len(portal.result("crm.deal.productrows.get", {"id": 2})) == 1
    assert portal.result("crm.deal.get", {"id": 2})["OPPORTUNITY"] == "1500.00"


def test_percentage_discount_and_tax_on_top(portal: Portal) -> None:
    row = {
        "PRODUCT_ID": 2,
        "PRICE": 90,
        "QUANTITY": 2,
        "DISCOUNT_TYPE_ID": 2,
        "DISCOUNT_RATE": 10,
        "TAX_RATE": 20,
        "TAX_INCLUDED": "N",
    }
    portal.result("crm.deal.productrows.set", {"id": 3, "rows": [row]})
    got = portal.result("crm.deal.productrows.get", {"id": 3})[0]
    assert (got["PRICE_NETTO"], got["DISCOUNT_SUM"], got["PRICE_BRUTTO"]) == (100, 10, 120)
    assert portal.result("crm.deal.get", {"id": 3})["OPPORTUNITY"] == "216.00"


def test_manual_opportunity_is_kept(portal: Portal) -> None:
    fields = {"IS_MANUAL_OPPORTUNITY": "Y", "OPPORTUNITY": 777}
    portal.result("crm.deal.update", {"id": 4, "fields": fields})
    portal.result("crm.deal.productrows.set", {"id": 4, "rows": ROWS})
    assert portal.result("crm.deal.get", {"id": 4})["OPPORTUNITY"] == "777.00"


def test_form_encoded_rows_and_clearing(portal: Portal) -> None:
    form = {"id": "5", "rows[0][PRODUCT_ID]": "3", "rows[0][PRICE]": "10", "rows[0][QUANTITY]": "4"}
    assert portal.client.post(portal.hook + "crm.deal.productrows.set", data=form).json()["result"]
    assert portal.result("crm.deal.get", {"id": 5})["OPPORTUNITY"] == "40.00"
    portal.result("crm.deal.productrows.set", {"id": 5, "rows": []})
    assert portal.result("crm.deal.productrows.get", {"id": 5}) == []
    assert portal.result("crm.deal.get", {"id": 5})["OPPORTUNITY"] == "0.00"


def test_rows_of_missing_deal(portal: Portal) -> None:
    response = portal.call("crm.deal.productrows.get", {"id": 404})
    assert (response.status_code, response.json()) == (
        400,
        {"error": "", "error_description": "Not found"},
    )
    bad = portal.call("crm.deal.productrows.set", {"rows": []}).json()
    assert bad["error_description"] == "The parameter id is invalid or not defined."
