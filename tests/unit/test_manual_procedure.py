"""The written procedure follows the config: its owners, mappings and flows, in MD and in PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from crmbridge.config.load import load_config
from crmbridge.manual import procedure

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_procedure_lists_owners_steps_fields_and_checks_from_the_config() -> None:
    config = load_config(EXAMPLES / "sandbox.yaml").config
    text = procedure.markdown(procedure.blocks(config, "crmbridge.yaml", "09:30"))
    assert "щодня о 09:30" in text
    assert "| номенклатура і ціни | BAS | CRM (Bitrix24) |" in text
    assert "| поле deal.UF_CRM_INVOICE_NUMBER | BAS | CRM (Bitrix24) |" in text
    steps = [line for line in text.splitlines() if line.startswith("## ") and ". " in line]
    assert steps == [
        "## 1. Номенклатура і ціни: BAS → CRM (Bitrix24) (ціни в угодах)",
        "## 2. Клієнти (компанії / контрагенти): CRM (Bitrix24) → BAS (нові клієнти)",
        "## 3. Угоди: CRM (Bitrix24) → BAS (рахунки на оплату)",
        "## 4. Рахунки: BAS → CRM (Bitrix24) (номер і статус)",
    ]
    assert "| КодПоЕДРПОУ | BAS | requisite.RQ_EDRPOU |" in text  # the client mapping's fields
    assert "| UF_CRM_PAYMENT_STATUS | CRM (Bitrix24) | status |" in text
    assert "crmbridge import --config crmbridge.yaml deals-<дата>.xlsx --into bas --dry-run" in text
    assert "етапі PREPAYMENT_INVOICE" in text
    assert "## Що робити при розбіжності" in text


def test_a_direct_link_config_gets_only_its_one_transfer() -> None:
    config = load_config(EXAMPLES / "direct-link.yaml").config
    text = procedure.markdown(procedure.blocks(config, "direct-link.yaml", "10:00"))
    assert "## 1. Клієнти" in text
    assert "## 2." not in text and "--what deals" not in text


def test_the_pdf_renders_the_cyrillic_text() -> None:
    config = load_config(EXAMPLES / "sandbox.yaml").config
    data = procedure.pdf(procedure.blocks(config, "crmbridge.yaml", "10:00"))
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Регламент ручного обміну" in text
    assert "Бухгалтер" in text and "КодПоЕДРПОУ" in text
