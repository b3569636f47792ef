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
