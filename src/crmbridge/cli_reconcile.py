"""`crmbridge reconcile` (compare both systems, optionally re-push from the owner) and
`crmbridge advise` (which shape fits: direct, middleware or manual)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from crmbridge import advise as advisor
from crmbridge import reconcile as reconciliation
from crmbridge.app import Application
from crmbridge.cli_common import DatabaseOption, clear_errors, migrated
from crmbridge.config.check import check as check_config
from crmbridge.config.load import ConfigProblems, load_config
from crmbridge.errors import ConfigError
from crmbridge.reconcile import report
from crmbridge.reconcile.compare import Discrepancy

SHOWN = 50  # discrepancies printed as lines; the rest are in --json and --report


def reconcile(
    config: Annotated[Path, typer.Option("--config", "-c", help="The YAML config file.")],
    database: DatabaseOption = None,
    entities: Annotated[
        str | None,
        typer.Option(help="Comma-separated: clients,products,prices,invoices (default: all)."),
    ] = None,
    report_file: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the report to FILE.html or FILE.xlsx."),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Re-push what differs or is missing from the owner.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compare both systems on every mirrored field. Exit status 0: clean; 1: discrepancies
    found (with --fix: some remain that a re-push cannot mend, e.g. orphans); 2: an error."""
    with clear_errors():
        wanted = reconciliation.parse_entities(entities)
        if report_file is not None and report_file.suffix.lower() not in (".html", ".htm", ".xlsx"):
            raise ConfigError(f"--report: {report_file.name}: use a .html or .xlsx file")
        if report_file is not None and not report_file.resolve().parent.is_dir():
            raise ConfigError(f"--report: no folder {report_file.resolve().parent}")
        loaded = load_config(config)
        problems = check_config(loaded)
        if problems:
            raise ConfigProblems(problems)
        application = Application(loaded.config, migrated(config, database))
        try:
            result = reconciliation.run(application.context(), wanted, fix_stale=fix)
        finally:
            application.close()
        if report_file is not None:
            report.write(result.summary, report_file, application.clock.now())
    _show(result, as_json)
    raise typer.Exit(_status(result))


def _status(result: reconciliation.Result) -> int:
    if result.fixed is not None:
        if result.fixed.errors:
            return 2
        return 1 if any(d.kind == "orphan" for d in result.summary.discrepancies) else 0
    return 1 if result.summary.discrepancies else 0


def _show(result: reconciliation.Result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.json(), ensure_ascii=False, indent=2, default=str))
        return
    for entity, row in result.summary.counts().items():
        typer.echo(
            f"{entity}: {row['compared']} compared, {row['differs']} differ, "
            f"{row['missing']} missing, {row['orphan']} orphan"
        )
    for note in result.summary.notes:
        typer.echo(f"note: {note}")
    found = result.summary.discrepancies
    for d in found[:SHOWN]:
        typer.echo(_line(d))
    if len(found) > SHOWN:
        typer.echo(f"… and {len(found) - SHOWN} more (see --json or --report)")
    if result.fixed is not None:
        typer.echo(f"re-pushed {result.fixed.records} records from their owner")
        for error in result.fixed.errors:
            typer.echo(f"could not fix: {error}", err=True)
    typer.echo("clean" if not found else f"{len(found)} discrepancies")


def _line(d: Discrepancy) -> str:
    who = f"{d.entity} {d.key}" + (f" «{d.label}»" if d.label else "")
    if d.kind == "missing":
        return f"{who}: in {d.owner.upper()} (the owner), missing in {d.stale.upper()}"
    if d.kind == "orphan":
        return f"{who}: in {d.stale.upper()}, gone from {d.owner.upper()} (the owner)"
    return (
        f"{who}: {d.field}: {d.owner.upper()} (owner) says {d.owner_value!r}, "
        f"{d.stale.upper()} holds {d.stale_value!r}"
    )


def advise(
    exchanges_per_day: Annotated[
        int | None, typer.Option(min=0, help="Exchanges between the systems a day.")
    ] = None,
    direction: Annotated[str | None, typer.Option(help="one-way or two-way.")] = None,
    rules: Annotated[
        int | None, typer.Option(min=0, help="Transformation rules and conditions.")
    ] = None,
    audit: Annotated[str | None, typer.Option(help="Is an audit trail needed: yes or no.")] = None,
    exceptions_per_month: Annotated[
        int | None, typer.Option(min=0, help="Exceptional cases a month that stall an exchange.")
    ] = None,
    hour_cost: Annotated[
        float | None, typer.Option(min=0.0, help="Cost of one hour of a stalled exchange.")
    ] = None,
    engineer_hour_cost: Annotated[
        float, typer.Option(min=0.0, help="Cost of one engineer hour (build and upkeep).")
    ] = advisor.ENGINEER_HOUR_COST,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recommend direct, middleware or manual, with the reasons and where to start. Missing
    answers are asked for on a terminal; without one, --exchanges-per-day is required and the
    others default to one-way, 0 rules, no audit, 0 exceptions, hour cost 0."""
    with clear_errors():
        asking = sys.stdin.isatty()
        per_day = _answer(exchanges_per_day, "Exchanges a day", int, asking, None)
        way = _choice(direction, "Direction (one-way/two-way)", "one-way", asking)
        try:
            answers = advisor.Answers(
                exchanges_per_day=per_day,
                direction=cast(advisor.DirectionAnswer, way),
                rules=_answer(rules, "Transformation rules", int, asking, 0),
                audit=_choice(audit, "Audit trail needed (yes/no)", "no", asking) == "yes",
                exceptions_per_month=_answer(
                    exceptions_per_month, "Exceptional cases a month", int, asking, 0
                ),
                hour_cost=_answer(hour_cost, "Cost of one stalled hour", float, asking, 0.0),
                engineer_hour_cost=engineer_hour_cost,
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        result = advisor.advise(answers)
    if as_json:
        typer.echo(json.dumps(result.json(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"recommendation: {result.shape}")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")


def _answer(value: Any, question: str, kind: type, asking: bool, default: Any) -> Any:
    if value is not None:
        return value
    if asking:  # a wrong answer is asked again, not fatal: typer checks it against `kind`
        return typer.prompt(question, type=kind, default=default)
    if default is None:
        raise ConfigError("--exchanges-per-day is required when there is no terminal to ask on")
    return default


def _choice(value: str | None, question: str, default: str, asking: bool) -> str:
    allowed = ("one-way", "two-way") if "one-way" in question else ("yes", "no")
    chosen = _answer(value, question, str, asking, default)
    while value is None and asking and chosen not in allowed:  # a typo is asked again
        typer.echo(f"Error: {chosen!r} is not one of {'/'.join(allowed)}.", err=True)
        chosen = _answer(None, question, str, asking, default)
    if str(chosen) not in allowed:
        raise ConfigError(
            f"{question.split(' (')[0]}: {chosen!r} is not one of {'/'.join(allowed)}"
        )
    return str(chosen)


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
    app.command("advise")(advise)
