"""The emulator against payloads recorded from real 1C servers (`tests/fixtures/recorded/bas`).

Values differ (other data); what must match is the shape: value kinds per field, field order,
envelopes, link URLs, error bodies and the `$metadata` layout. Sources: `SOURCES.md` there.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.sandbox.bas_support import EMPTY, INVOICES, Bas, running

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "bas"
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"
EDMX = "{http://schemas.microsoft.com/ado/2007/06/edmx}"
META = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def kind(value: Any) -> str:
    """The wire kind of a JSON value, as 1C conventions distinguish them."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str) and GUID.match(value):
        return "guid"
    if isinstance(value, str) and DATE.match(value):
        return "datetime"
    return "string"


# Fields whose recorded value is a digit string but whose type is Edm.String (codes, tax ids):
# their kind is "string" either way; Int64 fields must be digit strings.
INT64 = {"КратностьВзаиморасчетов", "LineNumber", "СрокОплаты", "НомерЧекаККМ"}


def assert_same_shape(ours: dict[str, Any], theirs: dict[str, Any], at_least: set[str]) -> None:
    common = [k for k in theirs if k in ours]
    assert at_least <= set(common), set(at_least) - set(common)
    for key in common:
        if kind(theirs[key]) in ("guid", "datetime") or kind(ours[key]) in ("guid", "datetime"):
            # an empty string is a valid recorded value of a composite; otherwise kinds agree
            if theirs[key] and ours[key]:
                assert kind(ours[key]) == kind(theirs[key]), key
        else:
            assert kind(ours[key]) == kind(theirs[key]), key
        if key in INT64:
            assert isinstance(ours[key], str) and ours[key].isdigit(), key
    ours_order = [k for k in ours if k in theirs]
    assert ours_order == common, "field order differs from the recorded entity"


def assert_links_like_recorded(entity: dict[str, Any], set_name: str) -> None:
    for key, url in entity.items():
        if key.endswith("@navigationLinkUrl"):
            attr = key.removesuffix("@navigationLinkUrl")
            assert url == f"{set_name}(guid'{entity['Ref_Key']}')/{attr}"
            assert entity[f"{attr}_Key"] != EMPTY  # links only for filled references
    keys = list(entity)
    first_link = next(i for i, k in enumerate(keys) if k.endswith("@navigationLinkUrl"))
    assert all(k.endswith("@navigationLinkUrl") for k in keys[first_link:])  # links come last


@pytest.fixture(params=["bp30", "bas-buh"])
def bas(request: pytest.FixtureRequest) -> Iterator[Bas]:
    with running(request.param) as env:
        yield env


def test_recorded_link_rule_holds_in_the_fixtures() -> None:
    # The rule the emulator follows, checked on the recordings themselves.
    card = recorded("bp30_catalog_kontragenty_entity.json")
    assert_links_like_recorded(card, "Catalog_Контрагенты")
    assert "УдалитьОсновнойДоговорКонтрагента@navigationLinkUrl" not in card
    document = recorded("bp30_document_realizaciya_collection.json")["value"][0]
    assert_links_like_recorded(document, "Document_РеализацияТоваровУслуг")


def test_counterparty_card_has_the_recorded_shape(bas: Bas) -> None:
    card = recorded("bp30_catalog_kontragenty_entity.json")
    party = bas.seed.counterparties[0]
    ours = bas.get(f"Catalog_Контрагенты(guid'{party.ref_key}')").json()
    ours.pop("odata.metadata")
    must = {
        "Ref_Key",
        "DataVersion",
        "DeletionMark",
        "Parent_Key",
        "IsFolder",
        "Code",
        "Description",
    }
    must |= {"НаименованиеПолное", "ОбособленноеПодразделение", "ЮридическоеФизическоеЛицо"}
    must |= {"ГоловнойКонтрагент_Key", "ИНН", "Комментарий", "КонтактнаяИнформация"}
    must |= {"Predefined", "PredefinedDataName", "ГоловнойКонтрагент@navigationLinkUrl"}
    if bas.profile == "bp30":
        must |= {"КПП", "КодПоОКПО", "РегистрационныйНомер"}
    assert_same_shape(ours, card, must)
    assert_links_like_recorded(ours, "Catalog_Контрагенты")
    assert ours["ГоловнойКонтрагент_Key"] == ours["Ref_Key"]  # a head points at itself, as recorded


