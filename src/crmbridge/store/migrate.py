"""Bring a database to the schema this code knows, or say clearly why not."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from crmbridge.errors import DatabaseError
from crmbridge.store.database import Database, safe_url

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK_ID = 0x63726D62  # "crmb"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database) -> tuple[str | None, str]:
    """Upgrade to head; returns (revision before, revision after)."""
    before = current_revision(db)
    script = ScriptDirectory.from_config(_config())
    if before is not None:
        try:
            script.get_revision(before)
        except CommandError:
            raise DatabaseError(
                f"the database at {safe_url(db.engine.url)} has schema revision {before}, "
                f"newer than this crmbridge knows (up to {head_revision()}); upgrade crmbridge"
            ) from None
    head = head_revision()
    if before == head:
        return before, head  # every command starts here: skip alembic's environment
    config = _config()
    with db.write() as conn:
        if db.dialect == "postgresql":
            # serve and worker processes starting together must not both create the tables.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()
