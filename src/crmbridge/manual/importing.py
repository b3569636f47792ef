"""`crmbridge import`: a file checked row by row, then written with the middleware's own steps.

Every row is validated before anything is written; each problem names its row and column. With
any problem nothing is written, unless `partial`, which writes the valid records and skips the
rest (a deal with one bad row is skipped whole: an invoice missing a line is worse than none).
A row the flow itself would skip (a company without a tax code) is not a problem: it is skipped
and listed in the report, and the other rows are written.

Writes go through the same code and keys as the flows, so a second import of the same file, or an
import of a deal the middleware already invoiced, finds what exists and creates nothing:
- deals → BAS invoices: counterparty by tax code (`flows.clients.ensure_counterparty`), invoice by
  the effect key `invoice:deal:<id>`, the Ref_Key derived from the deal id, or the
  `[crm:deal:<id>]` marker in its comment;
- companies → BAS counterparties (`ensure_counterparty`, through the `client` mapping);
- products → CRM products, upserted by `XML_ID` through the `product` mapping;
- invoices → the deal's BAS-owned fields (number, payment status) through `deal_invoice`.

Ownership decides the direction: a file of records owned by one side goes into the other only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from crmbridge.config.model import Config, Side
from crmbridge.connectors.onec import objects
from crmbridge.errors import ConfigError
from crmbridge.flows import clients, invoice, payments
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Invoice
from crmbridge.manual import deals, sheets
from crmbridge.manual.items import FLOW, Found, Item, client_of, noted
from crmbridge.manual.layouts import Layout, Problem, Row, parse, recognise
from crmbridge.manual.runlog import Run
from crmbridge.manual.sheets import CellError, Table
from crmbridge.markers import ref_for
from crmbridge.taxcodes import tax_code_problem


@dataclass
class Checked:
    layout: Layout
    items: list[Item]
    problems: list[Problem]
    skipped: list[Problem]


def direction(config: Config, layout: Layout, into: Side) -> None:
    """Refuse a file that would write records into the side that owns them."""
    owner = config.ownership.entities.get(layout.entity)
    if owner is None:
        raise ConfigError(f"no owner is declared for {layout.entity} (ownership.entities)")
    if owner == into:
        other = "bas" if owner == "crm" else "crm"
        raise ConfigError(
            f"{into} owns {layout.entity}: a file of {layout.what} goes from {owner} into "
            f"{other}, never into {into} (see ownership in the config)"
        )


def check(ctx: FlowContext, table: Table, into: Side) -> Checked:
    try:
        layout = recognise(table)
    except CellError as exc:
        raise ConfigError(str(exc)) from None
    direction(ctx.config, layout, into)
    rows, problems = parse(layout, table)
    if any(p.row == 1 for p in problems):  # a required column is missing: no row can be read
        return Checked(layout, [], [_lettered(table, p) for p in problems], [])
    found = _CHECKS[layout.what](ctx, rows)
    kept, dropped = _whole(
        layout, table, found.items, {p.row for p in [*problems, *found.problems]}
    )
    everything = [_lettered(table, p) for p in [*problems, *found.problems, *dropped]]
    skipped = [_lettered(table, p) for p in found.skipped]
    return Checked(layout, kept, sorted(everything, key=_position), skipped)


def _whole(
    layout: Layout, table: Table, items: list[Item], bad: set[int]
) -> tuple[list[Item], list[Problem]]:
    """The items none of whose rows is bad. A record of several rows (a deal) goes whole or not
    at all: its id is in the first column, read as typed even from a row that did not parse."""
    first = layout.columns[0].header
    bad_groups = {sheets.parse_text(cells.get(first)) for n, cells in table.rows if n in bad}
    kept, skipped = [], []
    for item in items:
        if any(n in bad for n in item.numbers):
            continue
        if item.group and item.group in bad_groups:
            message = f"{item.key} is skipped whole: another of its rows is invalid"
            skipped.append(Problem(item.rows[0].number, "", message))
            continue
        kept.append(item)
    return kept, skipped


def _position(problem: Problem) -> tuple[int, int, str]:
    return problem.row, len(problem.letter), problem.letter


def _lettered(table: Table, problem: Problem) -> Problem:
    if problem.letter or problem.column not in table.headers:
        return problem
    return replace(problem, letter=table.letter(problem.column))


def write(ctx: FlowContext, checked: Checked, run: Run) -> None:
    _WRITES[checked.layout.what](ctx, checked.items, run)


# companies → counterparties -----------------------------------------------------------------------
def _check_companies(ctx: FlowContext, rows: list[Row]) -> Found:
    profile = ctx.accounting.tax_code_kind
    found = Found([], [])
    for row in rows:
        code, company = row.values["tax_code"], f"company {row.values['company_id']}"
        if code is None:
            skip = (
                f"{company} «{row.values['company']}» is skipped: no tax code, so no "
                "counterparty (as the clients flow does); fill it in the CRM and import again"
            )
            found.skipped.append(Problem(row.number, "ЄДРПОУ", skip))
        elif problem := tax_code_problem(code, profile):
            found.problems.append(Problem(row.number, "ЄДРПОУ", problem))
        else:
            found.items.append(Item(company, [row]))
    return found


def _write_companies(ctx: FlowContext, items: list[Item], run: Run) -> None:
    for item in items:
        values = item.rows[0].values
        client = client_of(ctx, values)
        before = ctx.bas_ref("client", client.id)
        ref = clients.ensure_counterparty(ctx, client)
        if ref is None:
            run.count("refused by a rule")
        elif before:
            run.count("counterparties already linked")
        elif ref == ref_for("client", client.id):
            run.count("counterparties created")
        else:
            run.count("counterparties matched by tax code")
        noted(ctx, run, ("company", client.id), item, {"counterparty": ref})


# products → CRM ----------------------------------------------------------------------------------
def _check_products(ctx: FlowContext, rows: list[Row]) -> Found:
    catalog = {str(p.get("Code") or ""): p for p in objects.products(ctx.bas)}
    problems, items = [], []
    for row in rows:
        product = catalog.get(row.values["product_code"])
        if product is None:
            message = f"unknown product: BAS has no product with code {row.values['product_code']}"
            problems.append(Problem(row.number, "Код товару", message))
        else:
            items.append(Item(f"product {row.values['product_code']}", [row], {"bas": product}))
    return Found(items, problems)


def _write_products(ctx: FlowContext, items: list[Item], run: Run) -> None:
    mapping = ctx.rules.mapping(ctx.config.flows.mapping_of("catalog"))
    values = [
        ctx.rules.values(mapping, {"product": i.data["bas"], "price": i.rows[0].values["price"]})
        for i in items
    ]
    if not values:
        return
    ctx.guard("product", "bas", sorted({k for v in values for k in v}))
    known = ctx.bitrix24.catalog.find_ids(str(v.get("XML_ID") or "") for v in values)
    ids = ctx.bitrix24.upsert_products(values, existing=known)  # one lookup, counted and reused
    for item, crm_id in zip(items, ids, strict=True):
        ctx.link("product", crm_id, str(item.data["bas"]["Ref_Key"]))
    run.count("products created", len(values) - len(known))
    run.count("products updated", len(known))
    ctx.decide(
        FLOW,
        f"import {run.path.name}",
        {"user": run.user, "file": run.path.name, "sha256": run.sha256},
        {"products": len(values), "new": len(values) - len(known)},
        entity=("catalog", "products"),
    )


# invoices → deal fields ---------------------------------------------------------------------------
def _check_invoices(ctx: FlowContext, rows: list[Row]) -> Found:
    problems, items = [], []
    for row in rows:
        deal = ctx.crm.deals.get(str(row.values["deal_id"]))
        if deal is None:
            message = f"unknown deal: the CRM has no deal {row.values['deal_id']}"
            problems.append(Problem(row.number, "Угода №", message))
        else:
            items.append(Item(f"invoice {row.values['number']}", [row], {"deal": deal}))
    return Found(items, problems)


def _write_invoices(ctx: FlowContext, items: list[Item], run: Run) -> None:
    for item in items:
        values, deal = item.rows[0].values, item.data["deal"]
        total, paid = values["total"], values["paid"]
        fields = {"Number": values["number"], "СуммаДокумента": total}
        from_file = Invoice("", str(values["number"]), None, total, True, "", fields)
        state = payments.state_of(from_file, paid)
        changed = invoice.write_deal_fields(ctx, deal, from_file, paid=paid, state=state)
        run.count("deals updated" if changed else "deals unchanged")
        noted(ctx, run, ("deal", deal.id), item, {"changed": changed, "state": state})


Check = Callable[[FlowContext, list[Row]], Found]
Write = Callable[[FlowContext, list[Item], Run], None]
_CHECKS: dict[str, Check] = {
    "deals": deals.check_deals,
    "companies": _check_companies,
    "products": _check_products,
    "invoices": _check_invoices,
}
_WRITES: dict[str, Write] = {
    "deals": deals.write_deals,
    "companies": _write_companies,
    "products": _write_products,
    "invoices": _write_invoices,
}
