"""The flows over the in-memory fakes: each rule and each step, fast. The e2e suite runs the
same flows against the sandbox over HTTP; these say what the flows decide, on their own."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crmbridge import markers
from crmbridge.errors import Permanent, Retryable
from crmbridge.flows import catalog, drift, invoice, jobs, payments
from crmbridge.flows.ports import Client, DealRow, Product
from crmbridge.store import journal
from tests.support.flows import PAPER, World, typical, world


@pytest.fixture
def w(tmp_path: Path) -> World:
    return world(tmp_path)


def decisions(w: World, deal: str = "1") -> list[str]:
    return [str(d["rule"]) for d in journal.decisions_for(w.ctx.db, "deal", deal)]


def test_a_deal_in_the_invoice_stage_gets_a_posted_invoice_its_pdf_and_fields(w: World) -> None:
    typical(w)
    assert jobs.deal_changed(w.ctx, "1") == "issued"
    (made,) = w.accounting.state.invoices.values()
    assert made.posted and made.total == Decimal("378.00")
    assert markers.deal("1") in made.comment
    party = w.accounting.state.counterparties[made.fields["counterparty"]]
    assert party.fields["tax_code"] == "31000000" and party.fields["Email"] == "a@alfa.ua"
    ((_, document),) = w.crm.state.notes["1"]
    assert document.content.startswith(b"%PDF") and markers.invoice(made.ref) in document.note
    fields = w.crm.state.deals["1"].fields
    assert fields == {"INVOICE_NUMBER": made.number, "PAY_STATUS": "Очікує оплати"}


def test_a_deal_in_another_stage_is_left_alone_and_says_why(w: World) -> None:
    deal = typical(w)
    w.crm.deals.move_to_stage(deal.id, "NEW")
    assert jobs.deal_changed(w.ctx, "1") == "not in the invoice stage"
    assert w.accounting.state.invoices == {}
    assert "stage == 'INVOICE'" in decisions(w)


@pytest.mark.parametrize(
    "step",
    ["counterparties.create", "invoices.create", "invoices.post", "invoices.pdf", "deals.attach"],
)
def test_a_failure_at_any_step_then_a_retry_makes_everything_once(w: World, step: str) -> None:
    typical(w)
    faults = w.accounting.faults if step.split(".")[0] != "deals" else w.crm.faults
    faults.fail(step, Retryable(f"{step} went away"))
    with pytest.raises(Retryable):
        invoice.issue_invoice(w.ctx, "1")
    issued = invoice.issue_invoice(w.ctx, "1")
    assert len(w.accounting.state.invoices) == 1 and len(w.accounting.state.counterparties) == 1
    assert len(w.crm.state.notes["1"]) == 1
    assert w.accounting.state.invoices[issued.ref].posted
    assert invoice.issue_invoice(w.ctx, "1") == issued  # and a third run changes nothing
    assert len(w.crm.state.notes["1"]) == 1


def test_an_invoice_made_by_hand_for_the_deal_is_found_not_made_again(w: World) -> None:
    typical(w)
    by_hand = Product("ref-other", "Інше", {})
    w.accounting.add_product(by_hand, Decimal(1))
    w.accounting.invoices.create(
        invoice.NewInvoice("x", w.clock.now(), f"вручну {markers.deal('1')}", [], "hand-made")
    )
    issued = invoice.issue_invoice(w.ctx, "1")
    assert issued.ref == "hand-made" and len(w.accounting.state.invoices) == 1
    assert "invoice exists" in decisions(w)


def test_a_counterparty_with_the_tax_code_is_matched_the_head_before_its_branch(w: World) -> None:
    typical(w)
    w.accounting.add_counterparty("branch", "31000000", branch=True)
    w.accounting.add_counterparty("head", "31000000")
    jobs.company_changed(w.ctx, "7")
    assert set(w.accounting.state.counterparties) == {"branch", "head"}
    assert w.ctx.bas_ref("client", "7") == "head"
    assert w.accounting.state.counterparties["head"].fields["Description"] == "Альфа-Трейд"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (None, "company 7 «Альфа-Трейд» has no ЄДРПОУ in the CRM"),
        ("31000001", "31000001 fails the ЄДРПОУ check digit"),
    ],
)
def test_a_missing_or_impossible_tax_code_stops_the_client(
    w: World, code: str | None, message: str
) -> None:
    typical(w, tax_code=code)
    with pytest.raises(Permanent, match=message):
        jobs.company_changed(w.ctx, "7")
    assert w.accounting.state.counterparties == {}


def test_a_clients_rule_can_refuse_a_company_and_no_invoice_is_made(tmp_path: Path) -> None:
    w = world(tmp_path, clients={"when": "deal_total > 1000.0"})
    typical(w)
    assert jobs.company_changed(w.ctx, "7") == "skipped by a rule"
    with pytest.raises(Permanent, match="a rule refused company 7"):
        invoice.issue_invoice(w.ctx, "1")
    assert w.accounting.state.invoices == {}


def test_free_text_rows_and_unlinked_products_are_refused_with_what_to_do(w: World) -> None:
    typical(w)
    w.crm.state.rows["1"] = [DealRow(None, "Щось", Decimal(1), Decimal(5), False)]
    with pytest.raises(Permanent, match="free text"):
        invoice.issue_invoice(w.ctx, "1")
    w.crm.state.rows["1"] = [DealRow("404", "Невідомий", Decimal(1), Decimal(5), False)]
    with pytest.raises(Permanent, match="run the catalog sync"):
        invoice.issue_invoice(w.ctx, "1")


def test_a_partial_then_a_full_payment_moves_the_deal_and_tasks_the_rep_once(w: World) -> None:
    typical(w)
    issued = invoice.issue_invoice(w.ctx, "1")
    w.accounting.record_payment(issued.ref, Decimal("100.00"))
    found, cursor = payments.poll(w.ctx, None)
    assert [p.invoice_ref for p in found] == [issued.ref]
    assert payments.apply_payment(w.ctx, issued.ref) == "partial"
    assert w.crm.state.deals["1"].fields["PAY_STATUS"] == "Частково оплачено"
    w.accounting.record_payment(issued.ref, Decimal("278.00"))
    found, _ = payments.poll(w.ctx, cursor)
    assert len(found) == 1  # the cursor moved past the first receipt
    assert payments.apply_payment(w.ctx, issued.ref) == "paid"
    assert payments.apply_payment(w.ctx, issued.ref) == "paid"  # a repeated job
    deal = w.crm.state.deals["1"]
    assert deal.stage == "PAID" and deal.fields["PAY_STATUS"] == "Оплачено"
    ((_, task, responsible),) = w.crm.state.tasks["1"]
    assert responsible == "5" and issued.number in task.title
    assert task.deadline.isoformat() == "2026-01-06T18:00:00+00:00"  # Monday → Tuesday 18:00


def test_the_sweep_asks_for_the_open_invoices_and_forgets_the_paid_ones(w: World) -> None:
    typical(w)
    issued = invoice.issue_invoice(w.ctx, "1")
    w.accounting.record_payment(issued.ref, Decimal("378.00"))
    assert [p.invoice_ref for p in payments.sweep(w.ctx)] == [issued.ref]
    payments.apply_payment(w.ctx, issued.ref)
    assert payments.sweep(w.ctx) == []  # paid: no longer open


def test_drift_is_reported_or_overwritten_by_the_policy(tmp_path: Path) -> None:
    for policy, kept in (("report", "edited"), ("overwrite", "Очікує оплати")):
        (tmp_path / policy).mkdir()
        w = world(tmp_path / policy, drift={"policy": policy})
        typical(w)
        invoice.issue_invoice(w.ctx, "1")
        w.crm.deals.set_fields("1", {"PAY_STATUS": "edited"})
        assert jobs.deal_changed(w.ctx, "1") == "drift in PAY_STATUS"
        assert w.crm.state.deals["1"].fields["PAY_STATUS"] == kept
        drifted = drift.check_deal(w.ctx, w.crm.state.deals["1"], w.ctx.bas_ref("invoice", "1"))
        assert bool(drifted) == (policy == "report")


def test_the_catalog_loads_then_writes_only_what_changed_and_reprices_open_deals(
    w: World,
) -> None:
    typical(w)
    saved: list[dict[str, object]] = []
    first = catalog.sync(w.ctx, full=True, state=None, save=saved.append)
    assert (first.seen, first.written) == (1, 1)
    assert catalog.sync(w.ctx, full=False, state=saved[-1], save=saved.append).written == 0
    w.accounting.state.prices[PAPER.ref] = Decimal("199.00")
    assert catalog.sync(w.ctx, full=False, state=saved[-1], save=saved.append).written == 1
    (row,) = w.crm.state.rows["1"]
    assert row.price == Decimal("199.00")  # the deal is open and not invoiced


def test_a_row_discounted_by_hand_keeps_its_price(w: World) -> None:
    typical(w)
    (row,) = w.crm.state.rows["1"]
    w.crm.state.rows["1"] = [DealRow(row.product_id, row.name, row.quantity, Decimal(150), True)]
    product_id = str(row.product_id)
    w.ctx.link("product", product_id, PAPER.ref)
    assert catalog.reprice_open_deals(w.ctx, {product_id: Decimal("199.00")}) == 0
    assert w.crm.state.rows["1"][0].price == Decimal(150)
    assert "keep a manual discount" in decisions(w)


def test_a_person_client_is_created_as_a_person(w: World) -> None:
    typical(w)
    inputs = {"company": {"TITLE": "ФОП Коваль", "EMAIL": ""}}
    w.crm.add_client(Client("7", "ФОП Коваль", "3124578966", "РНОКПП", inputs))
    jobs.company_changed(w.ctx, "7")
    ((ref, party),) = w.accounting.state.counterparties.items()
    assert ref == markers.ref_for("client", "7") and party.fields["tax_code"] == "3124578966"


def test_the_crm_poll_gives_changed_deals_and_clients_their_jobs_once(w: World) -> None:
    from sqlalchemy import select

    from crmbridge.queue.worker import JobContext
    from crmbridge.store.schema import jobs as jobs_table

    typical(w)
    job = JobContext(None, w.ctx.db, w.clock, "test")  # type: ignore[arg-type]
    w.crm.touch("deal", "1")
    w.crm.touch("company", "7")
    w.crm.touch("deal", "1")  # twice before the poll: one waiting job
    assert jobs.poll_crm(w.ctx, job) == 3
    assert jobs.poll_crm(w.ctx, job) == 0  # the cursor moved
    with w.ctx.db.read() as conn:
        made = sorted(conn.execute(select(jobs_table.c.flow, jobs_table.c.lock_key)).all())
    assert made == [("company-changed", "company:7"), ("deal-changed", "deal:1")]
