"""snapshot()/restore(): the whole portal survives a round trip through JSON."""

from __future__ import annotations

import base64
import json

from tests.integration.sandbox.b24 import running_portal


def test_snapshot_restore_round_trip() -> None:
    with running_portal() as first:
        pdf = {"fileData": ["inv.pdf", base64.b64encode(b"%PDF").decode()]}
        first.result("crm.deal.update", {"id": 1, "fields": {"UF_CRM_INVOICE_PDF": pdf}})
        first.result("crm.deal.productrows.set", {"id": 1, "rows": [{"PRICE": 5, "QUANTITY": 2}]})
        first.result("tasks.task.add", {"fields": {"TITLE": "Зателефонувати"}})
        first.app().result("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
        first.result("crm.deal.update", {"id": 2, "fields": {"TITLE": "Збережено"}})
        saved = json.loads(json.dumps(first.sandbox.snapshot()))
        deal_before = first.result("crm.deal.get", {"id": 1})

    with running_portal() as second:
        assert second.result("crm.deal.get", {"id": 2})["TITLE"] != "Збережено"
        second.sandbox.restore(saved)
        assert second.result("crm.deal.get", {"id": 2})["TITLE"] == "Збережено"
        restored = second.result("crm.deal.get", {"id": 1})
        assert restored["OPPORTUNITY"] == "10.00" == deal_before["OPPORTUNITY"]
        link = restored["UF_CRM_INVOICE_PDF"][0]["downloadUrl"]
        assert second.client.get(link).content == b"%PDF"
        assert second.result("tasks.task.get", {"taskId": 1})["task"]["title"] == "Зателефонувати"
        assert len(second.sandbox.call("event.offline.list")) == 1
        assert second.result("crm.deal.add", {"fields": {"TITLE": "next"}}) == 8


def test_user_fields_survive_a_snapshot_and_old_snapshots_keep_the_seeded_ones() -> None:
    with running_portal() as first:
        spec = {"FIELD_NAME": "CONTRACT", "USER_TYPE_ID": "string", "LABEL": "Договір"}
        field_id = first.result("crm.deal.userfield.add", {"fields": spec})
        first.result("crm.deal.update", {"id": 3, "fields": {"UF_CRM_CONTRACT": "Д-17"}})
        first.result("crm.deal.userfield.delete", {"id": 2})  # UF_CRM_PAYMENT_STATUS
        saved = json.loads(json.dumps(first.sandbox.snapshot()))

    with running_portal() as second:
        second.sandbox.restore(saved)
        names = [f["FIELD_NAME"] for f in second.result("crm.deal.userfield.list")]
        assert names == ["UF_CRM_INVOICE_NUMBER", "UF_CRM_INVOICE_PDF", "UF_CRM_CONTRACT"]
        assert second.result("crm.deal.get", {"id": 3})["UF_CRM_CONTRACT"] == "Д-17"
        assert "UF_CRM_PAYMENT_STATUS" not in second.result("crm.deal.fields")
        described = second.result("crm.deal.fields")["UF_CRM_CONTRACT"]
        assert described["listLabel"] == "Договір"
        assert second.result("crm.deal.userfield.add", {"fields": spec | {"FIELD_NAME": "N2"}}) > (
            field_id
        )

    del saved["portal"]["tables"]["userfield"]  # a state file written before user fields were state
    with running_portal() as third:
        third.sandbox.restore(saved)
        assert len(third.result("crm.deal.userfield.list")) == 3
