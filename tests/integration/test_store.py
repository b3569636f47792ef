"""Store contract: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import StatementError

from crmbridge.clock import FakeClock
from crmbridge.errors import DatabaseError
from crmbridge.store import cursors, effects, inbox, journal, links
from crmbridge.store.database import Database, open_database
from crmbridge.store.jobs import NewJob
from crmbridge.store.migrate import current_revision, head_revision, migrate
from crmbridge.store.schema import jobs, metadata


def test_migration_creates_exactly_the_schema_the_code_declares(db: Database) -> None:
    with db.read() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    assert diffs == []
    assert {"inbox", "jobs", "exchanges", "links", "effects", "cursors", "decisions"} <= tables


def test_migrate_twice_changes_nothing(db: Database) -> None:
    assert migrate(db) == (head_revision(), head_revision())
    assert current_revision(db) == head_revision()


def test_schema_newer_than_the_code_is_refused(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="revision 9999, newer than this crmbridge"):
        migrate(db)


def test_sqlite_runs_in_wal_with_durable_commits(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    db.dispose()


def _durability(conn: Connection, dialect: str) -> object:
    if dialect == "sqlite":
        return conn.exec_driver_sql("PRAGMA synchronous").scalar()  # 2 FULL, 1 NORMAL
    return conn.exec_driver_sql("SHOW synchronous_commit").scalar()


def test_log_writes_skip_the_disk_flush_and_leave_the_pool_durable(db: Database) -> None:
    with db.read() as conn:
        durable = _durability(conn, db.dialect)
    with db.write(flush=False) as conn:
        relaxed = _durability(conn, db.dialect)
        conn.execute(
            text("INSERT INTO cursors (name, value, updated_at) VALUES ('x', '{}', :t)"),
            {"t": "2026-01-01 00:00:00"},
        )
    with db.write() as conn:  # the same pooled connection again
        after = _durability(conn, db.dialect)
        stored = conn.execute(text("SELECT count(*) FROM cursors WHERE name = 'x'")).scalar()
    assert (durable, relaxed, after) == ((2, 1, 2) if db.is_sqlite else ("on", "off", "on"))
    assert stored == 1


def test_links_written_in_bulk_relink_like_one_by_one(db: Database, clock: FakeClock) -> None:
    links.put_many(db, "product", [("1", "ref-a"), ("2", "ref-b")], clock.now())
    links.put_many(db, "product", [("1", "ref-c"), ("3", "ref-d")], clock.now())
    assert [links.bas_ref(db, "product", i) for i in ("1", "2", "3")] == ["ref-c", "ref-b", "ref-d"]
    assert links.crm_id(db, "product", "ref-a") is None


def _event(event_id: str = "evt-1") -> inbox.Event:
    return inbox.Event("bitrix24", event_id, "ONCRMDEALUPDATE", "deal", "42", {"ID": "42"})


def test_event_and_its_jobs_commit_together_and_once(db: Database, clock: FakeClock) -> None:
    first = inbox.accept(db, _event(), [NewJob("sync-deal", {"id": 42}, "deal:42")], clock.now())
    again = inbox.accept(db, _event(), [NewJob("sync-deal", {"id": 42}, "deal:42")], clock.now())
    assert not first.duplicate and len(first.job_ids) == 1
    assert again.duplicate and again.inbox_id == first.inbox_id and again.job_ids == ()
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == 1
    assert [row["event_id"] for row in inbox.for_entity(db, "deal", "42")] == ["evt-1"]


def test_a_failing_enqueue_rolls_the_event_back(db: Database, clock: FakeClock) -> None:
    bad = NewJob("sync-deal", {"not-json": object()}, "deal:42")  # cannot be serialised
    with pytest.raises((TypeError, StatementError), match="not JSON serializable"):
        inbox.accept(db, _event("evt-2"), [bad], clock.now())
    assert inbox.for_entity(db, "deal", "42") == []


def test_effect_is_recorded_once(db: Database, clock: FakeClock) -> None:
    assert effects.record(db, "invoice:deal:7", "bas", clock.now(), external_id="ref-1")
    assert not effects.record(db, "invoice:deal:7", "bas", clock.now(), external_id="ref-2")
    found = effects.get(db, "invoice:deal:7")
    assert found is not None and found.external_id == "ref-1"
    assert effects.get(db, "invoice:deal:8") is None


def test_links_map_both_ways_and_relink(db: Database, clock: FakeClock) -> None:
    links.put(db, "company", "5", "ref-a", clock.now())
    assert links.bas_ref(db, "company", "5") == "ref-a"
    assert links.crm_id(db, "company", "ref-a") == "5"
    links.put(db, "company", "5", "ref-b", clock.now())
    assert links.bas_ref(db, "company", "5") == "ref-b"
    assert links.crm_id(db, "company", "ref-a") is None


def test_cursor_round_trip(db: Database, clock: FakeClock) -> None:
    assert cursors.get(db, "bas:payments") is None
    cursors.put(db, "bas:payments", {"date": "2026-01-05T09:00:00", "seen": ["a"]}, clock.now())
    cursors.put(db, "bas:payments", {"date": "2026-01-06T09:00:00", "seen": []}, clock.now())
    assert cursors.get(db, "bas:payments") == {"date": "2026-01-06T09:00:00", "seen": []}


def test_exchange_and_decision_logs_are_found_by_key(db: Database, clock: FakeClock) -> None:
    journal.record_exchange(
        db,
        journal.Exchange(
            at=clock.now(),
            system="bas",
            operation="create invoice",
            status=201,
            business_key="deal:42",
            correlation_id="c1",
            duration_ms=12.5,
        ),
    )
    journal.record_decision(
        db,
        journal.Decision(
            at=clock.now() + timedelta(seconds=1),
            flow="issue-invoice",
            rule="amount > 0",
            inputs={"amount": "1200.00"},
            result=True,
            matched=True,
            entity_kind="deal",
            entity_id="42",
            correlation_id="c1",
        ),
    )
    [exchange] = journal.exchanges_for(db, business_key="deal:42")
    assert exchange["operation"] == "create invoice" and exchange["at"] == clock.now()
    [decision] = journal.decisions_for(db, "deal", "42")
    assert decision["inputs"] == {"amount": "1200.00"} and decision["result"] is True
    assert journal.exchanges_for(db, correlation_id="other") == []


def test_a_repeated_entity_changed_event_queues_a_reread_only_if_the_first_started(
    db: Database, clock: FakeClock
) -> None:
    from crmbridge.store import jobs as q

    changed = NewJob("deal-changed", {"id": "42"}, "deal:42", coalesce=True)
    first = inbox.accept(db, _event("same-second"), [changed], clock.now())
    again = inbox.accept(db, _event("same-second"), [changed], clock.now())
    assert again.duplicate and again.job_ids == ()  # the waiting job absorbs the repeat
    q.claim(db, "w", 1, clock.now(), timedelta(seconds=30))
    late = inbox.accept(db, _event("same-second"), [changed], clock.now())
    assert late.duplicate and len(late.job_ids) == 1  # started already: one more re-read
    assert late.job_ids != first.job_ids
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == 2
