"""`crmbridge jobs`, `replay` and `prune` against a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmbridge.clock import FakeClock
from crmbridge.store import jobs as q
from crmbridge.store.database import Database, open_database
from crmbridge.store.migrate import migrate
from tests.e2e.test_cli_database import assert_one_clear_line, crmbridge


@pytest.fixture
def filled(tmp_path: Path) -> tuple[str, Database, list[int]]:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    db = open_database(url)
    migrate(db)
    clock = FakeClock(datetime.now(UTC) - timedelta(days=200))
    ids = []
    for flow, error in [("issue-invoice", "Permanent: bad ЄДРПОУ"), ("clients", "Permanent: 404")]:
        with db.write() as conn:
            ids.append(q.enqueue(conn, q.NewJob(flow, {"deal": 1}), clock.now()).id)
        [job] = q.claim(db, "w", 1, clock.now(), timedelta(seconds=30))
        q.bury(db, job, clock.now(), error, "traceback")
    with db.write() as conn:
        ids.append(q.enqueue(conn, q.NewJob("clients"), clock.now()).id)
    [job] = q.claim(db, "w", 1, clock.now(), timedelta(seconds=30))
    q.complete(db, job, clock.now())
    return url, db, ids


def test_jobs_lists_and_filters_as_json(filled: tuple[str, Database, list[int]]) -> None:
    url, _, ids = filled
    result = crmbridge("jobs", "--database", url, "--status", "dead", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [j["id"] for j in listed] == [ids[1], ids[0]]
    assert listed[1]["last_error"] == "Permanent: bad ЄДРПОУ"
    table = crmbridge("jobs", "--database", url, "--flow", "clients")
    assert "2 of 2 matching jobs shown" in table.stdout


def test_replay_one_job_and_by_filter_with_dry_run(filled: tuple[str, Database, list[int]]) -> None:
    url, db, ids = filled
    dry = crmbridge("replay", "--database", url, "--error", "ЄДРПОУ", "--dry-run")
    assert dry.stdout.strip() == "would replay 1 dead jobs"
    assert q.get(db, ids[0]).status == "dead"  # type: ignore[union-attr]
    done = crmbridge("replay", "--database", url, "--error", "ЄДРПОУ")
    assert done.stdout.strip() == "replayed 1 dead jobs"
    assert q.get(db, ids[0]).status == "waiting"  # type: ignore[union-attr]
    one = crmbridge("replay", str(ids[1]), "--database", url)
    assert one.stdout.strip() == f"replayed job {ids[1]} (clients)"
    assert q.get(db, ids[1]).status == "waiting"  # type: ignore[union-attr]


def test_replay_refuses_what_it_cannot_do(filled: tuple[str, Database, list[int]]) -> None:
    url, _, ids = filled
    assert_one_clear_line(crmbridge("replay", "--database", url), "name a job id, or a filter")
    assert_one_clear_line(crmbridge("replay", "999", "--database", url), "there is no job 999")
    waiting = crmbridge("replay", str(ids[0]), "--database", url)
    assert waiting.returncode == 0
    assert_one_clear_line(crmbridge("replay", str(ids[0]), "--database", url), "is waiting")
    bad_date = crmbridge("jobs", "--database", url, "--since", "yesterday")
    assert_one_clear_line(bad_date, "--since: 'yesterday' is not a date")


def test_prune_dry_run_counts_and_prune_keeps_dead_letters(
    filled: tuple[str, Database, list[int]],
) -> None:
    url, db, ids = filled
    dry = crmbridge("prune", "--database", url, "--dry-run")
    assert "would remove" in dry.stdout and "1 jobs" in dry.stdout
    assert q.get(db, ids[2]) is not None
    crmbridge("prune", "--database", url)
    assert q.get(db, ids[2]) is None
    assert q.get(db, ids[0]) is not None and q.get(db, ids[1]) is not None
