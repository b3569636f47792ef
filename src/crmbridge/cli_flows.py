"""`crmbridge sync catalog`: run a flow by hand, with progress (the initial load, mostly)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crmbridge.app import Application
from crmbridge.cli_common import DatabaseOption, clear_errors, migrated
from crmbridge.config.check import check as check_config
from crmbridge.config.load import ConfigProblems, load_config
from crmbridge.flows import catalog
from crmbridge.flows.jobs import CATALOG_CURSOR
from crmbridge.store import cursors

sync_app = typer.Typer(help="Run a flow now, by hand.", no_args_is_help=True)


@sync_app.command("catalog")
def sync_catalog(
    config: Annotated[Path, typer.Option("--config", "-c", help="The YAML config file.")],
    database: DatabaseOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Every product (initial load); else only changed ones.")
    ] = False,
) -> None:
    """Products and prices BAS → CRM. --full is resumable: run it again after an interruption."""
    with clear_errors():
        loaded = load_config(config)
        problems = check_config(loaded)
        if problems:
            raise ConfigProblems(problems)
        db = migrated(config, database)
        application = Application(loaded.config, db)
        ctx = application.context()

        def save(state: dict[str, Any]) -> None:
            cursors.put(db, CATALOG_CURSOR, state, application.clock.now())

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("products BAS → CRM", total=None)
            result = catalog.sync(
                ctx,
                full=full,
                state=cursors.get(db, CATALOG_CURSOR),
                save=save,
                progress=lambda n: progress.advance(task, n),
            )
        application.close()
    typer.echo(
        f"{result.seen} products read, {result.written} written, {result.unchanged} unchanged"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")
