"""Companies and their requisites: tax codes (ЄДРПОУ, ІПН/РНОКПП) live in `crm.requisite.*`,
never in the company, so finding a company by tax code goes through its requisites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.bitrix24.batch import Command
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.http import RemoteNotFound

COMPANY = 4  # ENTITY_TYPE_ID of a company
TAX_FIELDS = ("RQ_EDRPOU", "RQ_INN", "RQ_DRFO")  # ЄДРПОУ, ІПН, РНОКПП (ДРФО)
DEFAULT_PRESET = 1  # the sandbox's (and a fresh Ukrainian portal's) "Організація" preset


class Companies:
    def __init__(self, rest: RestClient) -> None:
        self._rest = rest

    def with_requisites(self, company_id: str | int) -> Record:
        """The company with `REQUISITES`: its requisites, in one request."""
        flt = {"ENTITY_TYPE_ID": COMPANY, "ENTITY_ID": company_id}
        commands = {
            "company": Command("crm.company.get", {"id": company_id}),
            "requisites": Command("crm.requisite.list", {"filter": flt}),
        }
        answer = self._rest.batch(commands, key=f"company:{company_id}")
        if "company" not in answer.results:
            raise answer.errors.get("company") or RemoteNotFound(
                f"bitrix24: no company {company_id}"
            )
        return {**answer.results["company"], "REQUISITES": list(answer.results["requisites"] or [])}

    def find_by_tax_code(self, code: str) -> str | None:
        """The id of the company whose requisite carries `code` in any tax field, or None."""
        select = ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", *TAX_FIELDS]
        commands = {
            field: Command(
                "crm.requisite.list",
                {"filter": {"ENTITY_TYPE_ID": COMPANY, field: code}, "select": select},
            )
            for field in TAX_FIELDS
        }
        answer = self._rest.batch(commands, key=f"taxcode:{code}")
        for field in TAX_FIELDS:
            for requisite in answer.results.get(field) or []:
                if str(requisite.get(field)) == code:  # exact, whatever the filter matched
                    return str(requisite["ENTITY_ID"])
        return None

    def add_requisite(
        self, company_id: str | int, fields: Mapping[str, Any], *, preset_id: int = DEFAULT_PRESET
    ) -> str:
        values = {"ENTITY_TYPE_ID": COMPANY, "ENTITY_ID": company_id, "PRESET_ID": preset_id}
        values.update(fields)
        key = f"company:{company_id}"
        return str(self._rest.result("crm.requisite.add", {"fields": values}, key=key))
