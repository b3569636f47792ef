"""Real databases for tests: a SQLite file per test, a fresh PostgreSQL database per run.

PostgreSQL tests skip on a laptop without the server, and fail when CI is set (dramatiq's rule).
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

PG_ADMIN_DSN = os.environ.get("CRMBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but PostgreSQL is not answering at {PG_ADMIN_DSN}")
    pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432 (set CI to make this a failure)")


def create_database() -> str:
    """Create an empty database for this test run; returns its SQLAlchemy URL."""
    name = f"crmbridge_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
