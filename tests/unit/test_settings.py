from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.errors import ConfigError, DatabaseError
from crmbridge.settings import database_url, interpolate, read_config
from crmbridge.store.database import parse_url, safe_url


def test_interpolation_uses_the_environment_then_the_default() -> None:
    env = {"HOST": "db.local"}
    assert interpolate("${HOST}:${PORT:-5432}", env) == "db.local:5432"
    with pytest.raises(ConfigError, match="environment variable MISSING is not set"):
        interpolate("${MISSING}", env)
    missing: list[str] = []
    assert interpolate("${A}/${B:-b}/${C}", env, missing) == "${A}/b/${C}"
    assert missing == ["A", "C"]


def test_values_from_the_environment_are_not_parsed_as_yaml(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("password: ${PW}\nlist: [a, '${X:-b}']\n", encoding="utf-8")
    data = read_config(config, {"PW": "a: b # c"})
    assert data == {"password": "a: b # c", "list": ["a", "b"]}


def test_the_database_url_precedence(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("database: sqlite:///cfg.db\n", encoding="utf-8")
    env = {"CRMBRIDGE_DATABASE_URL": "sqlite:///env.db"}
    assert database_url(config, env) == "sqlite:///cfg.db"
    assert database_url(None, env) == "sqlite:///env.db"
    assert database_url(None, {}) == "sqlite:///crmbridge.db"


def test_postgres_urls_use_psycopg_and_never_show_the_password() -> None:
    url = parse_url("postgres://app:hunter2@db:5432/crm")
    assert url.drivername == "postgresql+psycopg"
    assert "hunter2" not in safe_url(url)
    with pytest.raises(DatabaseError, match="in-memory SQLite"):
        parse_url("sqlite://")
