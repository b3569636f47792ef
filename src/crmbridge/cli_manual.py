"""`crmbridge export | import | procedure`: the manual bridge, on the same config as the
middleware (its mappings, ownership and keys), so moving on to the middleware is a config change."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from crmbridge.app import Application
from crmbridge.cli_common import DatabaseOption, clear_errors, migrated
from crmbridge.config.check import check as check_config
from crmbridge.config.expressions import Expression, compile_expression
from crmbridge.config.load import ConfigProblems, LoadedConfig, load_config
from crmbridge.errors import ConfigError
from crmbridge.manual import procedure as procedure_text
from crmbridge.manual.layouts import What
from crmbridge.manual.runs import export_file, import_file
from crmbridge.manual.sheets import CellError, parse_date

ConfigRequired = Annotated[
    Path, typer.Option("--config", "-c", help="The YAML config file.", dir_okay=False)
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who runs it, for the exchange log (default: the login name)."),
]
FILTER_INPUTS: dict[str, frozenset[str]] = {
    "deals": frozenset({"deal", "company", "requisite"}),
    "companies": frozenset({"company", "requisite"}),
    "products": frozenset({"product", "price"}),
    "invoices": frozenset({"invoice", "paid"}),
}


def _checked(config: Path) -> LoadedConfig:
    loaded = load_config(config)
    problems = check_config(loaded)
    if problems:
        raise ConfigProblems(problems)
    return loaded


def _user(by: str | None) -> str:
    return by or getpass.getuser()


def export(
    config: ConfigRequired,
    what: Annotated[
        Literal["deals", "companies", "products", "invoices"],
        typer.Option("--what", help="Which records: deals, companies, products or invoices."),
    ],
    to: Annotated[Path, typer.Option("--to", help="The file to write: .xlsx or .csv.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only records changed on or after DATE.")
    ] = None,
    where: Annotated[
        str | None, typer.Option("--filter", help="Only records for which this CEL is true.")
    ] = None,
    database: DatabaseOption = None,
    by: ByOption = None,
) -> None:
    """Write the records the procedure transfers to an XLSX or CSV file (read-only on both
    systems); the run goes into the exchange log."""
    with clear_errors():
        loaded = _checked(config)
        if to.suffix.lower() not in (".xlsx", ".csv"):
            raise ConfigError(f"--to {to.name}: write .xlsx or .csv")
        if not to.resolve().parent.is_dir():
            raise ConfigError(f"--to {to}: no such folder")
        day = _since(since)
        condition = _filter(where, what)
        db = migrated(config, database)
        application = Application(loaded.config, db)
        try:
            run = export_file(
                application.context(), what, to, user=_user(by), since=day, where=condition
            )
        finally:
            application.close()
            db.dispose()
    typer.echo(f"{to}: {run.counts.get('rows', 0)} rows of {what} (sha256 {run.sha256[:16]}…)")


def import_(
    file: Annotated[Path, typer.Argument(help="The XLSX or CSV file to import.", dir_okay=False)],
    config: ConfigRequired,
    into: Annotated[
        Literal["bas", "crm"], typer.Option("--into", help="The system to write into.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate every row and report; write nothing.")
    ] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Write the valid records even if some rows are not.")
    ] = False,
    database: DatabaseOption = None,
    by: ByOption = None,
) -> None:
    """Validate every row of a file, then (when all are valid, or with --partial) write it into
    BAS or the CRM; a second import of the same file creates nothing. Exit status 1 when any row
    is invalid."""
    with clear_errors():
        loaded = _checked(config)
        if not file.is_file():
            raise ConfigError(f"{file}: no such file")
        db = migrated(config, database)
        application = Application(loaded.config, db)
        try:
            ctx = application.context()
            done = import_file(ctx, file, into, user=_user(by), dry_run=dry_run, partial=partial)
        finally:
            application.close()
            db.dispose()
    for problem in done.problems:
        typer.echo(f"{file.name}: {problem}", err=True)
    for skipped in done.skipped:
        typer.echo(f"{file.name}: {skipped}")
    counts = ", ".join(f"{v} {k}" for k, v in done.run.counts.items())
    verdict = "written" if done.written else ("checked only" if dry_run else "NOTHING WRITTEN")
    typer.echo(f"{file.name} ({done.what} → {into}): {verdict}; {counts}")
    if done.problems:
        raise typer.Exit(1)


def procedure(
    config: ConfigRequired,
    to: Annotated[
        Path | None, typer.Option("--to", help="Write to FILE.md or FILE.pdf (default: stdout).")
    ] = None,
    at: Annotated[str, typer.Option("--at", help="Time of the daily exchange, HH:MM.")] = "10:00",
) -> None:
    """The written procedure of the manual bridge, generated from the config: roles, schedule,
    records and fields in each direction, checks before and after, what to do on a discrepancy."""
    with clear_errors():
        loaded = _checked(config)
        items = procedure_text.blocks(loaded.config, str(config), at)
        if to is None:
            typer.echo(procedure_text.markdown(items), nl=False)
        elif to.suffix.lower() not in (".md", ".pdf"):
            raise ConfigError(f"--to {to.name}: write .md or .pdf")
        else:
            _save(to, items)
    if to is not None:
        typer.echo(f"{to}: procedure written")


def _save(to: Path, items: list[procedure_text.Block]) -> None:
    try:
        if to.suffix.lower() == ".pdf":
            to.write_bytes(procedure_text.pdf(items))
        else:
            to.write_text(procedure_text.markdown(items), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{to}: cannot write it ({exc.strerror or exc})") from None


def _since(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except CellError as exc:
        raise ConfigError(f"--since: {exc}") from None


def _filter(source: str | None, what: What) -> Expression | None:
    if source is None:
        return None
    expression = compile_expression(source)
    unknown = expression.variables - FILTER_INPUTS[what]
    if unknown:
        raise ConfigError(
            f"--filter reads {', '.join(sorted(unknown))}; for {what} it may read "
            + ", ".join(sorted(FILTER_INPUTS[what]))
        )
    return expression


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)
    app.command("procedure")(procedure)
