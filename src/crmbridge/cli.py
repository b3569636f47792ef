"""The `crmbridge` command line. Each command wires what it needs from settings, then runs."""

from __future__ import annotations

import typer

from crmbridge import __version__

app = typer.Typer(
    name="crmbridge",
    help="Connect a CRM (Bitrix24) with 1C/BAS accounting: middleware, direct link or manual bridge.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:
    app()
