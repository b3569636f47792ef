"""One manual export or import from start to end: read or write the file, log the run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crmbridge.config.expressions import Expression
from crmbridge.config.model import Side
from crmbridge.flows.context import FlowContext
from crmbridge.manual import export, importing, sheets
from crmbridge.manual.layouts import LAYOUTS, Problem, What
from crmbridge.manual.runlog import Run, recorded


def export_file(
    ctx: FlowContext,
    what: What,
    path: Path,
    *,
    user: str,
    since: date | None = None,
    where: Expression | None = None,
) -> Run:
    layout = LAYOUTS[what]
    run = Run("export", path, "", user)
    run.counts["rows"] = 0
    with recorded(ctx.db, ctx.clock, run):
        rows = export.rows(ctx, what, run, since=since, where=where)
        sheets.write(path, layout.headers, layout.kinds, rows)
        run.sha256 = sheets.digest(path)
    return run


@dataclass(frozen=True)
class Imported:
    run: Run
    what: What
    problems: list[Problem]
    written: bool
    skipped: list[Problem]


def import_file(
    ctx: FlowContext, path: Path, into: Side, *, user: str, dry_run: bool, partial: bool
) -> Imported:
    operation = "import.dry-run" if dry_run else "import"
    run = Run(operation, path, sheets.digest(path), user)
    with recorded(ctx.db, ctx.clock, run, events=not dry_run):
        table = sheets.read(path)  # inside: an unreadable file is a run that failed, logged
        checked = importing.check(ctx, table, into)
        run.count("rows", len(table.rows))
        run.count("invalid rows", len({p.row for p in checked.problems}))
        run.count("records", len(checked.items))
        run.errors = [str(p) for p in checked.problems]
        run.skipped = [str(p) for p in checked.skipped]
        if checked.skipped:
            run.count("skipped", len(checked.skipped))
        write = not dry_run and bool(checked.items) and (partial or not checked.problems)
        if write:
            importing.write(ctx, checked, run)
    return Imported(run, checked.layout.what, checked.problems, write, checked.skipped)
