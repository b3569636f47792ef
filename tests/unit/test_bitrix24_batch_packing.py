"""Batch packing and PHP-bracket command strings of the Bitrix24 connector (pure)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from crmbridge.connectors.bitrix24 import batch
from crmbridge.connectors.bitrix24.batch import Command, chunks
from crmbridge.connectors.bitrix24.wire import Ref, php_query
from crmbridge.errors import Permanent
from crmbridge.sandbox.bitrix24.wire import parse_php_query


def test_nested_params_become_bracket_keys_with_cyrillic_encoded() -> None:
    query = php_query({"fields": {"TITLE": "Угода №1 & Co", "PRICE": 10.5}, "select": ["ID"]})
    assert query.startswith("fields[TITLE]=%D0%A3")
    assert "&select[0]=ID" in query
    # What the portal makes of it: its own parser, as used by the sandbox.
    assert parse_php_query(parse_qsl(query)) == {
        "fields": {"TITLE": "Угода №1 & Co", "PRICE": "10.5"},
        "select": ["ID"],
    }


def test_references_stay_unencoded_for_the_portal_to_substitute() -> None:
    query = php_query({"id": Ref("deal", ("COMPANY_ID",)), "filter": {"@ID": [1, 2]}})
    assert query == "id=$result[deal][COMPANY_ID]&filter[%40ID][0]=1&filter[%40ID][1]=2"


def test_booleans_none_and_empty_lists() -> None:
    assert php_query({"a": True, "b": False, "c": None, "d": []}) == "a=Y&b=N&c=&d="


def test_a_command_line_is_method_and_query() -> None:
    assert Command("crm.deal.get", {"id": 4}).line() == "crm.deal.get?id=4"
    assert Command("crm.category.list").line() == "crm.category.list"


def test_chunks_pack_fifty_commands_per_request_in_order() -> None:
    commands = {f"p{n}": Command("crm.product.add", {"fields": {"NAME": n}}) for n in range(120)}
    parts = list(chunks(commands))
    assert [len(p) for p in parts] == [50, 50, 20]
    assert [k for p in parts for k in p] == list(commands)


@pytest.mark.parametrize("size", [0, 51])
def test_chunk_size_is_bounded_by_the_portal_limit(size: int) -> None:
    with pytest.raises(ValueError):
        list(chunks({}, size))


def test_a_request_refuses_more_than_fifty_commands() -> None:
    commands = {f"c{n}": Command("crm.deal.get", {"id": n}) for n in range(51)}
    with pytest.raises(ValueError):
        batch.request(commands)
    body = batch.request(dict(list(commands.items())[:2]), halt=True)
    assert body == {"halt": 1, "cmd": {"c0": "crm.deal.get?id=0", "c1": "crm.deal.get?id=1"}}


def test_parse_reads_named_results_errors_and_php_empty_sections() -> None:
    answer = {
        "result": {"deal": {"ID": "1"}, "rows": []},
        "result_error": {"co": {"error": "", "error_description": "Not found"}},
        "result_total": {"rows": 0},
        "result_next": [],
        "result_time": [],
    }
    parsed = batch.parse(["deal", "rows", "co"], answer)
    assert parsed.results == {"deal": {"ID": "1"}, "rows": []}
    assert parsed.totals == {"rows": 0}
    assert isinstance(parsed.errors["co"], Permanent)
    assert "Not found" in str(parsed.errors["co"])


def test_parse_of_an_empty_answer() -> None:
    parsed = batch.parse(["a"], {"result": [], "result_error": [], "result_total": []})
    assert (parsed.results, parsed.errors, parsed.totals) == ({}, {}, {})
