"""The Bitrix24 portal's part in `crmbridge demo`: what the rep does, and what the demo reads
back from the portal to verify each step (crmbridge.demo.DemoCrm)."""

from __future__ import annotations

from pathlib import Path

import httpx

from crmbridge.sandbox.server import Sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
DEAL = 1


class Bitrix24Demo:
    """The sandbox portal's deal 1 through the typical scenario."""

    example = EXAMPLE
    deal_id = str(DEAL)
    hook_path = "/hooks/bitrix24"
    invoice_stage = "«Рахунок» (the portal posts ONCRMDEALUPDATE)"
    paid_stage = "«Оплачено»"

    def __init__(self, sandbox: Sandbox, bridge_url: str) -> None:
        self.sandbox = sandbox

    def environment(self) -> dict[str, str]:
        return {}

    def connect(self) -> None:
        """Nothing: the portal's outgoing webhook is a sandbox setting (hook_path)."""

    def describe(self) -> str:
        deal = self.sandbox.bitrix24.deal(DEAL)
        return f"Deal {DEAL} «{deal['TITLE']}», {deal['OPPORTUNITY']} грн, stage {deal['STAGE_ID']}"

    def issue_invoice(self) -> None:
        """The rep's click on the deal page's button (moves the deal to the invoice stage)."""
        page = f"{self.sandbox.settings.public_url}/bitrix24/sandbox/deals/{DEAL}/invoice"
        httpx.post(page, follow_redirects=False)

    def in_invoice_stage(self) -> bool:
        return bool(self.sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "PREPAYMENT_INVOICE")

    def pdf_attached(self, number: str) -> bool:
        comments = self.sandbox.bitrix24.comments(DEAL)
        deal = self.sandbox.bitrix24.deal(DEAL)
        commented = any(number in str(c["COMMENT"]) and c.get("FILES") for c in comments)
        return commented and bool(deal.get("UF_CRM_INVOICE_PDF"))

    def invoice_number(self) -> str | None:
        return self.sandbox.bitrix24.deal(DEAL).get("UF_CRM_INVOICE_NUMBER")

    def in_paid_stage(self) -> bool:
        return bool(self.sandbox.bitrix24.deal(DEAL)["STAGE_ID"] == "UC_PAID")

    def task(self) -> str | None:
        found = self.sandbox.bitrix24.call(
            "tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{DEAL}"}}
        )["tasks"]
        deal = self.sandbox.bitrix24.deal(DEAL)
        if len(found) == 1 and str(found[0]["responsibleId"]) == str(deal["ASSIGNED_BY_ID"]):
            return f"«{found[0]['title']}», due {found[0].get('deadline') or ''}".strip()
        return None

    def pages(self) -> list[str]:
        return [f"CRM deals: {self.sandbox.settings.public_url}/bitrix24/"]


DEMO = Bitrix24Demo
