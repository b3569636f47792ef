"""What an import writes: one item per record (a deal with its rows, a company, a product), and
how a written item is noted for the trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmbridge.connectors.bitrix24.crm import TAX_FIELDS
from crmbridge.connectors.bitrix24.crm import client_of as bitrix24_client
from crmbridge.flows.context import FlowContext
from crmbridge.flows.ports import Client
from crmbridge.manual.layouts import Problem, Row
from crmbridge.manual.runlog import Run

FLOW = "manual"


@dataclass
class Item:
    """One record to write (a deal with its rows, a company, …) and the rows it came from."""

    key: str
    rows: list[Row]
    data: dict[str, Any] = field(default_factory=dict)
    group: str = ""  # the id several rows share (a deal's), as the first column shows it

    @property
    def numbers(self) -> list[int]:
        return [r.number for r in self.rows]


@dataclass
class Found:
    """What a file's rows amount to: the records to write, the problems that stop a row, and
    the rows skipped the way the flow skips such a record (not errors, but in the report)."""

    items: list[Item]
    problems: list[Problem]
    skipped: list[Problem] = field(default_factory=list)


def noted(ctx: FlowContext, run: Run, entity: tuple[str, str], item: Item, result: Any) -> None:
    """The manual transfer in the entity's trace: who, which file, which rows, what happened."""
    run.touched(*entity, item.numbers)
    inputs = {"user": run.user, "file": run.path.name, "sha256": run.sha256, "rows": item.numbers}
    ctx.decide(FLOW, f"import {run.path.name}", inputs, result, entity=entity)


def client_of(ctx: FlowContext, values: dict[str, Any]) -> Client:
    """The CRM records the `client` mapping reads, rebuilt from the file's columns."""
    company = {"ID": str(values["company_id"]), "TITLE": values["company"]}
    kind = ctx.accounting.tax_code_kind
    requisite = {
        TAX_FIELDS[kind]: values["tax_code"],
        "RQ_COMPANY_FULL_NAME": values.get("full_name") or "",
    }
    return bitrix24_client(company, [requisite], kind)
