"""The clients flow and tax codes: a code that fails its check digit makes no counterparty.

A typo in the CRM's ЄДРПОУ would otherwise become a counterparty in BAS that no bank statement
and no later import ever matches; the flow refuses it with what to do, and the trace says why.
"""

from __future__ import annotations

import pytest

from crmbridge.app import Application
from crmbridge.errors import Permanent
from crmbridge.flows.jobs import company_changed
from crmbridge.sandbox.server import Sandbox
from crmbridge.trace import timeline


def _company_with_code(sandbox: Sandbox, title: str, code: str) -> str:
    company = sandbox.bitrix24.call("crm.company.add", {"fields": {"TITLE": title}})
    requisite = {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company, "PRESET_ID": 1, "NAME": "Реквізити"}
    field = "RQ_DRFO" if len(code) == 10 else "RQ_EDRPOU"
    sandbox.bitrix24.call("crm.requisite.add", {"fields": {**requisite, field: code}})
    return str(company)


def _parties(sandbox: Sandbox, code: str) -> list[dict[str, object]]:
    rows = sandbox.bas.store.rows("Catalog_Контрагенты")
    return [r for r in rows if r.get("КодПоЕДРПОУ") == code]


@pytest.mark.parametrize(("typo", "kind"), [("40075816", "ЄДРПОУ"), ("3652504574", "РНОКПП")])
def test_a_code_that_fails_its_check_digit_makes_no_counterparty(
    sandbox: Sandbox, app: Application, typo: str, kind: str
) -> None:
    company = _company_with_code(sandbox, "Опечатка", typo)
    with pytest.raises(Permanent, match=f"{typo} fails the {kind} check digit.*correct it"):
        company_changed(app.context(), company)
    assert _parties(sandbox, typo) == []
    _, _, entries = timeline(app.db, "company", company)
    [decision] = [e for e in entries if e.what == "clients: tax code"]
    assert "check digit" in decision.detail["result"] and decision.detail["inputs"]["code"] == typo


@pytest.mark.parametrize("code", ["40075815", "3652504575"])
def test_a_real_code_makes_one_counterparty(sandbox: Sandbox, app: Application, code: str) -> None:
    company = _company_with_code(sandbox, "Справжній Код", code)
    ref = company_changed(app.context(), company)
    assert [p["Ref_Key"] for p in _parties(sandbox, code)] == [ref]
