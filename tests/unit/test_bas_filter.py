"""The `$filter` tokenizer, parser and evaluator of the BAS emulator, without HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.filterparse import (
    Binary,
    Call,
    Lexer,
    Lit,
    Prop,
    Unary,
    parse_filter,
    parse_orderby,
    parse_params,
)
from crmbridge.sandbox.bas.query import evaluate, matches
from crmbridge.sandbox.bas.resource import parse, segments

GUID = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"
OTHER = "a348aa8c-d629-11e5-0a9b-000c295e30eb"
ROW: dict[str, Any] = {
    "Description": "ТОВ «Альфа-Трейд»",
    "Code": "000000001",
    "Контрагент_Key": GUID,
    "Date": "2026-03-04T10:00:00",
    "Сумма": Decimal("1578.50"),
    "Posted": True,
    "Сделка": (GUID, "StandardODATA.Document_СчетНаОплатуПокупателю"),
}
KINDS = {"Контрагент_Key": "guid", "Date": "datetime", "Сумма": "number", "Posted": "bool"}


def resolve(row: dict[str, Any], path: tuple[str, ...]) -> tuple[Any, str]:
    name = path[0]
    if name == "Сделка":
        return row[name], "composite"
    return row[name], KINDS.get(name, "string")


def holds(text: str) -> bool:
    return matches(parse_filter(text), ROW, resolve)


# tokenizer ----------------------------------------------------------------------------------
def test_string_literal_with_doubled_quote_is_one_token() -> None:
    tokens = Lexer("Description eq 'O''Brien, (Київ)'").tokens()
    assert [t.kind for t in tokens] == ["ident", "ident", "string", "end"]
    assert tokens[2].value == "O'Brien, (Київ)"


def test_typed_literals_and_cyrillic_names() -> None:
    tokens = Lexer(
        f"Контрагент_Key eq guid'{GUID}' and Date ge datetime'2026-01-01T00:00:00'"
    ).tokens()
    typed = [(t.prefix, t.value) for t in tokens if t.kind == "typed"]
    assert typed == [("guid", GUID), ("datetime", "2026-01-01T00:00:00")]
    assert tokens[0].value == "Контрагент_Key"


def test_numbers_negative_decimal_and_suffix() -> None:
    assert [t.value for t in Lexer("-12.5 3M 1e3").tokens()[:3]] == ["-12.5", "3", "1e3"]


def test_unterminated_string_is_a_query_error() -> None:
    with pytest.raises(ODataError) as caught:
        parse_filter("Description eq 'open")
    assert (caught.value.status, caught.value.code) == (400, "14")


@pytest.mark.parametrize(
    "text", ["Code eq", "eq 1", "Code eq 1 eq 2", "(Code eq 1", "Code # 1", "Code eq 1)", "f(,)"]
)
def test_malformed_filters_are_rejected(text: str) -> None:
    with pytest.raises(ODataError) as caught:
        parse_filter(text)
    assert caught.value.code == "14"


# parser -------------------------------------------------------------------------------------
def test_and_binds_tighter_than_or() -> None:
    tree = parse_filter("Code eq '1' or Code eq '2' and Posted eq true")
    assert isinstance(tree, Binary) and tree.op == "or"
    assert isinstance(tree.right, Binary) and tree.right.op == "and"


def test_parentheses_regroup() -> None:
    tree = parse_filter("(Code eq '1' or Code eq '2') and Posted eq true")
    assert isinstance(tree, Binary) and tree.op == "and"
    assert isinstance(tree.left, Binary) and tree.left.op == "or"


def test_not_call_and_navigation_path() -> None:
    tree = parse_filter("not substringof('Альфа', Контрагент/Description)")
    assert isinstance(tree, Unary) and tree.op == "not"
    call = tree.operand
    assert isinstance(call, Call) and call.name == "substringof"
    assert call.args == (Lit("Альфа", "string"), Prop(("Контрагент", "Description"), 25))


def test_bad_guid_literal_is_rejected() -> None:
    with pytest.raises(ODataError):
        parse_filter("Ref_Key eq guid'not-a-guid'")


# evaluation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Description eq 'тов «альфа-трейд»'", True),  # 1C compares strings ignoring case
        ("Description ne 'ТОВ «Альфа-Трейд»'", False),
        (f"Контрагент_Key eq guid'{GUID}'", True),
        (f"Контрагент_Key eq guid'{OTHER}'", False),
        ("Date ge datetime'2026-03-04T10:00:00' and Date lt datetime'2026-03-05'", True),
        ("Date gt datetime'2026-03-04T10:00'", False),
        ("Сумма gt 1578 and Сумма le 1578.5", True),
        ("Сумма eq 1578.50", True),
        ("Сумма sub 78.5 eq 1500", True),
        ("Posted eq true", True),
        ("not (Posted eq true) or Code eq '000000001'", True),
        ("not Posted eq false", True),
        ("substringof('альфа', Description)", True),
        ("startswith(Description, 'ТОВ') and endswith(Description, 'Трейд»')", True),
        ("year(Date) eq 2026 and month(Date) eq 3 and day(Date) eq 4", True),
        (f"Сделка eq guid'{GUID}'", False),  # a composite never equals a bare guid
        (f"Сделка eq cast(guid'{GUID}', 'Document_СчетНаОплатуПокупателю')", True),
        (f"Сделка eq cast(guid'{GUID}', 'Document_РеализацияТоваровУслуг')", False),
        ("Code eq 1", False),  # a string is not a number
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_ordering_a_reference_is_the_platform_error() -> None:
    with pytest.raises(ODataError) as caught:
        holds(f"Контрагент_Key gt guid'{OTHER}'")
    assert (caught.value.status, caught.value.code) == (500, "-1")
    assert "Неверные параметры в операции сравнения" in caught.value.message


@pytest.mark.parametrize(
    "text", ["tolower(Description) eq 'x'", "substringof('x')", "length(Code) eq 9"]
)
def test_unsupported_functions_answer_code_21(text: str) -> None:
    with pytest.raises(ODataError) as caught:
        holds(text)
    assert caught.value.code == "21"


def test_evaluate_returns_typed_values() -> None:
    assert evaluate(parse_filter("Сумма add 1"), ROW, resolve) == (Decimal("1579.50"), "number")


# keys, parameters, $orderby, paths ------------------------------------------------------------
def test_key_forms() -> None:
    assert parse_params(f"guid'{GUID}'") == (Lit(GUID, "guid"), {})
    bare, named = parse_params(f"Ref_Key=guid'{GUID}', LineNumber=2")
    assert bare is None and named == {
        "Ref_Key": Lit(GUID, "guid"),
        "LineNumber": Lit(Decimal(2), "number"),
    }


def test_condition_parameter_keeps_nested_quotes() -> None:
    _, named = parse_params(
        f"Condition='ТипЦен_Key eq guid''{GUID}''', Period=datetime'2026-01-01T00:00:00'"
    )
    assert named["Condition"].value == f"ТипЦен_Key eq guid'{GUID}'"
    assert named["Period"] == Lit("2026-01-01T00:00:00", "datetime")


def test_orderby() -> None:
    assert parse_orderby("Date desc, Контрагент/Description, Code asc") == [
        (("Date",), True),
        (("Контрагент", "Description"), False),
        (("Code",), False),
    ]


def test_path_segments_respect_quotes() -> None:
    found = segments("InformationRegister_Ц/SliceLast(Condition='A/B eq '')''')")
    assert [s.name for s in found] == ["InformationRegister_Ц", "SliceLast"]
    assert found[1].params == "Condition='A/B eq '')'''"
    resource = parse(f"Document_X(guid'{GUID}')/Post")
    assert resource.key == Lit(GUID, "guid") and [s.name for s in resource.rest] == ["Post"]
