"""`crmbridge jobs`, `replay` and `prune`: looking at the queue and mending it from a shell."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from crmbridge.cli_common import ConfigOption, DatabaseOption, clear_errors, existing_db
from crmbridge.clock import SystemClock
from crmbridge.config.load import load_config
from crmbridge.errors import ConfigError
from crmbridge.store import jobs as job_sql
from crmbridge.store import retention
from crmbridge.store.database import Database
from crmbridge.store.jobs import JobFilter, Status
from crmbridge.trace import timeline

STATUSES = ("waiting", "running", "done", "dead")


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option}: {value!r} is not a date (use 2026-01-31 or 2026-01-31T09:00)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _status(value: str | None) -> Status | None:
    if value is not None and value not in STATUSES:
        raise ConfigError(f"--status: {value!r} is not one of {', '.join(STATUSES)}")
    return value  # type: ignore[return-value]


def job_filter(
    status: str | None, flow: str | None, error: str | None, since: str | None, until: str | None
) -> JobFilter:
    return JobFilter(
        status=_status(status),
        flow=flow,
        error_contains=error,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
    )


def _job_json(job: job_sql.Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "flow": job.flow,
        "status": job.status,
        "attempts": job.attempts,
        "lock_key": job.lock_key,
        "enqueued_at": job.enqueued_at.isoformat(),
        "run_at": job.run_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "last_error": job.last_error,
        "correlation_id": job.correlation_id,
    }


def show_jobs(db: Database, flt: JobFilter, limit: int, as_json: bool) -> None:
    found = job_sql.find(db, flt, limit)
    if as_json:
        typer.echo(json.dumps([_job_json(j) for j in found], ensure_ascii=False, indent=2))
        return
    table = Table("id", "flow", "status", "attempts", "key", "enqueued", "last error")
    for job in found:
        error = (job.last_error or "")[:80]
        enqueued = job.enqueued_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            str(job.id),
            job.flow,
            job.status,
            str(job.attempts),
            job.lock_key or "",
            enqueued,
            error,
        )
    console = Console()
    console.print(table)
    total = job_sql.count(db, flt)
    console.print(f"{len(found)} of {total} matching jobs shown")


def replay_jobs(db: Database, job_id: int | None, flt: JobFilter, dry_run: bool) -> None:
    now = SystemClock().now()
    if job_id is not None:
        job = job_sql.get(db, job_id)
        if job is None:
            raise ConfigError(f"there is no job {job_id}")
        if job.status not in ("dead", "done"):
            raise ConfigError(f"job {job_id} is {job.status}; only dead or done jobs are replayed")
        if not dry_run:
            job_sql.replay(db, [job_id], now)
        typer.echo(f"{'would replay' if dry_run else 'replayed'} job {job_id} ({job.flow})")
        return
    flt = flt if flt.status is not None else replace(flt, status="dead")
    if dry_run:
        typer.echo(f"would replay {job_sql.count(db, flt)} {flt.status} jobs")
        return
    typer.echo(f"replayed {job_sql.replay_matching(db, flt, now)} {flt.status} jobs")


def prune_history(db: Database, older_than_days: int, dry_run: bool) -> None:
    before = SystemClock().now() - timedelta(days=older_than_days)
    counts = retention.count_prunable(db, before) if dry_run else retention.prune(db, before)
    verb = "would remove" if dry_run else "removed"
    detail = ", ".join(f"{n} {table}" for table, n in counts.items())
    typer.echo(f"{verb} rows older than {before:%Y-%m-%d %H:%M} UTC: {detail}")


def show_trace(db: Database, kind: str, key: str, as_json: bool) -> None:
    entity, crm_id, entries = timeline(db, kind, key)
    if as_json:
        body = {"entity": entity, "id": crm_id, "timeline": [e.json() for e in entries]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        return
    table = Table("time (UTC)", "kind", "what", "detail", title=f"{entity} {crm_id}")
    for entry in entries:
        detail = json.dumps(entry.detail, ensure_ascii=False, default=str)
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], entry.kind, entry.what, detail
        )
    Console(width=200).print(table)
    if not entries:
        typer.echo(f"nothing recorded about {entity} {crm_id}")


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""

    @app.command()
    def jobs(
        config: ConfigOption = None,
        database: DatabaseOption = None,
        status: Annotated[str | None, typer.Option(help="waiting, running, done or dead.")] = None,
        flow: Annotated[str | None, typer.Option(help="Only jobs of this flow.")] = None,
        error: Annotated[str | None, typer.Option(help="Text in the last error.")] = None,
        since: Annotated[str | None, typer.Option(help="Finished at or after (ISO).")] = None,
        until: Annotated[str | None, typer.Option(help="Finished before (ISO).")] = None,
        limit: Annotated[int, typer.Option(min=1, help="How many to show.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List jobs, newest first."""
        with clear_errors():
            flt = job_filter(status, flow, error, since, until)
            show_jobs(existing_db(config, database), flt, limit, as_json)

    @app.command()
    def replay(
        job_id: Annotated[int | None, typer.Argument(help="One job to replay.")] = None,
        config: ConfigOption = None,
        database: DatabaseOption = None,
        flow: Annotated[str | None, typer.Option(help="Dead jobs of this flow.")] = None,
        error: Annotated[str | None, typer.Option(help="Dead jobs whose error has this.")] = None,
        since: Annotated[str | None, typer.Option(help="Finished at or after (ISO).")] = None,
        until: Annotated[str | None, typer.Option(help="Finished before (ISO).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what.")] = False,
    ) -> None:
        """Run a dead job again, or all dead jobs matching a filter."""
        with clear_errors():
            if job_id is None and not any((flow, error, since, until)):
                raise ConfigError("name a job id, or a filter (--flow, --error, --since, --until)")
            flt = job_filter(None, flow, error, since, until)
            replay_jobs(existing_db(config, database), job_id, flt, dry_run)

    @app.command()
    def trace(
        kind: Annotated[
            str, typer.Argument(help="deal, company, invoice, counterparty or product.")
        ],
        key: Annotated[
            str, typer.Argument(help="Id, invoice number, ЄДРПОУ or a product's BAS Ref_Key.")
        ],
        config: ConfigOption = None,
        database: DatabaseOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Everything crmbridge did about one deal, company, invoice or product, in time order."""
        with clear_errors():
            show_trace(existing_db(config, database), kind, key, as_json)

    @app.command()
    def prune(
        config: ConfigOption = None,
        database: DatabaseOption = None,
        older_than_days: Annotated[
            int | None,
            typer.Option(min=1, help="Keep this many days (default: retention.days, or 180)."),
        ] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    ) -> None:
        """Remove old inbox events, exchanges, decisions and done jobs (never dead letters)."""
        with clear_errors():
            db = existing_db(config, database)
            days = older_than_days or (load_config(config).config.retention.days if config else 180)
            prune_history(db, days, dry_run)
