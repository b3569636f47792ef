from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli_database import crmbridge

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"


def test_check_accepts_the_example() -> None:
    result = crmbridge("check", "--config", str(EXAMPLE))
    assert result.returncode == 0 and "no problems found" in result.stdout


def test_check_refuses_a_config_and_prints_every_problem(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("      Description: company.TITLE", "      Description: company.TITLE +")
    text = text.replace(
        "      UF_CRM_PAYMENT_STATUS: status\n",
        "      UF_CRM_PAYMENT_STATUS: status\n      STAGE_ID: '\"WON\"'\n",
    )
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    result = crmbridge("check", "--config", str(config))
    assert result.returncode == 2
    err = result.stderr
    assert err.startswith("crmbridge: error: 2 problems in the configuration:")
    assert "mappings.client.fields.Description: CEL expression" in err
    assert "mappings.deal_invoice.fields.STAGE_ID: writes deal.STAGE_ID from bas into crm" in err
    assert "Traceback" not in err


def test_check_names_mapped_fields_the_systems_do_not_have(tmp_path: Path) -> None:
    from tests.support.sandbox import running_sandbox

    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace(
        "      КодПоЕДРПОУ: requisite.RQ_EDRPOU", "      КодПоЕДРПОУУ: requisite.RQ_EDRPOU"
    )
    text = text.replace('      NAME: product["Description"]', '      NAME: product["Descripton"]')
    text = text.replace("      UF_CRM_PAYMENT_STATUS: status", "      UF_CRM_PAYMENT_STATE: status")
    text = text.replace("    deal.UF_CRM_PAYMENT_STATUS: bas", "    deal.UF_CRM_PAYMENT_STATE: bas")
    config = tmp_path / "typos.yaml"
    config.write_text(text, encoding="utf-8")
    with running_sandbox() as sandbox:
        env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
        result = crmbridge("check", "--config", str(config), env=env)
        clean = crmbridge("check", "--config", str(EXAMPLE), env=env)
    assert result.returncode == 2, result.stdout
    assert "3 problems" in result.stderr
    assert "mappings.client.fields.КодПоЕДРПОУУ: BAS $metadata" in result.stderr
    assert "mappings.product.fields.NAME: reads product['Descripton']" in result.stderr
    assert "the portal has no deal field UF_CRM_PAYMENT_STATE" in result.stderr
    assert clean.returncode == 0 and "checked against both systems" in clean.stdout


def test_check_without_the_systems_says_what_it_could_not_check(tmp_path: Path) -> None:
    env = {"CRMBRIDGE_SANDBOX_URL": "http://127.0.0.1:9"}
    result = crmbridge("check", "--config", str(EXAMPLE), env=env)
    assert result.returncode == 0
    assert "systems not reachable, field names not checked" in result.stderr
