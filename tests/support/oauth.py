"""A crmbridge config in OAuth mode against a running sandbox (the sandbox's own example,
with its inbound webhook swapped for a local application)."""

from __future__ import annotations

from pathlib import Path

from crmbridge.sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sandbox.yaml"
WEBHOOK_CRM = """    type: bitrix24
    webhook_url: ${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}/bitrix24/rest/1/sandbox/
    application_token: sandbox-app-token
"""


def oauth_config(sandbox: Sandbox, client_id: str, client_secret: str, folder: Path) -> Path:
    """examples/sandbox.yaml with `auth: oauth` for this app; the sandbox is the OAuth server."""
    base = sandbox.settings.public_url
    crm = (
        f"    type: bitrix24\n    auth: oauth\n    portal: {base}/bitrix24\n"
        f"    oauth_server: {base}\n    client_id: {client_id}\n"
        f"    client_secret: {client_secret}\n"
    )
    text = EXAMPLE.read_text(encoding="utf-8")
    assert WEBHOOK_CRM in text
    path = folder / "oauth.yaml"
    path.write_text(text.replace(WEBHOOK_CRM, crm), encoding="utf-8")
    return path
