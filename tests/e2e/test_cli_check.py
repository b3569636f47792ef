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
