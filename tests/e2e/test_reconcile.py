"""`crmbridge reconcile` against the sandbox: discrepancies injected on the stale side of each
entity are named (entity, field, owner's value, stale value); `--fix` re-pushes from the owner;
a second run is clean."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from crmbridge.app import Application
from crmbridge.clock import FakeClock
from crmbridge.config.load import load_config
from crmbridge.config.model import ReconcileFlow
from crmbridge.flows import invoice
from crmbridge.queue.scheduler import Scheduler, periodic_jobs
from crmbridge.queue.worker import Worker, WorkerSettings
from crmbridge.sandbox.server import Sandbox
from crmbridge.store import journal
from crmbridge.store.database import Database
from tests.e2e.test_cli_database import crmbridge

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 4
PRODUCT = 3  # CRM product id (seed: ID = index + 1)


def _reconcile(sandbox: Sandbox, db_url: str, *args: str) -> Any:
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    return crmbridge("reconcile", "--config", str(EXAMPLE), "--database", db_url, *args, env=env)


def _found(body: dict[str, Any], entity: str, field: str) -> dict[str, Any]:
    hits = [d for d in body["discrepancies"] if d["entity"] == entity and d["field"] == field]
    assert len(hits) == 1, (entity, field, body["discrepancies"])
    return hits[0]


def test_discrepancies_are_named_fixed_from_the_owner_and_gone_on_the_next_run(
    sandbox: Sandbox, app: Application, db: Database, db_url: str, tmp_path: Path
) -> None:
    # The seed differs already (counterparty names, products and clients not mirrored yet):
    # a first --fix brings both sides in line, so what follows is only what we inject.
    assert _reconcile(sandbox, db_url, "--fix").returncode == 0
    assert _reconcile(sandbox, db_url).returncode == 0
    ctx = app.context()
    issued = invoice.issue_invoice(ctx, str(DEAL))
    sandbox.bas.record_payment(issued.ref, Decimal("100.00"))  # partial; payments flow not run
    price = sandbox.bitrix24.call("crm.product.get", {"id": PRODUCT})["PRICE"]
    name = sandbox.bitrix24.call("crm.product.get", {"id": PRODUCT})["NAME"]
    sandbox.bitrix24.call(
        "crm.product.update", {"id": PRODUCT, "fields": {"PRICE": "1.00", "NAME": "<b>x</b>"}}
    )
    sandbox.bitrix24.call(
        "crm.deal.update", {"id": DEAL, "fields": {"UF_CRM_INVOICE_NUMBER": "=HACKED"}}
    )
    company = sandbox.bitrix24.call("crm.company.get", {"id": 1})
    party = ctx.bas_ref("client", "1")
    assert party is not None
    ctx.bas.put("counterparty", {"Description": "Edited in BAS"}, key=party)

    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    found = _reconcile(sandbox, db_url, "--json", "--report", str(html))
    assert found.returncode == 1, found.stderr
    body = json.loads(found.stdout)
    assert body["clean"] is False
    got = _found(body, "prices", "PRICE")
    assert (got["owner"], got["stale_side"], got["stale_value"]) == ("bas", "crm", "1.00")
    assert Decimal(str(got["owner_value"])) == Decimal(price)
    assert _found(body, "products", "NAME")["owner_value"] == name
    assert _found(body, "products", "NAME")["stale_value"] == "<b>x</b>"
    number = _found(body, "invoices", "UF_CRM_INVOICE_NUMBER")
    assert (number["owner_value"], number["stale_value"]) == (issued.number, "=HACKED")
    status = _found(body, "invoices", "UF_CRM_PAYMENT_STATUS")
    assert (status["owner_value"], status["stale_value"]) == ("Частково оплачено", "Очікує оплати")
    client = _found(body, "clients", "Description")
    assert (client["owner"], client["owner_value"]) == ("crm", company["TITLE"])
    assert client["stale_value"] == "Edited in BAS"
    assert len(body["discrepancies"]) == 5
    page = html.read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page

    fixed = _reconcile(sandbox, db_url, "--fix", "--report", str(xlsx))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    product = sandbox.bitrix24.call("crm.product.get", {"id": PRODUCT})
    assert (Decimal(product["PRICE"]), product["NAME"]) == (Decimal(price), name)
    deal = sandbox.bitrix24.deal(DEAL)
    assert deal["UF_CRM_INVOICE_NUMBER"] == issued.number
    assert deal["UF_CRM_PAYMENT_STATUS"] == "Частково оплачено"
    assert ctx.bas.get("counterparty", party)["Description"] == company["TITLE"]  # type: ignore[index]
    rows = list(load_workbook(xlsx)["Discrepancies"].iter_rows(values_only=True))
    assert rows[0][:2] == ("entity", "kind") and len(rows) == 6
    assert any(r[8] == "=HACKED" for r in rows[1:])  # a value, not a formula
    traced = journal.decisions_for(db, "deal", str(DEAL))
    assert any(d["flow"] == "reconcile" for d in traced)
    # The product's fix is in its trace, found by CRM id, by its BAS Ref_Key or by its code.
    crm_product = sandbox.bitrix24.call("crm.product.get", {"id": PRODUCT})
    for key in (str(PRODUCT), crm_product["XML_ID"], _found(body, "products", "NAME")["key"]):
        shown = crmbridge("trace", "product", key, "--database", db_url, "--json")
        assert shown.returncode == 0, shown.stderr
        timeline = json.loads(shown.stdout)
        fixes = [e for e in timeline["timeline"] if e["what"].startswith("reconcile")]
        assert fixes and all(e["kind"] == "decision" for e in fixes), timeline
    unknown = crmbridge("trace", "product", "no-such-ref", "--database", db_url)
    assert unknown.returncode == 2
    assert "has not seen a product with Ref_Key or code 'no-such-ref'" in unknown.stderr

    again = _reconcile(sandbox, db_url, "--json")
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["clean"] is True


def test_missing_and_entities_filter(sandbox: Sandbox, db_url: str) -> None:
    # The seed mirrors 10 of its 20 products in the CRM: 10 missing; no client is compared.
    result = _reconcile(sandbox, db_url, "--entities", "products", "--json")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert set(body["counts"]) == {"products"}
    missing = [d for d in body["discrepancies"] if d["kind"] == "missing"]
    assert len(missing) == 10 and all(d["stale_value"] is None for d in missing)
    assert all(d["owner"] == "bas" and d["stale_side"] == "crm" for d in missing)


def test_bad_input_is_one_clear_line_and_changes_nothing(sandbox: Sandbox, db_url: str) -> None:
    before = sandbox.control.stats()["bitrix24"]["requests"]
    result = _reconcile(sandbox, db_url, "--entities", "products,widgets", "--fix")
    assert result.returncode == 2
    assert result.stderr.startswith("crmbridge: error: --entities: unknown widgets")
    bad = _reconcile(sandbox, db_url, "--report", "out.pdf")
    assert bad.returncode == 2 and "use a .html or .xlsx file" in bad.stderr
    nowhere = _reconcile(sandbox, db_url, "--fix", "--report", "/nonexistent/dir/r.html")
    assert nowhere.returncode == 2 and "--report: no folder /nonexistent/dir" in nowhere.stderr
    assert sandbox.control.stats()["bitrix24"]["requests"] == before


def test_scheduled_run_records_its_count_and_warns(
    sandbox: Sandbox, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(EXAMPLE, {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}).config
    flows = config.flows.model_copy(
        update={"reconcile": ReconcileFlow(every=3600, entities=["products"])}
    )
    app = Application(config.model_copy(update={"flows": flows}), db, clock=FakeClock())
    periodic = periodic_jobs(None, None, flows.reconcile.every if flows.reconcile else None)
    assert [p.flow for p in periodic] == ["reconcile"]
    Scheduler(db, app.clock, periodic).tick({})
    worker = Worker(db, app.handlers(), WorkerSettings(concurrency=1), clock=app.clock)
    with caplog.at_level(logging.WARNING, logger="crmbridge.flows"):
        while worker.run_once(limit=10):
            pass
    app.close()
    [decision] = journal.decisions_for(db, "reconcile", "scheduled")
    assert decision["result"] == 10  # the seed's 10 BAS products not yet in the CRM
    assert decision["inputs"]["counts"]["products"]["missing"] == 10
    assert any("reconciliation found 10 discrepancies" in r.getMessage() for r in caplog.records)


def test_an_orphan_is_reported_and_never_pushed(sandbox: Sandbox, db_url: str) -> None:
    orphan = sandbox.bitrix24.call(
        "crm.product.add", {"fields": {"NAME": "Лише в CRM", "XML_ID": "not-in-bas", "CODE": "X-1"}}
    )
    shown = _reconcile(sandbox, db_url, "--entities", "products")
    assert shown.returncode == 1
    assert "products X-1 «Лише в CRM»: in CRM, gone from BAS (the owner)" in shown.stdout
    assert "in BAS (the owner), missing in CRM" in shown.stdout
    fixed = _reconcile(sandbox, db_url, "--entities", "products", "--fix", "--json")
    assert fixed.returncode == 1  # the orphan remains: the owner has nothing to push
    assert json.loads(fixed.stdout)["fixed"] == {"records": 10, "errors": []}
    after = json.loads(_reconcile(sandbox, db_url, "--entities", "products", "--json").stdout)
    assert [(d["kind"], d["crm_id"]) for d in after["discrepancies"]] == [("orphan", str(orphan))]
    assert sandbox.bitrix24.call("crm.product.get", {"id": orphan})["NAME"] == "Лише в CRM"
