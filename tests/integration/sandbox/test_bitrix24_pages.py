"""The demo page: the deal list and the button that moves a deal to the invoice stage."""

from __future__ import annotations

import re

from crmbridge.sandbox.seed import DEAL_STAGES
from tests.integration.sandbox.b24 import Receiver, running_portal


def test_deal_list_page() -> None:
    with running_portal() as portal:
        fields = {"UF_CRM_INVOICE_NUMBER": "СФ-77", "UF_CRM_PAYMENT_STATUS": "paid"}
        portal.sandbox.update_deal(1, fields)
        page = portal.client.get(f"{portal.base}/bitrix24/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        deal = portal.sandbox.deal(1)
        stage = dict((code, name) for code, name, _ in DEAL_STAGES)["PREPARATION"]
        for text in (deal["TITLE"], "Альфа-Трейд", stage, deal["OPPORTUNITY"]):
            assert text in html
        assert "СФ-77" in html and "paid" in html
        assert html.count("/bitrix24/sandbox/deals/") == 7


def test_invoice_button_moves_the_deal_and_fires_the_event(receiver: Receiver) -> None:
    with running_portal(outgoing_webhook=receiver.url) as portal:
        html = portal.client.get(f"{portal.base}/bitrix24/").text
        action = re.search(r'action="([^"]*/deals/2/invoice)"', html)
        assert action is not None
        response = portal.client.post(portal.base + action.group(1))
        assert response.status_code == 303
        assert response.headers["location"] == "/bitrix24/"
        deal = portal.result("crm.deal.get", {"id": 2})
        assert deal["STAGE_ID"] == "PREPAYMENT_INVOICE" and deal["STAGE_SEMANTIC_ID"] == "P"
        receiver.wait_for(lambda forms: len(forms) == 1)
        assert (receiver.forms[0]["event"], receiver.forms[0]["data[FIELDS][ID]"]) == (
            "ONCRMDEALUPDATE",
            "2",
        )
        after = portal.client.get(f"{portal.base}/bitrix24/").text
        assert "Рахунок" in after
