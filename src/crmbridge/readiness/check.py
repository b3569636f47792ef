"""`crmbridge check`: the file, then both systems, every problem as one line.

The file's own checks always run (`config.check`); without `--offline` the check then reaches
both systems with the config's credentials (each system's own `check`, crmbridge.systems) and
compares what the config names with what they have. A system whose address the file already
got wrong is not called. Nothing is written to either system, and nothing to a database.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from crmbridge import systems
from crmbridge.config.check import check as check_file
from crmbridge.config.load import LoadedConfig
from crmbridge.store.database import Database
from crmbridge.systems import Report

__all__ = ["Report", "run"]


def run(
    loaded: LoadedConfig, *, offline: bool, database: Callable[[], Database] | None = None
) -> Report:
    """`database` opens the config's database, where an OAuth application's tokens are (it is
    only read, and only with `auth: oauth`)."""
    static = check_file(loaded)
    report = Report([str(p) for p in static])
    if offline:
        return report
    broken = {p.field.split(".")[1] for p in static if p.field.startswith("systems.")}
    with httpx.Client(follow_redirects=False) as client:
        report.client, report.database = client, database
        for side, section in systems.configured(loaded.config):
            system = systems.of(side, section.type)
            if side in broken:
                continue
            if system.check is None:
                report.checked.append(f"{system.title} (not asked: it has no live check yet)")
                continue
            system.check(loaded, report)
        report.client = report.database = None
    return report
