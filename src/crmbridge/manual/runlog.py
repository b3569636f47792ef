"""A manual run in the exchange log, like any other exchange, and in each entity's trace.

One `exchanges` row per run (system `manual`, operation `export`, `import` or `import.dry-run`):
who ran it, the file's name and SHA-256, the counts and the errors. Every connector call the run
makes carries the run's correlation id. Each deal or company the file moved gets an inbox event
(source `manual`), which is how `crmbridge trace deal 12` shows the manual transfer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmbridge import correlation
from crmbridge.clock import Clock
from crmbridge.correlation import CallContext
from crmbridge.store import inbox, journal
from crmbridge.store.database import Database

SYSTEM = "manual"


@dataclass
class Run:
    operation: str
    path: Path
    sha256: str
    user: str
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rows skipped as the flow skips them
    entities: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # → row numbers

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def touched(self, kind: str, entity_id: str, rows: list[int] | None = None) -> None:
        self.entities.setdefault((kind, entity_id), []).extend(rows or [])

    def details(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "file": self.path.name,
            "sha256": self.sha256,
            "counts": self.counts,
            "errors": self.errors[:200],
            "skipped": self.skipped[:200],
        }


@contextmanager
def recorded(db: Database, clock: Clock, run: Run, *, events: bool = True) -> Iterator[Run]:
    """Bind the run's correlation id for the calls it makes, then log the run, even when it
    fails half-way (the error is the exchange's error)."""
    started, at = time.perf_counter(), clock.now()
    context = CallContext(run.correlation_id, business_key=f"file:{run.sha256[:16]}")
    failure: str | None = None
    try:
        with correlation.bound(context):
            yield run
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        errors = [*run.errors, *([failure] if failure else [])]
        journal.record_exchange(
            db,
            journal.Exchange(
                at=at,
                system=SYSTEM,
                operation=run.operation,
                url=run.path.name,
                request_body=json.dumps(run.details(), ensure_ascii=False),
                response_body=json.dumps(run.counts, ensure_ascii=False),
                duration_ms=(time.perf_counter() - started) * 1000,
                correlation_id=run.correlation_id,
                business_key=context.business_key,
                error="; ".join(errors[:20]) or None,
            ),
        )
        if events:
            _events(db, clock, run)


def _events(db: Database, clock: Clock, run: Run) -> None:
    for (kind, entity_id), rows in run.entities.items():
        event = inbox.Event(
            source=SYSTEM,
            event_id=f"{run.correlation_id}:{kind}:{entity_id}",
            event_type=run.operation,
            entity_kind=kind,
            entity_id=entity_id,
            payload={**run.details(), "rows": rows, "correlation_id": run.correlation_id},
        )
        inbox.accept(db, event, [], clock.now())
