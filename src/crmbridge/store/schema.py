"""The tables, as SQLAlchemy Core metadata. Migrations in `migrations/versions` create the same.

A test compares this metadata with a freshly migrated database on both backends, so the two
cannot drift apart silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (and so auto-incrementing).
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on both backends (SQLite keeps no zone; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware UTC value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True),
    Column("source", String(32), nullable=False),  # bitrix24 | bas | manual | api
    Column("event_id", String(200), nullable=False),  # the source's own id of the event
    Column("event_type", String(100), nullable=False),
    Column("entity_kind", String(50)),
    Column("entity_id", String(100)),
    Column("payload", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "event_id"),
    Index(None, "entity_kind", "entity_id"),
    Index(None, "received_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("flow", String(100), nullable=False),
    Column("lock_key", String(200)),  # jobs sharing it run one at a time, in id order
    Column("dedupe_key", String(300), unique=True),  # a second enqueue with it is a no-op
    # Set while the job waits for its first start; a second coalescing enqueue meets it and adds
    # nothing. Cleared when the job is claimed, so a change during a run queues one more job.
    Column("coalesce_key", String(300), unique=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # waiting | running | done | dead
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("run_at", UTCDateTime, nullable=False),
    Column("enqueued_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("worker_id", String(100)),
    Column("last_error", Text),
    Column("last_traceback", Text),
    Column("correlation_id", String(64), nullable=False),
    Column("inbox_id", Id, ForeignKey("inbox.id", ondelete="SET NULL")),
    Index(None, "status", "run_at"),
    Index(None, "status", "lease_until"),
    Index(None, "flow", "status"),
    Index(None, "correlation_id"),
    Index(None, "finished_at"),
    # The claim query looks for an earlier active job of the same key; only active rows matter.
    Index(
        "ix_jobs_active_lock_key",
        "lock_key",
        "id",
        sqlite_where=text("status IN ('waiting', 'running')"),
        postgresql_where=text("status IN ('waiting', 'running')"),
    ),
)

job_attempts = Table(
    "job_attempts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("job_id", Id, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker_id", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(16)),  # done | retry | dead | released | lost
    Column("error", Text),
    Index(None, "job_id", "attempt"),
)

exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("system", String(32), nullable=False),
    Column("operation", String(100), nullable=False),
    Column("method", String(10)),
    Column("url", Text),  # secrets redacted before it gets here
    Column("request_body", Text),
    Column("response_body", Text),
    Column("status", Integer),
    Column("duration_ms", Float),
    Column("attempt", Integer),
    Column("job_id", Id),
    Column("correlation_id", String(64)),
    Column("business_key", String(200)),  # e.g. deal:42, invoice:0000-000017, edrpou:12345678
    Column("error", Text),
    Index(None, "correlation_id"),
    Index(None, "business_key", "at"),
    Index(None, "at"),
)

links = Table(
    "links",
    metadata,
    Column("id", Id, primary_key=True),
    Column("entity", String(50), nullable=False),  # company/counterparty, product, deal/invoice…
    Column("crm_id", String(100), nullable=False),
    Column("bas_ref", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("entity", "crm_id"),
    UniqueConstraint("entity", "bas_ref"),
)

effects = Table(
    "effects",
    metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),  # idempotency key of the operation
    Column("system", String(32), nullable=False),
    Column("external_id", String(200)),
    Column("result", JSON),
    Column("job_id", Id),
    Column("created_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("job_id", Id),
    Column("correlation_id", String(64)),
    Column("flow", String(100), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("entity_kind", String(50)),
    Column("entity_id", String(100)),
    Column("inputs", JSON, nullable=False),
    Column("result", JSON),
    Column("matched", Boolean),
    Index(None, "entity_kind", "entity_id", "at"),
    Index(None, "correlation_id"),
    Index(None, "at"),
)

# OAuth tokens of an installed Bitrix24 application, one row per installation (store/tokens.py).
# The tokens are secrets: nothing reads this table but the connector's token store.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("installation", String(100), primary_key=True),  # e.g. bitrix24
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("client_endpoint", Text, nullable=False),  # https://<portal>/rest/
    Column("member_id", String(64), nullable=False),
    Column("application_token", Text, nullable=False),  # verifies the app's event deliveries
    Column("scope", Text, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("refreshing_until", UTCDateTime),  # a process renewing the pair holds it until then
    Column("installed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
