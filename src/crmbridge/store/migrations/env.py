"""Alembic environment: crmbridge always hands in an open connection (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from crmbridge.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
