"""The invoice PDF the flow attaches to the deal, on both profiles, checked field by field.

The bridge issues the invoice of a deal on the sandbox (a plain BAS: no extension), the PDF is
taken back from the deal's timeline comment and read with pypdf, and every value printed is
compared with the BAS records read from the sandbox's OData interface (and drawing it again gives
the same bytes): the supplier (name, codes,
IBAN, bank, address, VAT status), the buyer, the contract, number and date, each line, VAT, total
and the total in words. With `pdf: bas-extension` the PDF comes from the extension's service, and
without the extension that choice fails the job with a clear reason instead of attaching nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from crmbridge import documents
from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.config.model import Config
from crmbridge.connectors.onec.literals import parse_datetime
from crmbridge.documents.model import long_date, money, quantity
from crmbridge.documents.words import hryvnias
from crmbridge.sandbox.bitrix24 import files
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store.database import Database, open_database
from crmbridge.store.jobs import NewJob
from crmbridge.store.journal import exchanges_for
from crmbridge.store.migrate import migrate
from tests.e2e.test_typical_scenario import DEAL, EXAMPLE, drain, enqueue
from tests.integration.connectors.bas_support import bas_connector
from tests.support.sandbox import running_sandbox

LEGAL_ADDRESS = "ЮрАдресОрганизации"


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'crmbridge.db'}")
    migrate(database)
    yield database
    database.dispose()


def bridge_config(sandbox: Sandbox, pdf: str) -> Config:
    """examples/sandbox.yaml for the sandbox's profile, with `issue_invoice.pdf` set."""
    config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}).config
    profile = sandbox.settings.profile
    mappings = dict(config.mappings)
    if profile == "bp30":  # BP 3.0 has no КодПоЕДРПОУ; the flow writes the tax code to ИНН
        fields = dict(mappings["client"].fields)
        del fields["КодПоЕДРПОУ"], fields["ИНН"]
        mappings["client"] = mappings["client"].model_copy(update={"fields": fields})
    assert config.flows.issue_invoice is not None
    flow = config.flows.issue_invoice.model_copy(update={"pdf": pdf})
    bas = config.systems.bas.model_copy(update={"profile": profile})
    return config.model_copy(
        update={
            "systems": config.systems.model_copy(update={"bas": bas}),
            "mappings": mappings,
            "flows": config.flows.model_copy(update={"issue_invoice": flow}),
        }
    )


def issue(sandbox: Sandbox, db: Database, pdf: str = "render") -> dict[str, int]:
    application = Application(bridge_config(sandbox, pdf), db)
    try:
        sandbox.bitrix24.set_deal_stage(DEAL, "PREPAYMENT_INVOICE")
        job = NewJob("deal-changed", {"id": str(DEAL)}, lock_key=f"deal:{DEAL}", coalesce=True)
        enqueue(db, job)
        drain(application, db)
    finally:
        application.close()
    return q.counts_by_status(db)


def attached_pdf(sandbox: Sandbox) -> bytes:
    [comment] = sandbox.bitrix24.comments(DEAL)
    [file_id] = comment["FILES"]
    found = files.content(sandbox.bitrix24.portal, int(file_id))
    assert found is not None
    return found[1]


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


class OData:
    """The sandbox's BAS as a client sees it: the records the PDF is checked against."""

    def __init__(self, sandbox: Sandbox) -> None:
        user, password = sandbox.bas_credentials
        self.http = httpx.Client(
            base_url=sandbox.odata_url,
            auth=(user.encode(), password.encode()),
            headers={"Accept": "application/json"},
        )

    def get(self, entity_set: str, ref: str) -> dict[str, Any]:
        response = self.http.get(f"{entity_set}(guid'{ref}')")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def vat_payer(self, register: str, org: str, at: str) -> bool:
        params = {"Period": f"datetime'{at}'", "Condition": f"Организация_Key eq guid'{org}'"}
        [row] = self.http.get(f"{register}/SliceLast", params=params).json()["value"]
        return bool(row["ПлательщикНДС"])


def _money(value: Any) -> str:
    return money(Decimal(str(value)))


def expected_supplier(bas: OData, profile: str, invoice: dict[str, Any]) -> list[str]:
    org = bas.get("Catalog_Организации", invoice["Организация_Key"])
    account = bas.get("Catalog_БанковскиеСчета", org["ОсновнойБанковскийСчет_Key"])
    bank = bas.get("Catalog_Банки", account["Банк_Key"])
    [address] = [
        row["Представление"]
        for row in org["КонтактнаяИнформация"]
        if bas.get("Catalog_ВидыКонтактнойИнформации", row["Вид_Key"])["PredefinedDataName"]
        == LEGAL_ADDRESS
    ]
    bank_code = "МФО" if profile == "bas-buh" else "БИК"
    texts = [org["НаименованиеПолное"], f"Адреса: {address}"]
    texts.append(f"Р/р {account['НомерСчета']} у {bank['Description']}, {bank_code} {bank['Code']}")
    register = {
        "bas-buh": "InformationRegister_УчетнаяПолитикаОрганизаций",
        "bp30": "InformationRegister_НастройкиСистемыНалогообложения",
    }[profile]
    assert bas.vat_payer(register, org["Ref_Key"], invoice["Date"])
    if profile == "bas-buh":
        return [*texts, f"код за ЄДРПОУ {org['КодПоЕДРПОУ']}", f"Платник ПДВ, ІПН {org['ИНН']}"]
    return [*texts, f"ИНН {org['ИНН']}, КПП {org['КПП']}", "Платник ПДВ"]


