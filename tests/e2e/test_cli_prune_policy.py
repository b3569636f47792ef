"""`crmbridge prune --dry-run` with a config reports what the configured retention would remove."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from crmbridge.store import journal
from crmbridge.store.database import open_database
from crmbridge.store.migrate import migrate
from crmbridge.store.schema import exchanges
from tests.e2e.test_cli_database import crmbridge

ROOT = Path(__file__).resolve().parents[2]


def test_prune_follows_the_configured_retention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    db = open_database(url)
    migrate(db)
    now = datetime.now(UTC)
    for age in (40, 10):
        at = now - timedelta(days=age)
        journal.record_exchange(db, journal.Exchange(at=at, system="bas", operation="odata.get"))
    db.dispose()
    config = tmp_path / "crmbridge.yaml"
    example = (ROOT / "examples" / "sandbox.yaml").read_text(encoding="utf-8")
    config.write_text(example + "\nretention: {days: 30}\n", encoding="utf-8")

    by_policy = crmbridge("prune", "--config", str(config), "--database", url, "--dry-run")
    assert by_policy.returncode == 0, by_policy.stderr
    assert "would remove" in by_policy.stdout and "1 exchanges" in by_policy.stdout
    default = crmbridge("prune", "--database", url, "--dry-run")
    assert "0 exchanges" in default.stdout  # 180 days without a config
    crmbridge("prune", "--config", str(config), "--database", url)
    again = crmbridge("prune", "--config", str(config), "--database", url, "--dry-run")
    assert "0 exchanges" in again.stdout
    db = open_database(url)
    with db.read() as conn:
        [kept] = conn.execute(select(exchanges.c.at)).scalars().all()
    db.dispose()
    assert kept > now - timedelta(days=11)  # the 10-day-old exchange stays
