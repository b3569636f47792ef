"""`systems.crm.auth`: an inbound webhook (the default) or an OAuth application, never a mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.config.load import ConfigProblems, load_config
from crmbridge.connectors.bitrix24.settings import Bitrix24System

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
WEBHOOK_CRM = """    type: bitrix24
    webhook_url: ${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}/bitrix24/rest/1/sandbox/
    application_token: sandbox-app-token
"""


def with_crm(tmp_path: Path, crm: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert WEBHOOK_CRM in text
    path = tmp_path / "crmbridge.yaml"
    path.write_text(text.replace(WEBHOOK_CRM, crm), encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigProblems) as raised:
        load_config(path, env or {})
    return [str(p) for p in raised.value.problems]


def test_the_webhook_stays_the_default() -> None:
    crm = Bitrix24System.model_validate(
        {"webhook_url": "https://x.bitrix24.ua/rest/1/abc/", "application_token": "t"}
    )
    assert crm.auth == "webhook" and crm.oauth_server == "https://oauth.bitrix.info"


def test_an_oauth_application_from_the_environment(tmp_path: Path) -> None:
    crm = (
        "    type: bitrix24\n    auth: oauth\n    portal: https://example.bitrix24.ua/\n"
        "    client_id: ${B24_CLIENT_ID}\n    client_secret: ${B24_CLIENT_SECRET}\n"
    )
    env = {"B24_CLIENT_ID": "local.5f1e2d3c4b5a69.12345678", "B24_CLIENT_SECRET": "s3cr3t-xyz"}
    loaded = load_config(with_crm(tmp_path, crm), env).config.systems.crm
    assert (loaded.auth, loaded.portal, loaded.client_id) == (
        "oauth",
        "https://example.bitrix24.ua",
        "local.5f1e2d3c4b5a69.12345678",
    )
    assert loaded.webhook_url is None and loaded.application_token is None
    assert "s3cr3t-xyz" not in repr(loaded) + str(loaded)


def test_the_oauth_server_can_be_the_sandbox(tmp_path: Path) -> None:
    crm = (
        "    auth: oauth\n    portal: http://127.0.0.1:8765/bitrix24\n"
        "    client_id: local.a.1\n    client_secret: x\n"
        "    oauth_server: http://127.0.0.1:8765/\n"
    )
    loaded = load_config(with_crm(tmp_path, crm), {}).config.systems.crm
    assert loaded.oauth_server == "http://127.0.0.1:8765"
    assert loaded.portal == "http://127.0.0.1:8765/bitrix24"


@pytest.mark.parametrize(
    ("crm", "expected"),
    [
        (
            WEBHOOK_CRM + "    client_id: local.a.1\n",
            "auth: webhook takes webhook_url and application_token; "
            "client_id belongs to auth: oauth",
        ),
        (
            "    auth: oauth\n    portal: https://x.bitrix24.ua\n    client_id: local.a.1\n"
            "    client_secret: s\n    webhook_url: https://x.bitrix24.ua/rest/1/abc/\n",
            "auth: oauth takes portal, client_id and client_secret; "
            "webhook_url belongs to auth: webhook",
        ),
        (
            "    auth: oauth\n    portal: https://x.bitrix24.ua\n    client_id: local.a.1\n",
            "auth: oauth needs client_secret",
        ),
        ("    type: bitrix24\n", "auth: webhook needs webhook_url, application_token"),
        (
            WEBHOOK_CRM + "    oauth_server: https://oauth.example\n",
            "oauth_server belongs to auth: oauth",
        ),
    ],
)
def test_a_mixed_or_incomplete_crm_is_refused_with_a_clear_message(
    tmp_path: Path, crm: str, expected: str
) -> None:
    [problem] = problems(with_crm(tmp_path, crm))
    assert "systems.crm" in problem and expected in problem
    assert "Value error" not in problem


def test_a_portal_is_an_address_not_a_webhook(tmp_path: Path) -> None:
    crm = (
        "    auth: oauth\n    portal: example.bitrix24.ua\n    client_id: a\n    client_secret: s\n"
    )
    [problem] = problems(with_crm(tmp_path, crm))
    assert "systems.crm.portal" in problem and "https://" in problem
