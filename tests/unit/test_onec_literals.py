from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import httpx
import pytest

from crmbridge.connectors.onec import literals, query
from crmbridge.connectors.onec.auth import Utf8BasicAuth, basic_header

REF = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"


def test_guid_literal_normalises_and_refuses_non_guids() -> None:
    assert literals.guid(REF.upper()) == f"guid'{REF}'"
    with pytest.raises(ValueError):
        literals.guid("x') or (1 eq 1")


def test_datetime_literal_is_naive_wall_clock() -> None:
    assert literals.datetime_literal(datetime(2026, 1, 5)) == "datetime'2026-01-05T00:00:00'"
    assert literals.datetime_literal(date(2026, 1, 5)) == "datetime'2026-01-05T00:00:00'"
    assert literals.datetime_literal("2026-01-05T10:30") == "datetime'2026-01-05T10:30:00'"
    stamp = datetime(2026, 1, 5, 10, 30, 15, 999)
    assert literals.datetime_literal(stamp) == "datetime'2026-01-05T10:30:15'"
    with pytest.raises(ValueError):
        literals.datetime_literal(datetime(2026, 1, 5, tzinfo=UTC))


def test_string_literal_doubles_apostrophes() -> None:
    assert literals.string("Зоря") == "'Зоря'"
    assert literals.string("Ім'я 'ТОВ'") == "'Ім''я ''ТОВ'''"


def test_numbers_have_no_exponent() -> None:
    assert literals.number(Decimal("1E+20")) == "100000000000000000000"
    assert literals.number(0.1) == "0.1"
    assert literals.literal(True) == "true"
    with pytest.raises(TypeError):
        literals.number(True)
    with pytest.raises(TypeError):
        literals.literal(object())


def test_entity_path_encodes_cyrillic_keeps_odata_punctuation() -> None:
    path = literals.entity_path("Document_СчетНаОплатуПокупателю", REF, "Post")
    assert path.startswith("Document_%D0%A1%D1%87%D0%B5%D1%82")
    assert path.endswith(f"(guid'{REF}')/Post")
    assert path.isascii()
    assert unquote(path) == f"Document_СчетНаОплатуПокупателю(guid'{REF}')/Post"


def test_function_path_carries_a_condition_literal() -> None:
    condition = literals.string(query.ref_eq("ТипЦен_Key", REF))
    path = literals.function_path(
        "InformationRegister_ЦеныНоменклатуры", "SliceLast", {"Condition": condition}
    )
    assert unquote(path) == (
        f"InformationRegister_ЦеныНоменклатуры/SliceLast(Condition='ТипЦен_Key eq guid''{REF}''')"
    )
    assert " " not in path and path.isascii()


def test_query_string_encodes_values_but_not_dollar_or_quotes() -> None:
    text = literals.query_string(
        {"$filter": "Description eq 'A&B + C'", "$orderby": "Date,Ref_Key", "$top": "50"}
    )
    assert text.startswith("$filter=Description%20eq%20'A%26B%20%2B%20C'&")
    assert "$orderby=Date,Ref_Key" in text and text.endswith("$top=50")


def test_query_filters() -> None:
    assert query.matching({"ИНН": "123", "Owner_Key": REF}) == (
        f"ИНН eq '123' and Owner_Key eq guid'{REF}'"
    )
    assert query.composite_eq("Сделка", REF, "Document_X") == (
        f"Сделка eq cast(guid'{REF}', 'Document_X')"
    )
    assert query.all_of("A eq 1 or B eq 2", None, "C eq 3") == "(A eq 1 or B eq 2) and C eq 3"
    assert query.all_of() is None
    q = query.Query(filter="Posted eq true", orderby=("Date", "Ref_Key"), top=10, skip=20)
    assert q.params() == {
        "$format": "json",
        "$filter": "Posted eq true",
        "$orderby": "Date,Ref_Key",
        "$top": "10",
        "$skip": "20",
    }
    assert q.with_page(0, 5).params()["$top"] == "5"
    assert "$skip" not in q.with_page(0, 5).params()


def test_basic_auth_encodes_cyrillic_user_as_utf8_and_hides_password() -> None:
    header = basic_header("Адміністратор", "пароль")
    assert base64.b64decode(header[6:]).decode("utf-8") == "Адміністратор:пароль"
    auth = Utf8BasicAuth("Адміністратор", "s3cret-pass")
    request = httpx.Request("GET", "http://bas.local/")
    sent = next(auth.auth_flow(request))
    assert sent.headers["Authorization"] == basic_header("Адміністратор", "s3cret-pass")
    assert "s3cret" not in repr(auth) and "s3cret" not in str(auth)
    assert sent.headers["Authorization"][6:] not in repr(auth)


def test_or_groups_keep_each_encoded_filter_within_the_budget() -> None:
    from urllib.parse import quote

    from crmbridge.connectors.onec import query

    refs = [f"00000000-0000-0000-0000-{n:012d}" for n in range(40)]

    def condition(ref: str) -> str:
        return query.composite_eq("Сделка", ref, "Document_СчетНаОплатуПокупателю")

    groups = list(query.or_groups(refs, condition))
    assert [r for g in groups for r in g] == refs  # every key once, in order
    assert len(groups) > 1
    for group in groups:
        assert len(quote(query.any_of(group, condition), safe="")) <= query.FILTER_BUDGET
