"""The exchange log and the decision log: what was called, what was decided, for the trace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from crmbridge.store.database import Database
from crmbridge.store.schema import decisions, exchanges


@dataclass(frozen=True)
class Exchange:
    at: datetime
    system: str
    operation: str
    method: str | None = None
    url: str | None = None  # already redacted by the caller
    request_body: str | None = None
    response_body: str | None = None
    status: int | None = None
    duration_ms: float | None = None
    attempt: int | None = None
    job_id: int | None = None
    correlation_id: str | None = None
    business_key: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    at: datetime
    flow: str
    rule: str
    inputs: dict[str, Any]
    result: Any
    matched: bool | None = None
    entity_kind: str | None = None
    entity_id: str | None = None
    job_id: int | None = None
    correlation_id: str | None = None


# Built once: a statement built per call costs more CPU than the insert itself.
_INSERT_EXCHANGE = insert(exchanges)
_INSERT_DECISION = insert(decisions)


def record_exchange(db: Database, exchange: Exchange) -> None:
    with db.write(flush=False) as conn:
        conn.execute(_INSERT_EXCHANGE, vars(exchange))  # shallow: asdict() deep-copies


def record_decision(db: Database, decision: Decision) -> None:
    with db.write(flush=False) as conn:
        conn.execute(_INSERT_DECISION, vars(decision))


def exchanges_for(
    db: Database, *, business_key: str | None = None, correlation_id: str | None = None
) -> list[dict[str, Any]]:
    query = select(exchanges).order_by(exchanges.c.id)
    if business_key is not None:
        query = query.where(exchanges.c.business_key == business_key)
    if correlation_id is not None:
        query = query.where(exchanges.c.correlation_id == correlation_id)
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def decisions_for(db: Database, entity_kind: str, entity_id: str) -> list[dict[str, Any]]:
    query = (
        select(decisions)
        .where(decisions.c.entity_kind == entity_kind, decisions.c.entity_id == entity_id)
        .order_by(decisions.c.id)
    )
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
