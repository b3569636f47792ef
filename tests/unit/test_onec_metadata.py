from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.connectors.onec import metadata
from crmbridge.connectors.onec.profile import INVOICES, PROFILES, checked
from crmbridge.errors import ConfigError
from crmbridge.sandbox.bas import metadata as sandbox_metadata
from crmbridge.sandbox.bas.profiles import profile as sandbox_profile
from crmbridge.sandbox.bas.schema import Schema

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "bas"


def recorded() -> metadata.Metadata:
    return metadata.parse((RECORDED / "datex_metadata_excerpt.xml").read_bytes())


def emulated(name: str) -> metadata.Metadata:
    return metadata.parse(sandbox_metadata.render(Schema(sandbox_profile(name))))


def test_recorded_metadata_sets_types_and_keys() -> None:
    found = recorded()
    assert set(found.sets) == {
        "Catalog_Валюты",
        "Catalog_Контрагенты",
        "Catalog_Контрагенты_ВидыДеятельности",
    }
    parties = found.entity("Catalog_Контрагенты")
    assert parties is not None
    assert parties.keys == ("Ref_Key",)
    assert parties.properties["КодПоЕДРПОУ"] == "Edm.String"
    assert parties.properties["ГоловнойКонтрагент_Key"] == "Edm.Guid"
    assert "ГоловнойКонтрагент" in parties.navigations
    assert parties.tables() == {"ВидыДеятельности": "Catalog_Контрагенты_ВидыДеятельности_RowType"}
    rows = found.entity("Catalog_Контрагенты_ВидыДеятельности")
    assert rows is not None and rows.keys == ("Ref_Key", "LineNumber")


def test_recorded_metadata_function_imports_are_bound_to_their_type() -> None:
    found = recorded()
    assert found.functions["InformationRegister_КонтактнаяИнформация"] == frozenset({"SliceLast"})


def test_check_fields_names_unknown_and_server_owned_fields() -> None:
    found = recorded()
    assert found.check_fields("Catalog_Контрагенты", ["Description", "КодПоЕДРПОУ"]) == []
    problems = found.check_fields("Catalog_Контрагенты", ["КодПоЄДРПОУ", "Posted", "Code"])
    assert [p.field for p in problems] == ["КодПоЄДРПОУ", "Posted"]
    assert "did you mean КодПоЕДРПОУ" in problems[0].message
    assert "ignored" in problems[1].message
    assert found.check_fields("Catalog_Нет", ["Description"])[0].field == "Catalog_Нет"


def test_annotations_of_known_properties_pass() -> None:
    found = recorded()
    names = ["odata.type", "ВидыДеятельности@odata.type", "ГоловнойКонтрагент@odata.bind"]
    assert found.check_fields("Catalog_Контрагенты", names) == []
    assert found.check_fields("Catalog_Контрагенты", ["Нет@odata.bind"]) != []


def test_rows_fall_back_to_the_section_set_when_row_type_is_absent() -> None:
    # The excerpt omits the _RowType complex type, as shortened schemas do.
    found = recorded()
    good = {"ВидыДеятельности": [{"LineNumber": "1", "ВидДеятельности_Key": "x"}]}
    assert found.check_record("Catalog_Контрагенты", good) == []
    bad = {"ВидыДеятельности": [{"LineNumber": "1", "ВидДеятельнсти_Key": "x"}, {"A": 1}]}
    fields = [p.field for p in found.check_record("Catalog_Контрагенты", bad)]
    assert fields == ["ВидыДеятельности[1].ВидДеятельнсти_Key", "ВидыДеятельности[2]"]


@pytest.mark.parametrize("name", ["bas-buh", "bp30"])
def test_emulated_metadata_rows_use_row_types(name: str) -> None:
    found = emulated(name)
    row = found.row_type(INVOICES, "Товары")
    assert row is not None and row.name.endswith("_RowType")
    assert "Номенклатура_Key" in row.properties
    assert found.has_function(INVOICES, "Post") and found.has_function(INVOICES, "Unpost")
    section = PROFILES[name].services_section
    line = {"LineNumber": "1", "Номенклатура_Key": "x", "Количествo": 1}  # Latin o
    problems = found.check_record(INVOICES, {"Date": "2026-01-05", section: [line]})
    assert [p.field for p in problems] == [f"{section}[1].Количествo"]


@pytest.mark.parametrize("name", ["bas-buh", "bp30"])
def test_each_profile_fits_its_configuration_and_not_the_other(name: str) -> None:
    assert checked(name, emulated(name)).name == name
    other = "bp30" if name == "bas-buh" else "bas-buh"
    with pytest.raises(ConfigError, match="does not fit"):
        checked(name, emulated(other))
