"""examples/direct-link.yaml: one one-way flow (counterparties CRM → BAS) run by
`crmbridge serve --with-worker` on SQLite, the sandbox posting its events to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.sandbox.server import Sandbox
from crmbridge.store import jobs as q
from crmbridge.store.database import open_database
from tests.support.bridge import serving
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "direct-link.yaml"


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[tuple[Sandbox, str]]:
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'direct.db'}"
    with running_sandbox(outgoing_webhook=f"http://127.0.0.1:{port}/hooks/bitrix24") as sandbox:
        env = {
            "CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url,
            "CRMBRIDGE_DATABASE_URL": db_url,
        }
        with serving(CONFIG, port, env, tmp_path / "serve.log"):
            yield sandbox, db_url


def _parties(sandbox: Sandbox, code: str) -> list[dict[str, object]]:
    rows = sandbox.bas.service.store.rows("Catalog_Контрагенты")
    return [r for r in rows if r.get("КодПоЕДРПОУ") == code]


def test_counterparties_follow_the_crm_one_way(linked: tuple[Sandbox, str]) -> None:
    sandbox, db_url = linked
    assert _parties(sandbox, "44003110") == []
    sandbox.bitrix24.call("crm.company.update", {"id": 6, "fields": {"TITLE": "Київ Ритейл Груп"}})
    [party] = wait_for(lambda: _parties(sandbox, "44003110"), timeout=60, what="counterparty")
    assert party["Description"] == "Київ Ритейл Груп"

    # A company without deals worth it: the rule says no, and nothing is created.
    new = sandbox.bitrix24.call("crm.company.add", {"fields": {"TITLE": "Малий Клієнт"}})
    sandbox.bitrix24.call(
        "crm.requisite.add",
        {
            "fields": {
                "ENTITY_TYPE_ID": 4,
                "ENTITY_ID": new,
                "PRESET_ID": 1,
                "NAME": "Реквізити",
                "RQ_EDRPOU": "44006237",
            }
        },
    )
    sandbox.bitrix24.call("crm.company.update", {"id": new, "fields": {"COMMENTS": "x"}})
    # A company without a tax code cannot become a counterparty: a clear dead letter.
    sandbox.bitrix24.call("crm.company.update", {"id": 7, "fields": {"COMMENTS": "x"}})

    db = open_database(db_url)
    wait_for(lambda: q.count(db, q.JobFilter(status="dead")) == 1, timeout=60, what="dead letter")
    wait_for(lambda: q.count(db, q.JobFilter(status="waiting")) == 0, timeout=60, what="drained")
    [dead] = q.find(db, q.JobFilter(status="dead"))
    assert "company 7 «Прайм Консалт» has no RQ_EDRPOU" in (dead.last_error or "")
    assert _parties(sandbox, "44006237") == []
    assert sandbox.bas.invoices() == []  # the direct link does nothing else
    db.dispose()