def test_document_collection_has_the_recorded_shape(bas: Bas) -> None:
    envelope = recorded("bp30_document_realizaciya_collection.json")
    theirs = envelope["value"][0]
    created = bas.create_invoice(ТипЦен_Key=EMPTY)
    ours_envelope = bas.get(INVOICES).json()
    assert list(ours_envelope) == list(envelope)
    assert re.sub(r"#.*", "", ours_envelope["odata.metadata"]).endswith(
        "/odata/standard.odata/$metadata"
    )
    assert ours_envelope["odata.metadata"].endswith(f"#{INVOICES}")
    ours = ours_envelope["value"][0]
    must = {"Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted", "Организация_Key"}
    must |= {"Контрагент_Key", "ДоговорКонтрагента_Key", "ТипЦен_Key", "ВалютаДокумента_Key"}
    must |= {"КурсВзаиморасчетов", "КратностьВзаиморасчетов", "СуммаВключаетНДС", "СуммаДокумента"}
    must |= {"Ответственный_Key", "Комментарий", "Товары", "Организация@navigationLinkUrl"}
    assert_same_shape(ours, theirs, must)
    assert_links_like_recorded(ours, INVOICES)
    assert "ТипЦен@navigationLinkUrl" not in ours and "ТипЦен@navigationLinkUrl" not in theirs
    assert (
        re.fullmatch(r"[A-Za-z0-9+/]{11}=", ours["DataVersion"])
        and theirs["DataVersion"][-1] == "="
    )
    if bas.profile == "bp30":
        assert re.fullmatch(r"\d{4}-\d{6}", ours["Number"]) and re.fullmatch(
            r"\d{4}-\d{6}", theirs["Number"]
        )
    row_must = {
        "Ref_Key",
        "LineNumber",
        "Номенклатура_Key",
        "Количество",
        "Цена",
        "Сумма",
        "СтавкаНДС",
        "СуммаНДС",
    }
    assert_same_shape(ours["Товары"][0], theirs["Товары"][0], row_must)
    for rows, owner in ((ours["Товары"], ours["Ref_Key"]), (theirs["Товары"], theirs["Ref_Key"])):
        assert [r["Ref_Key"] for r in rows] == [owner] * len(rows)
        assert [r["LineNumber"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert created["Ref_Key"] == ours["Ref_Key"]


def test_empty_tabular_section_is_an_empty_array_as_recorded(bas: Bas) -> None:
    theirs = recorded("bp30_document_realizaciya_collection.json")["value"][0]
    assert theirs["Услуги"] == []
    body = bas.invoice_body()
    body.pop("Услуги", None)
    if bas.profile == "bp30":
        body["Товары"] = body["Товары"][:1]
    ours = bas.client.post(INVOICES, json=body).json()
    empty = "Услуги" if bas.profile == "bas-buh" else None
    if empty:
        assert ours[empty] == []
    assert (
        bas.get("Catalog_Контрагенты", **{"$top": "1"}).json()["value"][0]["КонтактнаяИнформация"]
        == []
    )


def _attrs(element: ET.Element | None) -> dict[str, str]:
    assert element is not None
    return dict(element.attrib)


def test_metadata_has_the_recorded_layout(bas: Bas) -> None:
    theirs = ET.parse(RECORDED / "datex_metadata_excerpt.xml").getroot()
    ours = ET.fromstring(bas.client.get("$metadata").content)
    assert ours.tag == theirs.tag == f"{EDMX}Edmx" and _attrs(ours) == _attrs(theirs)
    assert _attrs(ours.find(f"{EDMX}DataServices")) == _attrs(theirs.find(f"{EDMX}DataServices"))
    schema_o, schema_t = ours.find(f".//{EDM}Schema"), theirs.find(f".//{EDM}Schema")
    assert _attrs(schema_o) == _attrs(schema_t) == {"Namespace": "StandardODATA"}
    assert _attrs(ours.find(f".//{EDM}EntityContainer")) == _attrs(
        theirs.find(f".//{EDM}EntityContainer")
    )

    def entity(root: ET.Element, name: str) -> ET.Element:
        found = root.find(f".//{EDM}EntityType[@Name='{name}']")
        assert found is not None, name
        return found

    for root in (ours, theirs):  # same rules hold for both
        party = entity(root, "Catalog_Контрагенты")
        keys = [r.get("Name") for r in party.iter(f"{EDM}PropertyRef")]
        assert keys == ["Ref_Key"]
        props = {p.get("Name"): p.attrib for p in party.iter(f"{EDM}Property")}
        assert props["Ref_Key"] == {"Name": "Ref_Key", "Type": "Edm.Guid", "Nullable": "false"}
        assert (
            props["DataVersion"]["Type"] == "Edm.String"
            and props["Parent_Key"]["Nullable"] == "true"
        )
        tables = [p for p in props.values() if p["Type"].startswith("Collection(")]
        assert tables and all(
            re.fullmatch(r"Collection\(StandardODATA\.Catalog_Контрагенты_\w+_RowType\)", t["Type"])
            for t in tables
        )
        row_entity = entity(root, f"Catalog_Контрагенты_{tables[0]['Name']}")
        assert [r.get("Name") for r in row_entity.iter(f"{EDM}PropertyRef")] == [
            "Ref_Key",
            "LineNumber",
        ]
        line = next(p for p in row_entity.iter(f"{EDM}Property") if p.get("Name") == "LineNumber")
        assert line.attrib == {"Name": "LineNumber", "Type": "Edm.Int64", "Nullable": "false"}
        nav = party.find(f"{EDM}NavigationProperty[@Name='ГоловнойКонтрагент']")
        assert _attrs(nav) == {
            "Name": "ГоловнойКонтрагент",
            "Relationship": "StandardODATA.Catalog_Контрагенты_ГоловнойКонтрагент",
            "FromRole": "Begin",
            "ToRole": "End",
        }
        association = root.find(f".//{EDM}Association")
        assert association is not None
        ends = [(e.get("Role"), e.get("Multiplicity")) for e in association.iter(f"{EDM}End")]
        assert ends == [("Begin", "*"), ("End", "0..1")]
        entity_set = root.find(f".//{EDM}EntitySet[@Name='Catalog_Контрагенты']")
        assert _attrs(entity_set) == {
            "Name": "Catalog_Контрагенты",
            "EntityType": "StandardODATA.Catalog_Контрагенты",
        }
        slice_last = root.find(f".//{EDM}FunctionImport[@Name='SliceLast']")
        assert slice_last is not None
        assert {k: v for k, v in slice_last.attrib.items() if k != "ReturnType"} == {
            "Name": "SliceLast",
            "IsBindable": "true",
            "IsSideEffecting": "false",
        }
        params = [(p.get("Name"), p.get("Type")) for p in slice_last.iter(f"{EDM}Parameter")]
        assert [p[0] for p in params] == ["bindingParameter", "Condition", "Period"]
        assert params[1:] == [("Condition", "Edm.String"), ("Period", "Edm.DateTime")]


def test_not_found_error_has_the_documented_shape(bas: Bas) -> None:
    theirs = recorded("doc_odata_error_404.json")
    response = bas.get(f"{INVOICES}(guid'{EMPTY}')")
    assert response.status_code == 404
    ours = response.json()
    assert list(ours) == list(theirs) == ["odata.error"]
    assert list(ours["odata.error"]) == list(theirs["odata.error"]) == ["code", "message"]
    assert list(ours["odata.error"]["message"]) == list(theirs["odata.error"]["message"])
    assert ours["odata.error"]["code"] == theirs["odata.error"]["code"] == "9"
    assert ours["odata.error"]["message"]["lang"] == theirs["odata.error"]["message"]["lang"]
    assert "не найден по переданному ключу" in ours["odata.error"]["message"]["value"]


def test_xml_error_for_atom_requests_has_the_recorded_shape(bas: Bas) -> None:
    theirs = ET.parse(RECORDED / "onecdc_odata_error_minus1.xml").getroot()
    url = bas.odata + "Catalog_Контрагенты"
    auth = {"Authorization": bas.client.headers["Authorization"]}
    response = httpx.get(url, params={"$filter": f"Ref_Key gt guid'{EMPTY}'"}, headers=auth)
    assert response.status_code == 500
    ours = ET.fromstring(response.content)
    assert ours.tag == theirs.tag == f"{META}error"
    assert [c.tag for c in ours] == [c.tag for c in theirs] == [f"{META}code", f"{META}message"]
    assert ours[0].text == theirs[0].text == "-1"
    assert "Неверные параметры в операции" in (ours[1].text or "")
    assert re.match(r"\{\(\d+, \d+\)\}: ", ours[1].text or "") and re.match(
        r"\{\(\d+, \d+\)\}: ", theirs[1].text or ""
    )


def test_maintenance_body_has_the_recorded_structure(bas: Bas) -> None:
    theirs = recorded("onecdc_maintenance_403.json")
    bas.control.set_fault("bas", "maintenance")
    response = bas.get("Catalog_Валюты")
    assert response.status_code == 403

    def keys(node: Any) -> Any:
        return (
            {k: keys(v) for k, v in node.items()} if isinstance(node, dict) else type(node).__name__
        )

    assert keys(response.json()) == keys(theirs)
    ours = response.json()["exception"]
    assert ours["descr"].startswith("HTTP: Forbidden\nОшибка при выполнении запроса GET к ресурсу ")
    assert ours["inner"]["descr"] == theirs["exception"]["inner"]["descr"]


ATOM = "{http://www.w3.org/2005/Atom}"
DATA = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"


def _layout(entry: ET.Element) -> list[str]:
    """Child tags of an atom entry, with repeated `link` elements collapsed into one."""
    tags: list[str] = []
    for child in entry:
        if not tags or tags[-1] != child.tag:
            tags.append(child.tag)
    return tags


def test_atom_entry_has_the_recorded_layout(bas: Bas) -> None:
    theirs = ET.parse(RECORDED / "atom_entry_catalog.xml").getroot()
    party = bas.seed.counterparties[0]
    auth = {"Authorization": bas.client.headers["Authorization"]}
    response = httpx.get(bas.odata + f"Catalog_Контрагенты(guid'{party.ref_key}')", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml;type=entry")
    ours = ET.fromstring(response.content)
    assert ours.tag == theirs.tag == f"{ATOM}entry"
    assert _layout(ours) == _layout(theirs)
    for root in (ours, theirs):
        category = root.find(f"{ATOM}category")
        assert category is not None and category.get("term") == "StandardODATA.Catalog_Контрагенты"
        assert (
            category.get("scheme") == "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
        )
        updated = root.find(f"{ATOM}updated")
        assert updated is not None and DATE.match(updated.text or "")  # naive, no zone
        links = root.findall(f"{ATOM}link")
        assert links[-1].attrib == {
            "rel": "edit",
            "href": links[-1].get("href", ""),
            "title": "edit-link",
        }
        related = links[0]
        assert related.get("rel", "").startswith(
            "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"
        )
        assert related.get("type") == "application/atom+xml;type=entry;charset=utf-8"
        props = root.find(f"{ATOM}content/{META}properties")
        assert props is not None and root.find(f"{ATOM}content") is not None
        values = {child.tag.removeprefix(DATA): child for child in props}
        assert values["DeletionMark"].text == "false" and values["Predefined"].text == "false"
        assert values["PredefinedDataName"].text is None  # an empty string is an empty element
        assert not any(
            META + "type" in child.attrib for child in props if len(child) == 0 and child.text
        )
        tables = [c for c in props if c.get(f"{META}type", "").startswith("Collection(")]
        assert tables and all(
            re.fullmatch(
                r"Collection\(StandardODATA\.Catalog_Контрагенты_\w+_RowType\)",
                t.get(f"{META}type", ""),
            )
            for t in tables
        )
    assert ours.findtext(f"{ATOM}id") == bas.odata + f"Catalog_Контрагенты(guid'{party.ref_key}')"
