"""What the commands share: the config and database options, opening the database, errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from crmbridge.errors import CrmbridgeError, DatabaseError
from crmbridge.settings import database_source, database_url
from crmbridge.store.database import Database, open_database, parse_url, safe_url
from crmbridge.store.migrate import current_revision
from crmbridge.store.migrate import migrate as run_migrations

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="The YAML config file.", dir_okay=False),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL; overrides the config and CRMBRIDGE_DATABASE_URL.",
        show_default=False,
    ),
]


@contextmanager
def clear_errors() -> Iterator[None]:
    """A crmbridge error is one line naming the problem, exit status 2, never a traceback."""
    try:
        yield
    except CrmbridgeError as exc:
        typer.echo(f"crmbridge: error: {exc.message}", err=True)
        raise typer.Exit(2) from None


def open_db(config: Path | None, database: str | None) -> Database:
    return open_database(database or database_url(config))


def migrated(config: Path | None, database: str | None) -> Database:
    db = open_db(config, database)
    run_migrations(db)
    return db


def existing_db(config: Path | None, database: str | None) -> Database:
    """The database a command that reads history looks at. Never created here: an empty new
    file would only answer "nothing recorded" about a database that is somewhere else."""
    url, source = (database, "--database") if database else database_source(config)
    parsed = parse_url(url)
    hint = (
        "name the database of the running service with --config FILE or --database URL "
        "(`crmbridge demo` prints where it keeps its own)"
    )
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        where = Path(parsed.database or "").resolve()
        raise DatabaseError(f"no crmbridge database at {where} (from {source}); {hint}")
    db = open_database(url)
    if current_revision(db) is None:
        db.dispose()
        raise DatabaseError(
            f"the database at {safe_url(parsed)} (from {source}) has no crmbridge tables; {hint}"
        )
    run_migrations(db)  # an older schema is upgraded, as every other command does
    return db


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "httpx"):  # their INFO lines are noise here
        logging.getLogger(noisy).setLevel(logging.WARNING)
