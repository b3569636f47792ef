"""Initial tables: inbox, jobs, job_attempts, exchanges, links, effects, cursors, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = sa.text("status IN ('waiting', 'running')")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", Id, primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("entity_kind", sa.String(50)),
        sa.Column("entity_id", sa.String(100)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("source", "event_id", name="uq_inbox_source_event_id"),
    )
    op.create_index("ix_inbox_entity_kind_entity_id", "inbox", ["entity_kind", "entity_id"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])

    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("lock_key", sa.String(200)),
        sa.Column("dedupe_key", sa.String(300)),
        sa.Column("coalesce_key", sa.String(300)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("run_at", UTCDateTime, nullable=False),
        sa.Column("enqueued_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("worker_id", sa.String(100)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_traceback", sa.Text),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("inbox_id", Id),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
        sa.UniqueConstraint("coalesce_key", name="uq_jobs_coalesce_key"),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inbox.id"], name="fk_jobs_inbox_id_inbox", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_index("ix_jobs_status_lease_until", "jobs", ["status", "lease_until"])
    op.create_index("ix_jobs_flow_status", "jobs", ["flow", "status"])
    op.create_index("ix_jobs_correlation_id", "jobs", ["correlation_id"])
    op.create_index("ix_jobs_finished_at", "jobs", ["finished_at"])
    op.create_index(
        "ix_jobs_active_lock_key",
        "jobs",
        ["lock_key", "id"],
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )

    op.create_table(
        "job_attempts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("job_id", Id, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("outcome", sa.String(16)),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_job_attempts"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_attempts_job_id_jobs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_job_attempts_job_id_attempt", "job_attempts", ["job_id", "attempt"])

    op.create_table(
        "exchanges",
        sa.Column("id", Id, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("method", sa.String(10)),
        sa.Column("url", sa.Text),
        sa.Column("request_body", sa.Text),
        sa.Column("response_body", sa.Text),
        sa.Column("status", sa.Integer),
        sa.Column("duration_ms", sa.Float),
        sa.Column("attempt", sa.Integer),
        sa.Column("job_id", Id),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("business_key", sa.String(200)),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_exchanges"),
    )
    op.create_index("ix_exchanges_correlation_id", "exchanges", ["correlation_id"])
    op.create_index("ix_exchanges_business_key_at", "exchanges", ["business_key", "at"])
    op.create_index("ix_exchanges_at", "exchanges", ["at"])

    op.create_table(
        "links",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("crm_id", sa.String(100), nullable=False),
        sa.Column("bas_ref", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.UniqueConstraint("entity", "crm_id", name="uq_links_entity_crm_id"),
        sa.UniqueConstraint("entity", "bas_ref", name="uq_links_entity_bas_ref"),
    )

    op.create_table(
        "effects",
        sa.Column("id", Id, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(200)),
        sa.Column("result", sa.JSON),
        sa.Column("job_id", Id),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_effects"),
        sa.UniqueConstraint("key", name="uq_effects_key"),
    )

    op.create_table(
        "cursors",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cursors"),
    )

    op.create_table(
        "decisions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("job_id", Id),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("entity_kind", sa.String(50)),
        sa.Column("entity_id", sa.String(100)),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("matched", sa.Boolean),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    op.create_index(
        "ix_decisions_entity_kind_entity_id_at", "decisions", ["entity_kind", "entity_id", "at"]
    )
    op.create_index("ix_decisions_correlation_id", "decisions", ["correlation_id"])
    op.create_index("ix_decisions_at", "decisions", ["at"])


def downgrade() -> None:
    for table in (
        "decisions",
        "cursors",
        "effects",
        "links",
        "exchanges",
        "job_attempts",
        "jobs",
        "inbox",
    ):
        op.drop_table(table)
