"""The pure comparison: pairs of plain records in, discrepancies out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crmbridge.errors import ConfigError
from crmbridge.reconcile import parse_entities
from crmbridge.reconcile.compare import Pair, Summary, compare, same, splitter
from crmbridge.reconcile.fix import stale_fields
from crmbridge.reconcile.report import html_page

WHEN = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _product(expected: dict[str, object] | None, actual: dict[str, object] | None) -> Pair:
    return Pair("products", "SKU-1", "bas", "7", "ref-1", expected, actual, label="Папір")


@pytest.mark.parametrize(
    ("owner", "stale", "equal"),
    [
        (189.0, "189.00", True),
        (Decimal("189.5"), "189.50", True),
        (189.0, "188.99", False),
        ("00-1", "1", False),  # codes are text, never numbers
        ("UAH", "UAH", True),
        (None, "", True),
        ("", None, True),
        ("x", None, False),
        (None, "x", False),
        (True, "1", False),
        ("Альфа", "Альфа ", False),
    ],
)
def test_same(owner: object, stale: object, equal: bool) -> None:
    assert same(owner, stale) is equal


def test_a_differing_field_names_entity_field_and_both_values() -> None:
    pair = _product({"NAME": "Папір", "PRICE": 189.0}, {"NAME": "Папір А4", "PRICE": "189.00"})
    [found] = compare([pair])
    assert (found.entity, found.kind, found.field) == ("products", "differs", "NAME")
    assert (found.owner, found.owner_value, found.stale, found.stale_value) == (
        "bas",
        "Папір",
        "crm",
        "Папір А4",
    )
    assert found.json()["stale_side"] == "crm"


def test_missing_and_orphan() -> None:
    missing = _product({"NAME": "Папір"}, None)
    orphan = _product(None, {"NAME": "Лише в CRM"})
    kinds = [(d.kind, d.owner_value, d.stale_value) for d in compare([missing, orphan])]
    assert kinds == [
        ("missing", {"NAME": "Папір"}, None),
        ("orphan", None, {"NAME": "Лише в CRM"}),
    ]


def test_price_fields_are_reported_as_prices() -> None:
    pair = _product({"NAME": "A", "PRICE": 2.0}, {"NAME": "B", "PRICE": "1.00"})
    both = compare([pair], splitter({"products", "prices"}, {"PRICE"}))
    assert sorted((d.entity, d.field) for d in both) == [("prices", "PRICE"), ("products", "NAME")]
    only_prices = compare([pair], splitter({"prices"}, {"PRICE"}))
    assert [(d.entity, d.field) for d in only_prices] == [("prices", "PRICE")]
    missing = compare([_product({"PRICE": 1.0}, None)], splitter({"prices"}, {"PRICE"}))
    assert [(d.entity, d.kind) for d in missing] == [("prices", "missing")]
    other = compare([pair], splitter({"clients"}, {"PRICE"}))
    assert other == []


def test_stale_fields_are_what_fix_pushes() -> None:
    split = splitter({"products", "prices"}, {"PRICE"})
    pair = _product({"NAME": "A", "PRICE": 2.0, "XML_ID": "r"}, {"NAME": "A", "PRICE": "1.00"})
    assert stale_fields(pair, split) == {"PRICE": 2.0, "XML_ID": "r"}
    assert stale_fields(_product({"NAME": "A"}, None), split) == {"NAME": "A"}
    assert stale_fields(_product(None, {"NAME": "A"}), split) == {}  # orphans are not pushed
    only_names = splitter({"products"}, {"PRICE"})
    assert stale_fields(pair, only_names) == {"XML_ID": "r"}


def test_counts_and_json() -> None:
    pairs = [_product({"NAME": "A"}, {"NAME": "B"}), _product({"NAME": "C"}, None)]
    summary = Summary({"products": 1}, compare(pairs))
    assert summary.counts() == {
        "products": {"compared": 1, "differs": 1, "missing": 1, "orphan": 0}
    }
    assert summary.json()["clean"] is False
    assert Summary({"products": 1}, []).json()["clean"] is True


def test_html_report_escapes_values() -> None:
    pair = _product({"NAME": "<script>alert(1)</script>"}, {"NAME": "a & b"})
    page = html_page(Summary({"products": 1}, compare([pair])), WHEN)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page


def test_parse_entities() -> None:
    assert parse_entities(None) == ["clients", "products", "prices", "invoices"]
    assert parse_entities("prices, products,prices") == ["prices", "products"]
    with pytest.raises(ConfigError, match="unknown deals"):
        parse_entities("products,deals")
