"""The rows a trace is made of: everything recorded about one entity, across all tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select

from crmbridge.store.database import Database
from crmbridge.store.schema import decisions, effects, exchanges, inbox, job_attempts, jobs, links


def rows_for(
    db: Database, kind: str, entity_id: str, lock_keys: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    with db.read() as conn:
        found_jobs = [
            dict(r._mapping)
            for r in conn.execute(
                select(jobs).where(jobs.c.lock_key.in_(lock_keys)).order_by(jobs.c.id)
            )
        ]
        job_ids = [j["id"] for j in found_jobs]
        correlations = [j["correlation_id"] for j in found_jobs]
        found_decisions = _all(
            conn,
            select(decisions).where(
                or_(
                    (decisions.c.entity_kind == kind) & (decisions.c.entity_id == entity_id),
                    decisions.c.job_id.in_(job_ids),
                )
            ),
        )
        # A manual run (export/import) has no job: its decisions carry the run's correlation id,
        # and so do its exchanges (the run's own row and every call it made).
        correlations += [d["correlation_id"] for d in found_decisions if d["correlation_id"]]
        return {
            "events": _all(
                conn,
                select(inbox).where(inbox.c.entity_kind == kind, inbox.c.entity_id == entity_id),
            ),
            "jobs": found_jobs,
            "attempts": _all(conn, select(job_attempts).where(job_attempts.c.job_id.in_(job_ids))),
            "decisions": found_decisions,
            "exchanges": _all(
                conn,
                select(exchanges).where(
                    or_(
                        exchanges.c.correlation_id.in_(set(correlations)),
                        exchanges.c.job_id.in_(job_ids),
                    )
                ),
            ),
            "effects": _all(conn, select(effects).where(effects.c.job_id.in_(job_ids))),
            "links": _all(conn, select(links).where(links.c.crm_id == entity_id)),
        }


def effects_like(db: Database, prefix: str, limit: int = 10_000) -> list[dict[str, Any]]:
    with db.read() as conn:
        query = (
            select(effects).where(effects.c.key.startswith(prefix, autoescape=True)).limit(limit)
        )
        return _all(conn, query)


def entity_seen_with(
    db: Database, kind: str, value: str, inputs: tuple[str, ...], flow: str | None = None
) -> str | None:
    """The CRM id of the `kind` entity whose latest decisions (of `flow`, if given) saw `value`
    in one of the `inputs` (decisions keep their inputs: a tax code, a product code, a Ref_Key)."""
    query = select(decisions.c.entity_id, decisions.c.inputs).where(decisions.c.entity_kind == kind)
    if flow is not None:
        query = query.where(decisions.c.flow == flow)
    with db.read() as conn:
        for entity_id, seen in conn.execute(query.order_by(decisions.c.id.desc()).limit(50_000)):
            if value in (str((seen or {}).get(name)) for name in inputs):
                return str(entity_id)
    return None


def _all(conn: Any, query: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(query)]
