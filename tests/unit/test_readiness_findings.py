"""How `crmbridge check` words what a connector raised: one line, with what to do.

The e2e tests meet most of these through the sandbox; a BAS user without the OData rights (403,
code 20) has no sandbox double yet, so its wording is pinned here with the exception 1C's answer
becomes."""

from __future__ import annotations

import pytest

from crmbridge.connectors.http import Unavailable
from crmbridge.connectors.onec.errors import classify
from crmbridge.errors import CrmbridgeError
from crmbridge.readiness.findings import bas_answer, transport

TRIED = "GET https://bas.example.com/buh/odata/standard.odata/$metadata as «crmbridge»"
RIGHTS = (
    '{"odata.error": {"code": "20", "message": {"lang": "ru", "value": '
    '"Недостаточно прав для доступа к объекту"}}}'
)


def test_a_user_without_odata_rights_is_told_to_get_them() -> None:
    finding = bas_answer(TRIED, classify(403, RIGHTS), "crmbridge")
    assert str(finding) == (
        f"bas: {TRIED}: 403: user «crmbridge» may not use OData here; give the user the rights "
        "docs/real-systems.md lists (the standard OData interface)"
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "bas odata.metadata: ConnectError: [Errno -2] Name or service not known",
            "does not resolve",
        ),
        ("bas odata.metadata: ConnectError: [Errno 111] Connection refused", "nothing accepts"),
        (
            "bas odata.metadata: ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: self-signed certificate (_ssl.c:1006)",
            "the TLS handshake with bas.example.com failed",
        ),
        ("bas odata.metadata: timed out (ReadTimeout)", "no answer from bas.example.com in time"),
    ],
)
def test_transport_failures_are_told_apart(message: str, expected: str) -> None:
    finding = transport("bas", TRIED, Unavailable(message), "bas.example.com")
    assert finding is not None and expected in str(finding)


def test_an_answer_is_not_a_transport_failure() -> None:
    assert transport("bas", TRIED, CrmbridgeError("1C: HTTP 500"), "bas.example.com") is None


@pytest.mark.parametrize("code", ["NO_AUTH_FOUND", "INVALID_CREDENTIALS"])
def test_a_webhook_the_portal_does_not_know_says_to_copy_it_again(code: str) -> None:
    from crmbridge.connectors.bitrix24.wire import error
    from crmbridge.readiness.crm import b24_answer

    refused = error("scope", code, "Wrong authorization data", 401)
    line = str(b24_answer("the method scope at Webhook('https://x/rest/1/***/')", refused))
    assert f"401 {code}: the portal does not know it" in line
    assert "copy the URL of the inbound webhook again" in line
