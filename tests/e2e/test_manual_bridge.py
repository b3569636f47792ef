"""The manual bridge against the sandbox: export → file → import, with the middleware's keys.

Round trips for each kind of file, a file with every kind of bad row (nothing written, or only the
valid records with partial), re-imports that create nothing, files as Excel and LibreOffice save
them, ownership refusals, and the exchange log and trace of manual runs.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from crmbridge import markers
from crmbridge.app import Application
from crmbridge.errors import ConfigError
from crmbridge.flows import invoice
from crmbridge.manual import sheets
from crmbridge.manual.layouts import LAYOUTS
from crmbridge.manual.runs import export_file, import_file
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from crmbridge.store.schema import exchanges

COUNTERPARTIES = "Catalog_Контрагенты"
DEAL_HEADERS = LAYOUTS["deals"].headers
ALPHA = ["1", "Альфа-Трейд", "ТОВ «Альфа-Трейд»", "31000000"]  # Компанія №, назва, повна, ЄДРПОУ
PAPER, SETUP, CARTRIDGE = "00-00000001", "00-00000007", "00-00000002"


def invoices_for(sandbox: Sandbox, deal: int | str) -> list[dict[str, Any]]:
    return [i for i in sandbox.bas.invoices() if markers.deal(str(deal)) in i["Комментарий"]]


def counterparties(sandbox: Sandbox, code: str | None = None) -> list[dict[str, Any]]:
    rows = sandbox.bas.store.rows(COUNTERPARTIES)
    return [r for r in rows if code is None or r.get("КодПоЕДРПОУ") == code]


def lines(found: dict[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    rows = [*found.get("Товары", []), *found.get("Услуги", [])]
    return sorted(
        (r["Номенклатура_Key"], Decimal(str(r["Количество"])), Decimal(str(r["Цена"])))
        for r in rows
    )


def imported(app: Application, path: Path, into: str = "bas", **kw: Any) -> Any:
    options = {"dry_run": False, "partial": False, **kw}
    return import_file(app.context(), path, into, user="olena", **options)  # type: ignore[arg-type]


def deals_xlsx(path: Path, rows: list[list[Any]], headers: list[str] = DEAL_HEADERS) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def deal_row(
    deal: int, product: str, quantity: Any, price: Any, company: list[str] = ALPHA
) -> list[Any]:
    return [deal, None, f"Угода {deal}", *company, product, "товар", quantity, price, None]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_deals_round_trip_makes_posted_invoices_once(
    sandbox: Sandbox, app: Application, tmp_path: Path, suffix: str
) -> None:
    for deal in (1, 5):
        sandbox.bitrix24.set_deal_stage(deal, "PREPAYMENT_INVOICE")
    path = tmp_path / f"deals{suffix}"
    exported = export_file(app.context(), "deals", path, user="olena")
    assert exported.counts == {"deals": 2, "rows": 4}
    alpha_before = len(counterparties(sandbox, "31000000"))

    first = imported(app, path)
    assert first.problems == [] and first.written
    assert first.run.counts["invoices created"] == 2
    [made] = invoices_for(sandbox, 1)
    assert made["Posted"] is True
    deal_rows = sandbox.bitrix24.call("crm.deal.productrows.get", {"id": 1})
    products = {p["ID"]: p["XML_ID"] for p in sandbox.bitrix24.call("crm.product.list", {})}
    expected = [
        (products[str(r["PRODUCT_ID"])], Decimal(str(r["QUANTITY"])), Decimal(str(r["PRICE"])))
        for r in deal_rows
    ]
    assert lines(made) == sorted(expected)
    assert Decimal(str(made["СуммаДокумента"])) == Decimal(sandbox.bitrix24.deal(1)["OPPORTUNITY"])
    # matched by ЄДРПОУ (a head and its branch share it), not duplicated; the new client created
    assert len(counterparties(sandbox, "31000000")) == alpha_before
    assert len(counterparties(sandbox, "44000004")) == 1

    everything = len(sandbox.bas.invoices()), len(counterparties(sandbox))
    again = imported(app, path)
    assert again.problems == [] and again.run.counts["invoices found"] == 2
    assert "invoices created" not in again.run.counts
    assert (len(sandbox.bas.invoices()), len(counterparties(sandbox))) == everything


def test_a_deal_the_middleware_invoiced_is_found_not_invoiced_twice(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    sandbox.bitrix24.set_deal_stage(1, "PREPAYMENT_INVOICE")
    issued = invoice.issue_invoice(app.context(), "1")
    path = tmp_path / "deals.xlsx"
    export_file(app.context(), "deals", path, user="olena")
    result = imported(app, path)
    assert result.run.counts == {"rows": 2, "invalid rows": 0, "records": 1, "invoices found": 1}
    assert [i["Ref_Key"] for i in invoices_for(sandbox, 1)] == [issued.ref]
    assert result.run.errors == []  # same rows, same total: no discrepancy to report


def test_an_existing_invoice_with_another_total_is_reported_not_changed(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    sandbox.bitrix24.set_deal_stage(1, "PREPAYMENT_INVOICE")
    issued = invoice.issue_invoice(app.context(), "1")
    path = deals_xlsx(tmp_path / "deals.xlsx", [deal_row(1, PAPER, 2, "189,00")])
    result = imported(app, path)
    assert result.run.counts["invoices differing"] == 1
    [error] = result.run.errors
    assert error.startswith(f"deal 1: invoice {issued.number} exists with total {issued.total}")
    assert [i["СуммаДокумента"] for i in invoices_for(sandbox, 1)] == [float(issued.total)]


def bad_file(tmp_path: Path) -> Path:
    return deals_xlsx(
        tmp_path / "bad.xlsx",
        [
            deal_row(1, PAPER, 2, 189),  # row 2: deal 1, fine
            deal_row(1, SETUP, 1, 1500),  # row 3: deal 1, fine
            deal_row(2, CARTRIDGE, 3, 1450, ["2", "Будмайстер", "", "3107919"]),  # ЄДРПОУ 7
            deal_row(3, "00-99999999", 1, 10),  # row 5: unknown product
            deal_row(4, PAPER, -2, 189),  # row 6: negative quantity
            [5, None, "Угода 5", *ALPHA, PAPER, None, 1, 189, None],  # row 7: no Товар
            deal_row(6, PAPER, 1, 189),  # row 8: fine…
            deal_row(6, PAPER, 1, 189),  # row 9: …but its duplicate spoils deal 6
        ],
    )


def test_a_file_with_every_kind_of_bad_row_writes_nothing(
    sandbox: Sandbox, app: Application, db: Database, tmp_path: Path
) -> None:
    before = len(sandbox.bas.invoices()), len(counterparties(sandbox))
    result = imported(app, bad_file(tmp_path))
    assert [str(p) for p in result.problems] == [
        "row 4, column G «ЄДРПОУ»: 3107919 has 7 digits; an ЄДРПОУ has 8 digits, РНОКПП 10",
        "row 5, column H «Код товару»: unknown product: BAS has no product with code 00-99999999",
        "row 6, column J «Кількість»: -2: must be more than 0",
        "row 7, column I «Товар»: empty, but required",
        "row 8: deal 6 is skipped whole: another of its rows is invalid",
        "row 9: duplicate of row 8 (same «Угода №» and «Код товару»)",
    ]
    assert not result.written
    assert (len(sandbox.bas.invoices()), len(counterparties(sandbox))) == before
    with db.read() as conn:
        [logged] = conn.execute(select(exchanges).where(exchanges.c.system == "manual")).all()
    assert logged.operation == "import" and "row 4" in logged.error
    details = json.loads(logged.request_body)
    assert details["user"] == "olena" and details["file"] == "bad.xlsx"
    assert details["sha256"] == sheets.digest(tmp_path / "bad.xlsx")
    assert details["counts"] == {"rows": 8, "invalid rows": 6, "records": 1}


def test_partial_writes_the_valid_deals_only(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    result = imported(app, bad_file(tmp_path), partial=True)
    assert result.written and len(result.problems) == 6
    assert result.run.counts["invoices created"] == 1
    assert [len(lines(i)) for i in invoices_for(sandbox, 1)] == [2]
    assert all(invoices_for(sandbox, deal) == [] for deal in range(2, 7))


def test_dry_run_reports_and_writes_nothing(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    path = deals_xlsx(tmp_path / "ok.xlsx", [deal_row(1, PAPER, 2, 189)])
    result = imported(app, path, dry_run=True)
    assert result.problems == [] and not result.written
    assert invoices_for(sandbox, 1) == []


def test_files_saved_by_excel_and_libreoffice_are_read(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    # LibreOffice XLSX: numbers typed as text with a decimal comma, a date as a serial number,
    # the ЄДРПОУ turned into a number, headers with a stray space and a BOM.
    headers = [f"\ufeff{DEAL_HEADERS[0]} ", *DEAL_HEADERS[1:-1], f"{DEAL_HEADERS[-1]}\u00a0"]
    row = [1, 46354, "Угода 1", 1, "Альфа-Трейд", None, 31000000, PAPER, "Папір", "2,5",
           "1 450,00", "3 625,00"]  # fmt: skip
    deals_xlsx(tmp_path / "calc.xlsx", [row], headers)
    # Excel's "CSV (роздільники — коми)" on a Ukrainian Windows: cp1251, `;`, decimal commas.
    excel = ";".join(DEAL_HEADERS) + "\r\n2;28.11.2026;Угода 2;2;Будмайстер;;31079196;"
    excel += f"{CARTRIDGE};Картридж;3;1450,50;4351,50\r\n"
    (tmp_path / "excel.csv").write_bytes(excel.encode("cp1251"))
    # LibreOffice CSV: UTF-8, `,` between columns, decimals quoted, an ISO date.
    calc = ",".join(DEAL_HEADERS) + "\n3,2026-11-28,Угода 3,3,Вектор Плюс,,31158382,"
    calc += f'{SETUP},Налаштування,"1,5","1500,00",\n'
    (tmp_path / "calc.csv").write_text(calc, encoding="utf-8")

    for name in ("calc.xlsx", "excel.csv", "calc.csv"):
        result = imported(app, tmp_path / name)
        assert result.problems == [] and result.written, name
    assert [(q, p) for _, q, p in lines(invoices_for(sandbox, 1)[0])] == [
        (Decimal("2.5"), Decimal("1450.00"))
    ]
    assert [(q, p) for _, q, p in lines(invoices_for(sandbox, 2)[0])] == [
        (Decimal(3), Decimal("1450.50"))
    ]
    assert [(q, p) for _, q, p in lines(invoices_for(sandbox, 3)[0])] == [
        (Decimal("1.5"), Decimal("1500.00"))
    ]


def test_a_file_is_never_imported_into_the_side_that_owns_its_records(
    sandbox: Sandbox, app: Application, db: Database, tmp_path: Path
) -> None:
    products = tmp_path / "products.xlsx"
    export_file(app.context(), "products", products, user="olena")
    with pytest.raises(ConfigError, match="bas owns product: a file of products goes from bas"):
        imported(app, products, into="bas")
    deals = deals_xlsx(tmp_path / "deals.xlsx", [deal_row(1, PAPER, 2, 189)])
    with pytest.raises(ConfigError, match="crm owns deal"):
        imported(app, deals, into="crm")
    assert invoices_for(sandbox, 1) == []
    with db.read() as conn:
        logged = conn.execute(
            select(exchanges.c.operation, exchanges.c.error)
            .where(exchanges.c.system == "manual")
            .order_by(exchanges.c.id)
        ).all()
    assert [op for op, _ in logged] == ["export", "import", "import"]
    assert logged[1].error.startswith("ConfigError: bas owns product")


def test_a_deal_whose_rows_name_two_companies_is_refused(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    other = ["2", "Будмайстер", "", "31079196"]
    path = deals_xlsx(
        tmp_path / "deals.xlsx", [deal_row(1, PAPER, 2, 189), deal_row(1, SETUP, 1, 1500, other)]
    )
    result = imported(app, path, partial=True)
    assert [str(p) for p in result.problems] == [
        "row 3, column D «Компанія №»: 2, but deal 1 has 1 on row 2",
        "row 3, column G «ЄДРПОУ»: 31079196, but deal 1 has 31000000 on row 2",
    ]
    assert invoices_for(sandbox, 1) == []


def test_products_and_prices_into_the_crm_once(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    assert export_file(app.context(), "products", path, user="olena").counts == {"rows": 20}
    first = imported(app, path, into="crm")
    assert first.problems == []
    assert first.run.counts["products created"] == 10  # the CRM had the first 10 of 20
    crm = sandbox.bitrix24.call("crm.product.list", {"select": ["ID", "XML_ID", "PRICE"]})
    crm += sandbox.bitrix24.call("crm.product.list", {"start": 50}) or []
    assert len(crm) == 20
    second = imported(app, path, into="crm")
    assert second.run.counts["products created"] == 0
    assert second.run.counts["products updated"] == 20
    assert len(sandbox.bitrix24.call("crm.product.list", {})) == 20


def test_an_unknown_product_code_is_refused_on_the_way_to_the_crm(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    path.write_text("Код товару;Товар;Ціна\n00-77777777;Невідомий;10\n", encoding="utf-8-sig")
    result = imported(app, path, into="crm")
    assert [str(p) for p in result.problems] == [
        "row 2, column A «Код товару»: unknown product: BAS has no product with code 00-77777777"
    ]
    assert not result.written


def test_invoice_number_and_payment_status_back_into_the_deal(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    sandbox.bitrix24.set_deal_stage(1, "PREPAYMENT_INVOICE")
    deals = tmp_path / "deals.xlsx"
    export_file(app.context(), "deals", deals, user="olena")
    imported(app, deals)
    [made] = invoices_for(sandbox, 1)
    sandbox.bas.record_payment(made["Ref_Key"], Decimal("100.00"))

    back = tmp_path / "invoices.xlsx"
    export_file(app.context(), "invoices", back, user="accountant")
    result = imported(app, back, into="crm")
    assert result.problems == [] and result.run.counts["deals updated"] == 1
    deal = sandbox.bitrix24.deal(1)
    assert deal["UF_CRM_INVOICE_NUMBER"] == made["Number"]
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Частково оплачено"
    assert imported(app, back, into="crm").run.counts["deals unchanged"] == 1


def test_companies_round_trip_skips_what_the_clients_flow_skips_and_imports_the_rest(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    path = tmp_path / "companies.xlsx"
    export_file(app.context(), "companies", path, user="olena")
    result = imported(app, path)  # no --partial needed: a skipped row is not an error
    assert result.problems == [] and result.written
    assert [str(s) for s in result.skipped] == [
        "row 8, column D «ЄДРПОУ»: company 7 «Прайм Консалт» is skipped: no tax code, so no "
        "counterparty (as the clients flow does); fill it in the CRM and import again"
    ]
    assert result.run.counts["counterparties created"] == 2  # Сонячна Енергія, Київ Ритейл
    assert result.run.counts["counterparties matched by tax code"] == 4
    assert result.run.counts["skipped"] == 1
    assert len(counterparties(sandbox, "44003110")) == 1
    again = imported(app, path)
    assert again.run.counts["counterparties already linked"] == 6
    assert len(counterparties(sandbox, "44003110")) == 1


def test_a_wrong_check_digit_is_refused_with_its_row_and_column(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    path = tmp_path / "companies.csv"
    good = ["6", "Київ Ритейл", "", "44003110"]
    typo = ["5", "Сонячна Енергія", "", "44000006"]  # 44000004 with its last digit mistyped
    sheets.write(path, LAYOUTS["companies"].headers, LAYOUTS["companies"].kinds, [good, typo])
    result = imported(app, path)
    assert [str(p) for p in result.problems] == [
        "row 3, column D «ЄДРПОУ»: 44000006 fails the ЄДРПОУ check digit (a typo?)"
    ]
    assert not result.written
    assert counterparties(sandbox, "44000006") == [] and counterparties(sandbox, "44003110") == []
    partial = imported(app, path, partial=True)
    assert partial.run.counts["counterparties created"] == 1
    assert counterparties(sandbox, "44000006") == []


def test_export_narrows_by_date_and_by_a_condition(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    from datetime import date, timedelta

    from crmbridge.config.expressions import compile_expression

    for deal in (1, 2, 3):
        sandbox.bitrix24.set_deal_stage(deal, "PREPAYMENT_INVOICE")
    path = tmp_path / "deals.xlsx"
    tomorrow = date.today() + timedelta(days=2)
    assert export_file(app.context(), "deals", path, user="o", since=tomorrow).counts == {"rows": 0}
    yesterday = date.today() - timedelta(days=1)
    assert export_file(app.context(), "deals", path, user="o", since=yesterday).counts == {
        "deals": 3,
        "rows": 5,
    }
    where = compile_expression('company.TITLE.startsWith("Будмайстер")')
    run = export_file(app.context(), "deals", path, user="o", where=where)
    assert run.counts == {"deals": 1, "rows": 1}
    [(_, cells)] = sheets.read(path).rows
    assert cells["Угода №"] == 2 and cells["ЄДРПОУ"] == "31079196"
    assert cells["Кількість"] == 3 and cells["Сума"] == 4350


def test_a_missing_column_is_named_and_nothing_is_written(
    sandbox: Sandbox, app: Application, tmp_path: Path
) -> None:
    headers = ["Угода", *DEAL_HEADERS[1:]]  # someone retyped the first header
    path = deals_xlsx(tmp_path / "deals.xlsx", [deal_row(1, PAPER, 2, 189)], headers)
    result = imported(app, path, partial=True)
    assert [str(p) for p in result.problems] == ["row 1, column «Угода №»: the column is missing"]
    assert result.run.counts["records"] == 0
    assert invoices_for(sandbox, 1) == []
    assert counterparties(sandbox, "44000004") == []


def test_the_commands_log_each_run_and_the_trace_shows_the_manual_transfer(
    sandbox: Sandbox, db: Database, db_url: str, tmp_path: Path
) -> None:
    from tests.e2e.test_cli_database import assert_one_clear_line, crmbridge

    example = str(Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml")
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    common = ("--config", example, "--database", db_url)
    sandbox.bitrix24.set_deal_stage(1, "PREPAYMENT_INVOICE")
    path = tmp_path / "deals.xlsx"

    exported = crmbridge("export", *common, "--what", "deals", "--to", str(path), env=env)
    assert exported.returncode == 0, exported.stderr
    assert f"{path}: 2 rows of deals" in exported.stdout
    done = crmbridge("import", str(path), *common, "--into", "bas", "--by", "marta", env=env)
    assert done.returncode == 0, done.stderr
    assert "deals.xlsx (deals → bas): written;" in done.stdout
    assert "1 invoices created" in done.stdout

    with db.read() as conn:
        logged = conn.execute(
            select(exchanges).where(exchanges.c.system == "manual").order_by(exchanges.c.id)
        ).all()
    assert [r.operation for r in logged] == ["export", "import"]
    digest = sheets.digest(path)
    assert [json.loads(r.request_body)["sha256"] for r in logged] == [digest, digest]
    assert json.loads(logged[1].request_body)["user"] == "marta"
    assert all(r.url == "deals.xlsx" and r.error is None for r in logged)

    traced = crmbridge("trace", "deal", "1", "--database", db_url, "--json")
    timeline = json.loads(traced.stdout)["timeline"]
    whats = [e["what"] for e in timeline]
    assert "manual export" in whats and "manual import" in whats
    [noted] = [e for e in timeline if e["what"] == "manual: import deals.xlsx"]
    assert noted["inputs"] == {
        "user": "marta",
        "file": "deals.xlsx",
        "sha256": digest,
        "rows": [2, 3],
    }
    assert "manual: create invoice" in whats
    # The run's own log row and the calls it made, found through the run's correlation id.
    assert {"manual import", "bas odata.create", "bas odata.post"} <= {
        e["what"] for e in timeline if e["kind"] == "call"
    }
    number = noted["result"]["invoice"]
    by_number = crmbridge("trace", "invoice", number, "--database", db_url, "--json")
    assert json.loads(by_number.stdout)["id"] == "1"

    bad = bad_file(tmp_path)
    refused = crmbridge("import", str(bad), *common, "--into", "bas", env=env)
    assert refused.returncode == 1
    assert "bad.xlsx: row 4, column G «ЄДРПОУ»: 3107919 has 7 digits" in refused.stderr
    assert "NOTHING WRITTEN" in refused.stdout
    wrong = crmbridge("export", *common, "--what", "deals", "--filter", "invoice.Number == ''",
                      "--to", str(tmp_path / "x.xlsx"), env=env)  # fmt: skip
    assert_one_clear_line(wrong, "--filter reads invoice; for deals it may read")
    pdf = tmp_path / "procedure.pdf"
    written = crmbridge("procedure", "--config", example, "--to", str(pdf), env=env)
    assert written.returncode == 0, written.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_clients_rule_that_says_no_leaves_the_deal_uninvoiced_and_says_why(
    sandbox: Sandbox, app: Application, db: Database, tmp_path: Path
) -> None:
    from crmbridge.config.model import ClientsFlow

    flows = app.config.flows.model_copy(update={"clients": ClientsFlow(when="deal_total > 1e9")})
    strict = Application(app.config.model_copy(update={"flows": flows}), db)
    try:
        company = ["5", "Сонячна Енергія", "", "44000004"]
        path = deals_xlsx(tmp_path / "deals.xlsx", [deal_row(5, PAPER, 1, 189, company)])
        result = imported(strict, path)
    finally:
        strict.close()
    assert result.run.counts["refused by a rule"] == 1
    assert result.run.errors == ["deal 5: a clients rule refused its company: no invoice"]
    assert invoices_for(sandbox, 5) == [] and counterparties(sandbox, "44000004") == []


def test_bad_command_input_gets_one_clear_line_before_any_system_is_called(
    tmp_path: Path,
) -> None:
    from tests.e2e.test_cli_database import assert_one_clear_line, crmbridge

    example = str(Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml")
    # Port 9 (discard) answers nothing: reaching a system would be a different error.
    env = {"CRMBRIDGE_SANDBOX_URL": "http://127.0.0.1:9"}
    db = ("--database", f"sqlite:///{tmp_path / 'x.db'}")
    cases = [
        (("export", "--what", "deals", "--to", str(tmp_path / "no" / "x.xlsx")), "no such folder"),
        (("export", "--what", "deals", "--to", str(tmp_path / "x.ods")), "write .xlsx or .csv"),
        (("export", "--what", "deals", "--since", "вчора", "--to", str(tmp_path / "x.csv")),
         "--since: 'вчора' is not a date"),
        (("export", "--what", "deals", "--filter", "deal.ID ==", "--to", str(tmp_path / "x.csv")),
         "does not compile"),
        (("import", str(tmp_path / "none.xlsx"), "--into", "bas"), "none.xlsx: no such file"),
        (("procedure", "--to", str(tmp_path / "p.docx")), "write .md or .pdf"),
    ]  # fmt: skip
    for args, message in cases:
        extra = db if args[0] != "procedure" else ()
        assert_one_clear_line(crmbridge(*args, "--config", example, *extra, env=env), message)
    assert not list(tmp_path.glob("x.*"))