def expected_buyer(bas: OData, profile: str, invoice: dict[str, Any]) -> list[str]:
    buyer = bas.get("Catalog_Контрагенты", invoice["Контрагент_Key"])
    contract = bas.get("Catalog_ДоговорыКонтрагентов", invoice["ДоговорКонтрагента_Key"])
    signed = contract["Дата"][:10].split("-")
    number = f" № {contract['Номер']} від {'.'.join(reversed(signed))}" if contract["Номер"] else ""
    labels = {"КодПоЕДРПОУ": "код за ЄДРПОУ", "ИНН": "ІПН"} if profile == "bas-buh" else {}
    labels = labels or {"ИНН": "ИНН", "КПП": "КПП"}
    codes = ", ".join(f"{label} {buyer[f]}" for f, label in labels.items() if buyer[f])
    name = buyer["НаименованиеПолное"] or buyer["Description"]  # as BAS presents it
    return [f"Покупець: {name} {codes}", f"Договір: {contract['Description']}{number}"]


def expected_lines(bas: OData, profile: str, invoice: dict[str, Any]) -> list[str]:
    sections = ("Товары", "Услуги") if profile == "bas-buh" else ("Товары",)
    rows = [r for s in sections for r in sorted(invoice[s], key=lambda r: int(r["LineNumber"]))]
    unit_field = "БазоваяЕдиницаИзмерения_Key" if profile == "bas-buh" else "ЕдиницаИзмерения_Key"
    texts = []
    for n, row in enumerate(rows, start=1):
        product = bas.get("Catalog_Номенклатура", row["Номенклатура_Key"])
        unit = bas.get("Catalog_КлассификаторЕдиницИзмерения", product[unit_field])
        name = row.get("Содержание") or product["НаименованиеПолное"]
        count = quantity(Decimal(str(row["Количество"])))
        amounts = f"{_money(row['Цена'])} {_money(row['Сумма'])}"
        texts.append(f"{n} {name} {count} {unit['Description']} {amounts}")
    vat = sum(Decimal(str(r["СуммаНДС"])) for r in rows)
    total = Decimal(str(invoice["СуммаДокумента"]))
    texts += [
        f"У тому числі ПДВ: {money(vat)} Всього до сплати: {money(total)}",
        f"Всього найменувань {len(rows)}, на суму {money(total)} грн.",
        hryvnias(total),
    ]
    return texts


@pytest.mark.parametrize("profile", ["bas-buh", "bp30"])
def test_the_attached_pdf_prints_what_bas_holds(
    profile: str, sqlite: Database, request: pytest.FixtureRequest
) -> None:
    with running_sandbox(profile=profile) as sandbox:
        assert issue(sandbox, sqlite) == {"done": 1}, q.find(sqlite, q.JobFilter(status="dead"))
        [invoice] = [i for i in sandbox.bas.invoices() if f"[crm:deal:{DEAL}]" in i["Комментарий"]]
        pdf = attached_pdf(sandbox)
        with bas_connector(sandbox) as connector:  # drawn again: the very same bytes
            assert documents.invoice_pdf(connector.client, profile, invoice["Ref_Key"]) == pdf
        text = text_of(pdf)
        bas = OData(sandbox)
        request.addfinalizer(bas.http.close)
        date = long_date(parse_datetime(invoice["Date"]))
        expected = [f"Рахунок на оплату № {invoice['Number']} від {date}"]
        expected += expected_supplier(bas, profile, invoice)
        expected += expected_buyer(bas, profile, invoice)
        expected += expected_lines(bas, profile, invoice)
        assert [e for e in expected if e not in text] == [], text
        assert "Виписав(ла):" in text


def test_bas_extension_choice_takes_the_extensions_pdf(sqlite: Database) -> None:
    with running_sandbox(bas_extension=True) as sandbox:
        assert issue(sandbox, sqlite, pdf="bas-extension") == {"done": 1}
        [invoice] = sandbox.bas.invoices()
        assert attached_pdf(sandbox) == sandbox.bas.invoice_pdf(invoice["Ref_Key"])
        assert "hs.invoice_pdf" in [row["operation"] for row in exchanges_for(sqlite)]


def test_bas_extension_choice_without_the_extension_fails_the_job(sqlite: Database) -> None:
    with running_sandbox() as sandbox:
        assert issue(sandbox, sqlite, pdf="bas-extension") == {"dead": 1}
        [job] = q.find(sqlite, q.JobFilter(status="dead"))
        assert "no extension serving hs/crm/" in str(job.last_error), job.last_error
        assert sandbox.bitrix24.comments(DEAL) == []  # no comment without its PDF
