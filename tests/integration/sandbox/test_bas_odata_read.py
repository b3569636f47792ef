"""Reading through the emulated OData interface over real HTTP, for both profiles."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.integration.sandbox.bas_support import EMPTY, INVOICES, Bas, running

PARTIES = "Catalog_Контрагенты"


@pytest.fixture(params=["bas-buh", "bp30"])
def bas(request: pytest.FixtureRequest) -> Iterator[Bas]:
    with running(request.param) as env:
        yield env


def test_service_document_lists_published_sets_and_tabular_sections(bas: Bas) -> None:
    names = {s["name"] for s in bas.value("")}
    assert {
        PARTIES,
        INVOICES,
        f"{INVOICES}_Товары",
        "InformationRegister_ЦеныНоменклатуры",
    } <= names
    assert "Catalog_Пользователи" not in names  # outside the composition


def test_metadata_is_edmx_generated_from_the_profile(bas: Bas) -> None:
    response = bas.client.get("$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/xml"
    )
    ns = {"e": "http://schemas.microsoft.com/ado/2009/11/edm"}
    tree = ET.fromstring(response.content)
    types = {t.get("Name"): t for t in tree.iter(f"{{{ns['e']}}}EntityType")}
    party = {p.get("Name"): p.get("Type") for p in types[PARTIES].iter(f"{{{ns['e']}}}Property")}
    if bas.profile == "bas-buh":
        assert party["КодПоЕДРПОУ"] == "Edm.String" and "КПП" not in party
        assert f"{INVOICES}_Услуги" in types
    else:
        assert party["КПП"] == "Edm.String" and "КодПоЕДРПОУ" not in party
        assert f"{INVOICES}_Услуги" not in types
    contract = {p.get("Name"): p.get("Type") for p in types["Catalog_ДоговорыКонтрагентов"]}
    assert contract["СрокОплаты"] == "Edm.Int64" and contract["Owner_Key"] == "Edm.Guid"
    functions = [f.get("Name") for f in tree.iter(f"{{{ns['e']}}}FunctionImport")]
    assert {"SliceLast", "Post", "Unpost"} <= set(functions)


def test_json_by_format_or_accept_header_and_atom_errors_otherwise(bas: Bas) -> None:
    auth = {"Authorization": bas.client.headers["Authorization"]}
    with httpx.Client(base_url=bas.odata, headers=auth) as plain:
        by_format = plain.get(PARTIES, params={"$format": "json", "$top": "1"})
        by_accept = plain.get(PARTIES, params={"$top": "1"}, headers={"Accept": "application/json"})
        missing = plain.get("Catalog_Нету")
    assert by_format.json() == by_accept.json()
    assert by_format.json()["odata.metadata"] == f"{bas.odata}$metadata#{PARTIES}"
    assert missing.status_code == 404 and missing.text.startswith("<?xml")
    assert ET.fromstring(missing.content).tag.endswith("error")


def test_atom_is_the_default_representation(bas: Bas) -> None:
    auth = {"Authorization": bas.client.headers["Authorization"]}
    response = httpx.get(bas.odata + PARTIES, params={"$inlinecount": "allpages"}, headers=auth)
    assert response.headers["content-type"].startswith("application/atom+xml;type=feed")
    feed = ET.fromstring(response.content)
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == len(bas.seed.counterparties)
    meta = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
    assert feed.findtext(f"{meta}count") == str(len(entries))
    data = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
    names = {e.findtext(f"{atom}content/{meta}properties/{data}Description") for e in entries}
    assert bas.seed.counterparties[0].name in names
    service = httpx.get(bas.odata, headers=auth)
    assert PARTIES in service.text and service.text.startswith("<?xml")


def test_nometadata_drops_metadata_and_links(bas: Bas) -> None:
    body = bas.client.get(PARTIES, params={"$format": "application/json;odata=nometadata"}).json()
    assert "odata.metadata" not in body
    assert not any("@navigationLinkUrl" in k for row in body["value"] for k in row)


def test_single_entity_by_guid_key_with_wire_conventions(bas: Bas) -> None:
    party = bas.seed.counterparties[0]
    response = bas.get(f"{PARTIES}(guid'{party.ref_key}')")
    body = response.json()
    assert body["odata.metadata"].endswith(f"$metadata#{PARTIES}/@Element")
    assert body["Ref_Key"] == party.ref_key and body["Description"] == party.name
    assert re.fullmatch(r"[A-Za-z0-9+/]{11}=", body["DataVersion"])
    assert body["Parent_Key"] == EMPTY and body["КонтактнаяИнформация"] == []
    contract = bas.get(
        f"Catalog_ДоговорыКонтрагентов(guid'{body['ОсновнойДоговорКонтрагента_Key']}')"
    ).json()
    assert contract["СрокОплаты"] == "5"  # Edm.Int64 travels as a string
    assert contract["Owner_Key"] == party.ref_key
    empty_date = bas.value("Document_ПоступлениеНаРасчетныйСчет")
    assert empty_date == []


def test_tax_codes_per_profile_branch_and_fop(bas: Bas) -> None:
    head, branch, fop = (
        bas.seed.counterparties[0],
        bas.seed.counterparties[-2],
        bas.seed.counterparties[-1],
    )
    field = "КодПоЕДРПОУ" if bas.profile == "bas-buh" else "ИНН"
    rows = bas.value(PARTIES, **{"$filter": f"{field} eq '{head.edrpou}'"})
    assert {r["Ref_Key"] for r in rows} == {head.ref_key, branch.ref_key}
    by_ref = {r["Ref_Key"]: r for r in rows}
    assert by_ref[branch.ref_key]["ОбособленноеПодразделение"] is True
    assert by_ref[branch.ref_key]["ГоловнойКонтрагент_Key"] == head.ref_key
    if bas.profile == "bp30":
        assert by_ref[head.ref_key]["КПП"] != by_ref[branch.ref_key]["КПП"]
    person = bas.value(PARTIES, **{"$filter": f"{field} eq '{fop.edrpou}'"})
    assert [p["ЮридическоеФизическоеЛицо"] for p in person] == ["ФизическоеЛицо"]
    assert len(fop.edrpou) == 10


def test_filter_operators_literals_and_escaping(bas: Bas) -> None:
    products = bas.value(
        "Catalog_Номенклатура", **{"$filter": "Услуга eq true and IsFolder eq false"}
    )
    assert products and all(p["Услуга"] for p in products)
    goods = bas.value(
        "Catalog_Номенклатура",
        **{"$filter": "not (Услуга eq true) and (IsFolder eq false) and СтавкаНДС ne 'НДС7'"},
    )
    assert goods and all(not p["Услуга"] and p["СтавкаНДС"] != "НДС7" for p in goods)
    quoted = bas.value(
        "Catalog_Номенклатура", **{"$filter": "substringof('Монітор 27\" IPS', Description)"}
    )
    assert {p["Description"] for p in quoted} == {'Монітор 27" IPS', 'Монітор 27" IPS (серія 2)'}
    nobody = bas.value(PARTIES, **{"$filter": "Description eq 'O''Brien' or Code eq '999'"})
    assert nobody == []
    contracts = bas.value(
        "Catalog_ДоговорыКонтрагентов", **{"$filter": "Дата ge datetime'2025-01-01T00:00:00'"}
    )
    assert len(contracts) == len(bas.seed.counterparties)


def test_filter_on_a_reference_with_gt_is_a_platform_error(bas: Bas) -> None:
    response = bas.get(PARTIES, **{"$filter": f"Ref_Key gt guid'{EMPTY}'"})
    assert response.status_code == 500
    error = response.json()["odata.error"]
    assert (
        error["code"] == "-1"
        and "Неверные параметры в операции сравнения" in error["message"]["value"]
    )


def test_bad_filter_is_a_400_with_code_14(bas: Bas) -> None:
    response = bas.get(PARTIES, **{"$filter": "Code eq 'open"})
    assert response.status_code == 400 and response.json()["odata.error"]["code"] == "14"


def test_select_top_skip_orderby_and_inlinecount(bas: Bas) -> None:
    ordered = bas.value(PARTIES, **{"$select": "Code,Description", "$orderby": "Code desc"})
    assert set(ordered[0]) == {"Code", "Description"}
    codes = [r["Code"] for r in ordered]
    assert codes == sorted(codes, reverse=True)
    paged = bas.value(PARTIES, **{"$orderby": "Code", "$skip": "2", "$top": "3", "$select": "Code"})
    assert [r["Code"] for r in paged] == sorted(codes)[2:5]
    counted = bas.get(PARTIES, **{"$inlinecount": "allpages", "$top": "1"}).json()
    assert counted["odata.count"] == str(len(codes))  # a string: Edm.Int64
    # 17.4.6.2: with $inlinecount the server ignores $top and $skip (profile setting)
    assert len(counted["value"]) == len(codes)


def test_orderby_reference_sorts_by_presentation(bas: Bas) -> None:
    rows = bas.value(PARTIES, **{"$orderby": "Ref_Key", "$select": "Description"})
    names = [r["Description"] for r in rows]
    assert names == sorted(names, key=str.casefold)


def test_expand_reference_and_navigation(bas: Bas) -> None:
    contracts = bas.value("Catalog_ДоговорыКонтрагентов", **{"$expand": "Owner", "$top": "1"})
    assert contracts[0]["Owner"]["Ref_Key"] == contracts[0]["Owner_Key"]
    ref = contracts[0]["Ref_Key"]
    owner = bas.get(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')/Owner").json()
    assert owner["odata.metadata"].endswith(f"#{PARTIES}/@Element")
    assert owner["Ref_Key"] == contracts[0]["Owner_Key"]
    single = bas.get(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')", **{"$expand": "Owner"})
    assert single.status_code == 400  # $expand is not supported on a single entity
    described = bas.get(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')/Description").json()
    assert described["value"] == contracts[0]["Description"]


def test_unknown_set_and_unknown_key_are_404(bas: Bas) -> None:
    assert bas.get("Catalog_Пользователи").status_code == 404  # not published
    missing = bas.get(f"{PARTIES}(guid'{EMPTY}')")
    assert missing.status_code == 404
    assert missing.json()["odata.error"]["code"] == "9"


def test_percent_encoded_cyrillic_path_and_query(bas: Bas) -> None:
    encoded = quote(PARTIES) + "?%24format=json&%24filter=" + quote("Code eq '000000001'")
    response = httpx.get(
        bas.odata + encoded, headers={"Authorization": bas.client.headers["Authorization"]}
    )
    assert response.status_code == 200
    assert [r["Code"] for r in response.json()["value"]] == ["000000001"]
    assert "%D0%9A" in encoded


def test_prices_register_and_slice_last(bas: Bas) -> None:
    register = "InformationRegister_ЦеныНоменклатуры"
    product = bas.seed.products[0]
    history = bas.value(register, **{"$filter": f"Номенклатура_Key eq guid'{product.ref_key}'"})
    assert len(history) == 2
    price_type = f"ТипЦен_Key eq guid''{bas.seed.price_type_ref_key}''"
    condition = f"{price_type} and Номенклатура_Key eq guid''{product.ref_key}''"
    latest = bas.value(f"{register}/SliceLast(Condition='{condition}')")
    assert [r["Цена"] for r in latest] == [float(product.price)]
    earlier = bas.value(
        f"{register}/SliceLast(Period=datetime'2025-06-01T00:00:00', Condition='{condition}')"
    )
    assert [r["Period"] for r in earlier] == ["2025-01-01T00:00:00"]
    assert len(bas.value(f"{register}/SliceLast()")) == len(bas.seed.products)
    assert bas.get(f"{register}/SliceLast()", **{"$skip": "1"}).status_code == 400


def test_catalog_contents_from_seed(bas: Bas) -> None:
    org = bas.value("Catalog_Организации")[0]
    account = bas.get(f"Catalog_БанковскиеСчета(guid'{org['ОсновнойБанковскийСчет_Key']}')").json()
    assert account["НомерСчета"] == bas.seed.organisation.iban
    assert (
        account["Owner"] == org["Ref_Key"]
        and account["Owner_Type"] == "StandardODATA.Catalog_Организации"
    )
    tax = org["КодПоЕДРПОУ"] if bas.profile == "bas-buh" else org["ИНН"]
    assert tax == bas.seed.organisation.edrpou
    assert [c["Code"] for c in bas.value("Catalog_Валюты")] == ["980"]
    assert bas.value("Catalog_ТипыЦенНоменклатуры")[0]["Description"] == bas.seed.price_type_name


def test_tabular_section_set_lists_rows_of_all_documents(bas: Bas) -> None:
    first, second = bas.create_invoice(), bas.create_invoice(Комментарий="другий")
    rows = bas.value(f"{INVOICES}_Товары", **{"$orderby": "Ref_Key,LineNumber"})
    assert {r["Ref_Key"] for r in rows} == {first["Ref_Key"], second["Ref_Key"]}
    assert all(isinstance(r["LineNumber"], str) for r in rows)
    one = bas.get(f"{INVOICES}_Товары(Ref_Key=guid'{first['Ref_Key']}', LineNumber=1)").json()
    assert one["Ref_Key"] == first["Ref_Key"] and one["LineNumber"] == "1"


def test_count_batch_and_navigation_in_filter(bas: Bas) -> None:
    counted = bas.client.get(f"{PARTIES}/$count", params={"$filter": "IsFolder eq false"})
    assert counted.status_code == 200 and counted.text == str(len(bas.seed.counterparties))
    assert bas.client.post("$batch", content=b"--x").status_code == 404  # $batch is not served
    head = bas.seed.counterparties[0]
    rows = bas.value(
        "Catalog_ДоговорыКонтрагентов", **{"$filter": f"Owner/Description eq '{head.name}'"}
    )
    assert [r["Owner_Key"] for r in rows] == [head.ref_key]
    unknown = bas.get(PARTIES, **{"$filter": "НетТакого eq 1"})
    assert unknown.status_code == 400 and unknown.json()["odata.error"]["code"] == "10"
    assert bas.get(PARTIES, **{"$expand": "НетТакого"}).status_code == 400


def test_select_star_variants_and_tabular_columns(bas: Bas) -> None:
    invoice = bas.create_invoice()
    url = f"{INVOICES}(guid'{invoice['Ref_Key']}')"
    no_tables = bas.get(url, **{"$select": "**"}).json()
    assert "Товары" not in no_tables and "Number" in no_tables
    everything = bas.get(url, **{"$select": "*"}).json()
    assert "Товары" in everything
    rows_only = bas.get(url, **{"$select": "Number,Товары/Сумма"}).json()
    assert set(rows_only) - {"odata.metadata"} == {"Number", "Товары"}
    assert all(set(row) == {"Сумма"} for row in rows_only["Товары"])


def test_plus_in_query_is_a_space(bas: Bas) -> None:
    auth = {"Authorization": bas.client.headers["Authorization"], "Accept": "application/json"}
    url = bas.odata + quote(PARTIES) + "?$filter=Code+eq+'000000002'"
    assert [r["Code"] for r in httpx.get(url, headers=auth).json()["value"]] == ["000000002"]


def test_register_record_by_composite_key(bas: Bas) -> None:
    register = "InformationRegister_ЦеныНоменклатуры"
    product = bas.seed.products[1]
    key = (
        f"Period=datetime'2026-01-01T00:00:00', Номенклатура_Key=guid'{product.ref_key}', "
        f"ТипЦен_Key=guid'{bas.seed.price_type_ref_key}'"
    )
    record = bas.get(f"{register}({key})").json()
    assert record["Цена"] == float(product.price)
    assert bas.get(f"{register}({key.replace('2026', '2024')})").status_code == 404
    assert bas.get(f"{register}(Period=datetime'2026-01-01T00:00:00')").status_code == 400
