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
