"""`crmbridge setup` against a fresh sandbox portal (no crmbridge fields yet) and the BAS emulator:
the config it writes passes `crmbridge check`, the deal fields it needs are created once, a second
run changes nothing, and nothing is written before the one "yes".
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.sandbox.bas.sandbox import PASSWORD, USER
from crmbridge.sandbox.server import Sandbox
from tests.e2e.test_cli_database import crmbridge
from tests.support.bridge import serving
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port

FIELDS = ("UF_CRM_INV_NUMBER", "UF_CRM_PAY_STATUS", "UF_CRM_INVOICE_PDF")


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with running_sandbox(fresh_portal=True) as sandbox:
        yield sandbox


def deal_fields(sandbox: Sandbox) -> list[str]:
    found = sandbox.bitrix24.call("crm.deal.userfield.list", {})
    return sorted(str(f["FIELD_NAME"]) for f in found)


def bas_and_file(sandbox: Sandbox, config: Path) -> list[str]:
    """The infobase's address and user, and the config to write: the same in every run."""
    return [
        *("--odata-url", sandbox.odata_url, "--bas-user", USER, "--bas-password", PASSWORD),
        *("--config", str(config)),
    ]


def setup(
    sandbox: Sandbox, config: Path, *extra: str, stdin: str | None = None
) -> tuple[int, str, str]:
    args = ["setup", "--webhook-url", sandbox.bitrix24_webhook, *bas_and_file(sandbox, config)]
    args += ["--public-url", "https://crmbridge.example.com", *extra]
    result = crmbridge(*args, stdin=stdin)
    return result.returncode, result.stdout, result.stderr


STAGES = ("--invoice-stage", "PREPAYMENT_INVOICE", "--paid-stage", "UC_PAID")


def test_setup_writes_a_config_that_check_passes_and_creates_the_fields_once(
    fresh: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "crmbridge.yaml"
    assert not set(FIELDS) & set(deal_fields(fresh))
    status, out, err = setup(
        fresh, config, *STAGES, "--application-token", "sandbox-app-token", "--yes"
    )
    assert status == 0, err
    assert set(FIELDS) <= set(deal_fields(fresh))
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds passwords
    assert "will create the deal field UF_CRM_INV_NUMBER (string)" in out
    assert "handler URL: https://crmbridge.example.com/hooks/bitrix24" in out
    assert "events: ONCRMCOMPANYADD, ONCRMCOMPANYUPDATE, ONCRMDEALADD, ONCRMDEALUPDATE" in out
    text = config.read_text(encoding="utf-8")
    assert "deal.UF_CRM_INV_NUMBER: bas" in text and 'invoice_stage: "PREPAYMENT_INVOICE"' in text

    checked = crmbridge("check", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    assert "no problems found (checked against Bitrix24" in checked.stdout

    before = deal_fields(fresh), text
    status, out, err = setup(fresh, config, *STAGES, "--yes")  # the token is kept from the file
    assert status == 0, err
    assert "the deal field UF_CRM_INV_NUMBER is there already" in out
    assert "is up to date: nothing changed" in out
    assert (deal_fields(fresh), config.read_text(encoding="utf-8")) == before
    assert not (tmp_path / "crmbridge.yaml.bak").exists()


def test_setup_asks_for_what_the_systems_cannot_tell(fresh: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "asked.yaml"
    answers = "\n".join(["0", "PREPAYMENT_INVOICE", "UC_PAID", "так"]) + "\n"
    status, out, err = setup(fresh, config, stdin=answers)
    assert status == 0, err
    assert "Which deal funnel do invoices come from?" in out
    assert "Which stage means «issue the invoice»?" in out and "Which stage means «paid»?" in out
    assert config.exists() and set(FIELDS) <= set(deal_fields(fresh))


def test_nothing_is_written_before_the_yes(fresh: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "no.yaml"
    status, _, err = setup(fresh, config, *STAGES, stdin="ні\n")
    assert status == 2 and "nothing written: setup was cancelled" in err
    assert not config.exists() and not set(FIELDS) & set(deal_fields(fresh))


def test_without_anybody_to_ask_a_missing_answer_names_its_flag(
    fresh: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "unanswered.yaml"
    status, _, err = setup(fresh, config, "--invoice-stage", "PREPAYMENT_INVOICE", "--yes")
    assert status == 2
    assert "Which stage means «paid»? — nobody answered: pass --paid-stage (one of: NEW" in err
    assert not config.exists() and not set(FIELDS) & set(deal_fields(fresh))


def test_a_wrong_webhook_or_password_is_one_line_and_writes_nothing(
    fresh: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "wrong.yaml"
    wrong = fresh.bitrix24_webhook.replace("/rest/1/sandbox/", "/rest/1/notthecode7x9q/")
    status, _, err = setup(fresh, config, "--webhook-url", wrong, *STAGES, "--yes")  # the last wins
    assert status == 2 and "401 NO_AUTH_FOUND" in err
    assert "notthecode7x9q" not in err  # the code is a password
    status, _, err = setup(fresh, config, *STAGES, "--yes", "--bas-password", "nope")
    assert status == 2 and "401: user «Адміністратор» or the password is wrong" in err
    assert not config.exists() and not set(FIELDS) & set(deal_fields(fresh))


def test_a_local_application_is_set_up_in_two_runs_around_its_install(
    fresh: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    app = fresh.bitrix24.apps.register(
        scopes=["crm", "task"], handler=f"{public}/hooks/bitrix24/install"
    )
    config, database = tmp_path / "app.yaml", f"sqlite:///{tmp_path / 'app.db'}"
    args = [
        "setup",
        "--portal",
        f"{fresh.settings.public_url}/bitrix24",
        "--client-id",
        app.client_id,
        "--client-secret",
        app.client_secret,
        "--oauth-server",
        fresh.settings.public_url,
        *bas_and_file(fresh, config),
        "--database",
        database,
        "--public-url",
        public,
        *STAGES,
        "--yes",
    ]
    first = crmbridge(*args)
    assert first.returncode == 0, first.stderr
    assert f"the application {app.client_id} is not installed yet" in first.stdout
    assert f"installation path: {public}/hooks/bitrix24/install" in first.stdout
    assert 'auth: "oauth"' in config.read_text(encoding="utf-8")
    assert not set(FIELDS) & set(deal_fields(fresh))  # nothing on the portal before the install

    with serving(config, port, {}, tmp_path / "serve.log"):
        assert fresh.bitrix24.install_app(app.client_id).delivered == 200
        second = crmbridge(*args)
        assert second.returncode == 0, second.stderr
        assert "the events are bound: ONCRMCOMPANYADD" in second.stdout
        assert set(FIELDS) <= set(deal_fields(fresh))
        checked = crmbridge("check", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    assert f"checked against Bitrix24 {fresh.settings.public_url}/bitrix24" in checked.stdout
