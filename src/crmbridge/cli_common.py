"""What the commands share: the config and database options, opening the database, errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from crmbridge.errors import CrmbridgeError
from crmbridge.settings import database_url
from crmbridge.store.database import Database, open_database
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


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "httpx"):  # their INFO lines are noise here
        logging.getLogger(noisy).setLevel(logging.WARNING)
