"""PHP-isms of the Bitrix24 wire format: bracket parameters in, PHP arrays out."""

from __future__ import annotations

from urllib.parse import parse_qsl

from crmbridge.sandbox.bitrix24.query import matcher, page, sort
from crmbridge.sandbox.bitrix24.wire import parse_php_query, php_array


def parse(query: str) -> dict[str, object]:
    return parse_php_query(parse_qsl(query, keep_blank_values=True))


def test_bracket_keys_nest_and_append() -> None:
    assert parse("fields[TITLE]=x&fields[UF_CRM_A]=&select[]=ID&select[]=TITLE") == {
        "fields": {"TITLE": "x", "UF_CRM_A": ""},
        "select": ["ID", "TITLE"],
    }
    assert parse("filter%5B%3E%3DID%5D=5&rows[0][PRICE]=1&rows[1][PRICE]=2") == {
        "filter": {">=ID": "5"},
        "rows": [{"PRICE": "1"}, {"PRICE": "2"}],
    }


def test_numeric_keys_out_of_order_stay_a_map() -> None:
    assert parse("a[1]=x&a[0]=y") == {"a": {"1": "x", "0": "y"}}


def test_php_array_json() -> None:
    assert php_array({}) == []
    assert php_array({"0": "a", "1": "b"}) == ["a", "b"]
    assert php_array({"1": "a"}) == {"1": "a"}
    assert php_array({"deal": 1}) == {"deal": 1}


def test_numbers_compare_as_numbers_even_when_strings() -> None:
    records = [{"ID": "10"}, {"ID": "9"}, {"ID": "100"}]
    assert [r["ID"] for r in sort(records, {"ID": "ASC"})] == ["9", "10", "100"]
    assert [r["ID"] for r in records if matcher({">ID": "9"})(r)] == ["10", "100"]


def test_page_bounds() -> None:
    records = [{"ID": str(i)} for i in range(120)]
    assert (page(records, 100).total, page(records, 100).next, len(page(records, 100).items)) == (
        120,
        None,
        20,
    )
    assert page(records, "50").next == 100
    assert page(records, -1).total == 0 and page(records, -1).next is None
