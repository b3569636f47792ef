"""Deal-specific operations: the deal with everything an invoice needs, product rows, funnels
and stages, user fields, attaching a PDF, and tasks bound to a deal."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24.batch import Command
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.bitrix24.wire import Ref
from crmbridge.connectors.http import RemoteNotFound

INVOICE_PDF_FIELD = "UF_CRM_INVOICE_PDF"


@dataclass(frozen=True)
class Attached:
    comment_id: str
    file_ids: list[int]  # the file field's ids after the update, the new file last


class Deals:
    def __init__(self, rest: RestClient) -> None:
        self._rest = rest

    def bundle(self, deal_id: str | int) -> Record:
        """The deal, its product rows, its company and the company's requisites in one request.

        `company` is None and `requisites` empty for a deal without a company.
        """
        company = Ref("deal", ("COMPANY_ID",))
        commands = {
            "deal": Command("crm.deal.get", {"id": deal_id}),
            "rows": Command("crm.deal.productrows.get", {"id": deal_id}),
            "company": Command("crm.company.get", {"id": company}),
            "requisites": Command(
                "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company}}
            ),
        }
        answer = self._rest.batch(commands, key=f"deal:{deal_id}")
        if "deal" not in answer.results:
            raise answer.errors.get("deal") or RemoteNotFound(f"bitrix24: no deal {deal_id}")
        company_id = str(answer.results["deal"].get("COMPANY_ID") or "0")
        has_company = company_id != "0" and "company" in answer.results
        return {
            "deal": answer.results["deal"],
            "rows": list(answer.results.get("rows") or []),
            "company": answer.results["company"] if has_company else None,
            "requisites": list(answer.results.get("requisites") or []) if has_company else [],
        }

    def rows(self, deal_id: str | int) -> list[Record]:
        return list(self._rest.result("crm.deal.productrows.get", {"id": deal_id}) or [])

    def set_rows(self, deal_id: str | int, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replaces all product rows (that is what the method does)."""
        params = {"id": deal_id, "rows": [dict(r) for r in rows]}
        self._rest.call("crm.deal.productrows.set", params, key=f"deal:{deal_id}")

    def categories(self) -> list[Record]:
        result = self._rest.result("crm.category.list", {"entityTypeId": 2})
        return list(result.get("categories") or []) if isinstance(result, Mapping) else []

    def stages(self, category_id: int = 0) -> list[Record]:
        entity = "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"
        params = {"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}
        return list(self._rest.result("crm.status.list", params) or [])

    def fields(self) -> dict[str, Record]:
        """Field descriptions, user fields (`UF_CRM_*`) included."""
        return dict(self._rest.result("crm.deal.fields") or {})

    def attach_pdf(
        self,
        deal_id: str | int,
        name: str,
        content: bytes,
        *,
        comment: str,
        field: str = INVOICE_PDF_FIELD,
    ) -> Attached:
        """Post `comment` with the PDF in the deal's timeline and add it to the file field.

        The file field keeps the files already there: an update replaces the field's value, so
        the existing ids are sent back as `{"id": n}` next to the new file (`crm-item-update.md`,
        "How to Update a File Type Custom Field"). Not idempotent by itself: the caller's effect
        ledger makes sure one invoice is attached once.
        """
        key, data = f"deal:{deal_id}", base64.b64encode(content).decode("ascii")
        deal = self._rest.result("crm.deal.get", {"id": deal_id}, key=key)
        existing = [int(f["id"]) for f in deal.get(field) or [] if isinstance(f, Mapping)]
        fields: dict[str, Any] = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": comment}
        fields["FILES"] = [[name, data]]
        comment_id = self._rest.result("crm.timeline.comment.add", {"fields": fields}, key=key)
        value = [{"id": i} for i in existing] + [{"fileData": [name, data]}]
        self._rest.call("crm.deal.update", {"id": deal_id, "fields": {field: value}}, key=key)
        after = self._rest.result("crm.deal.get", {"id": deal_id}, key=key)
        return Attached(str(comment_id), [int(f["id"]) for f in after.get(field) or []])

    def add_task(
        self,
        deal_id: str | int,
        title: str,
        responsible_id: str | int,
        *,
        description: str = "",
        deadline: str | None = None,
    ) -> str:
        """A task bound to the deal (`UF_CRM_TASK: ["D_<id>"]`); returns the task id."""
        fields: dict[str, Any] = {
            "TITLE": title,
            "RESPONSIBLE_ID": responsible_id,
            "DESCRIPTION": description,
            "UF_CRM_TASK": [f"D_{deal_id}"],
        }
        if deadline is not None:
            fields["DEADLINE"] = deadline
        result = self._rest.result("tasks.task.add", {"fields": fields}, key=f"deal:{deal_id}")
        return str(result["task"]["id"])

    def tasks(self, deal_id: str | int) -> list[Record]:
        # Named, as the docs advise (tasks.task.get: "the default fields may change"); UF_CRM_TASK
        # comes back only when named
        select = ["ID", "TITLE", "DESCRIPTION", "RESPONSIBLE_ID", "DEADLINE", "UF_CRM_TASK"]
        params = {"filter": {"UF_CRM_TASK": f"D_{deal_id}"}, "select": select}
        result = self._rest.result("tasks.task.list", params)
        return list(result.get("tasks") or []) if isinstance(result, Mapping) else []
