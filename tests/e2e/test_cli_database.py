"""`crmbridge migrate` and `worker` on bad database input: one clear line, exit status 2."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmbridge.store.database import open_database

ROOT = Path(__file__).resolve().parents[2]


def crmbridge(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI; `stdin` is what a person types (nothing: the input is closed)."""
    inherited = {k: v for k, v in os.environ.items() if k != "CRMBRIDGE_DATABASE_URL"}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "crmbridge", *args],
        cwd=cwd,
        env=full_env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmbridge: error: "), result.stderr
    for text in expected:
        assert text in lines[0]


def test_migrate_creates_the_default_sqlite_file_in_the_working_folder(tmp_path: Path) -> None:
    result = crmbridge("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema upgraded from empty to revision" in result.stdout
    assert (tmp_path / "crmbridge.db").exists()
    again = crmbridge("migrate", cwd=tmp_path)
    assert "schema is up to date" in again.stdout


def test_database_url_comes_from_the_config_then_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "crmbridge.yaml"
    config.write_text("database: ${DB_FILE:-sqlite:///from-config.db}\n", encoding="utf-8")
    assert crmbridge("migrate", "--config", str(config), cwd=tmp_path).returncode == 0
    assert (tmp_path / "from-config.db").exists()
    env = {"CRMBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'from-env.db'}"}
    assert crmbridge("migrate", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "from-env.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "malformed database URL"),
        ("mysql://root@127.0.0.1/test", "unsupported database 'mysql'"),
        ("postgresql://postgres:s3cret@127.0.0.1:1/nowhere", "cannot connect to the database"),
        ("sqlite:////no/such/folder/x.db", "folder /no/such/folder does not exist"),
    ],
)
def test_bad_database_urls_are_one_line_and_exit_2(url: str, expected: str) -> None:
    result = crmbridge("migrate", "--database", url)
    assert_one_clear_line(result, expected)
    assert "s3cret" not in result.stderr


def test_a_schema_newer_than_the_code_stops_the_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'future.db'}"
    assert crmbridge("migrate", "--database", url).returncode == 0
    db = open_database(url)
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    db.dispose()
    assert_one_clear_line(crmbridge("worker", "--database", url), "revision 0099", "newer")


def test_a_config_that_is_not_yaml_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("database: sqlite:///x.db\nsystems: [unclosed\n", encoding="utf-8")
    assert_one_clear_line(crmbridge("migrate", "--config", str(config)), f"{config}:", "YAML")


def test_an_unknown_plugin_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    result = crmbridge("worker", "--database", url, "--plugin", "no.such.module")
    assert_one_clear_line(result, "plugin 'no.such.module' cannot be imported")


@pytest.mark.parametrize(
    "command",
    [("trace", "deal", "1"), ("jobs",), ("replay", "--flow", "clients"), ("prune", "--dry-run")],
)
def test_read_commands_refuse_to_create_a_database(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = crmbridge(*command, cwd=tmp_path)
    assert_one_clear_line(result, "no crmbridge database", "crmbridge.db", "the default")
    assert not (tmp_path / "crmbridge.db").exists()
    config = tmp_path / "crmbridge.yaml"
    config.write_text("database: sqlite:///elsewhere.db\n", encoding="utf-8")
    named = crmbridge(*command, "--config", str(config), cwd=tmp_path)
    assert_one_clear_line(named, "elsewhere.db", f"database: in {config}")
    assert not (tmp_path / "elsewhere.db").exists()


def test_read_commands_refuse_a_database_without_crmbridge_tables(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a file, but not ours
    result = crmbridge("trace", "deal", "1", "--database", f"sqlite:///{empty}")
    assert_one_clear_line(result, "has no crmbridge tables", "--database")
    with sqlite3.connect(empty) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == []


def test_trace_reads_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'here.db'}"
    assert crmbridge("migrate", "--database", url).returncode == 0
    result = crmbridge("trace", "deal", "1", "--database", url)
    assert result.returncode == 0, result.stderr
    assert "nothing recorded" in result.stdout
