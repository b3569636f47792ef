from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crmbridge.clock import FakeClock
from crmbridge.store.database import Database, open_database
from crmbridge.store.migrate import head_revision, migrate
from crmbridge.store.schema import metadata
from tests.support.databases import create_database, drop_database, require_postgres

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One fresh PostgreSQL database for the whole run, dropped at the end."""
    require_postgres()
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database on each backend; PostgreSQL tables are emptied per test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crmbridge.db'}"
        migrate_and_close(url)
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    migrate_and_close(url)
    yield url
    db = open_database(url)
    with db.write() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
        )
    db.dispose()


def migrate_and_close(url: str) -> None:
    db = open_database(url)
    migrate(db)
    db.dispose()


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    """The PostgreSQL database alone, for what only PostgreSQL does (LISTEN, many processes)."""
    migrate_and_close(postgres_url)
    database = open_database(postgres_url)
    yield database
    with database.write() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
