"""Faults injected through SandboxControl: maintenance, error500, slow."""

from __future__ import annotations

import time

from tests.integration.sandbox.b24 import Portal


def test_maintenance_answers_with_an_html_503(portal: Portal) -> None:
    portal.control.set_fault("bitrix24", "maintenance")
    for url in (portal.hook + "crm.deal.get", f"{portal.base}/bitrix24/rest/9/x/crm.deal.get"):
        response = portal.client.post(url, json={"id": 1})
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "Service Temporarily Unavailable" in response.text
    portal.control.clear_faults("bitrix24")
    assert portal.call("crm.deal.get", {"id": 1}).status_code == 200


def test_error500_answers_internal_server_error(portal: Portal) -> None:
    portal.control.set_fault("bitrix24", "error500")
    response = portal.call("crm.deal.update", {"id": 1, "fields": {"TITLE": "not applied"}})
    assert response.status_code == 500
    assert response.json() == {
        "error": "INTERNAL_SERVER_ERROR",
        "error_description": "Internal server error",
    }
    portal.control.clear_faults()
    assert portal.result("crm.deal.get", {"id": 1})["TITLE"] != "not applied"


def test_slow_delays_the_answer(portal: Portal) -> None:
    portal.control.set_fault("bitrix24", "slow", delay=0.3)
    started = time.monotonic()
    assert portal.call("crm.deal.get", {"id": 1}).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_rate_zero_never_hits(portal: Portal) -> None:
    portal.control.set_fault("bitrix24", "error500", rate=0.0)
    assert {portal.call("user.get").status_code for _ in range(5)} == {200}
