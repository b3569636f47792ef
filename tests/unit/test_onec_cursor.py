from __future__ import annotations

import json
from datetime import datetime, timedelta

from crmbridge.connectors.onec.cursor import DocumentCursor

LAG = timedelta(hours=1)


def doc(ref: str, when: str, version: str = "AAAAAQAAAAA=") -> dict[str, str]:
    return {"Ref_Key": ref, "Date": when, "DataVersion": version}


def test_empty_cursor_starts_from_the_beginning() -> None:
    cursor = DocumentCursor.load(None)
    assert cursor.start(LAG) is None
    assert cursor.after([], LAG) == DocumentCursor()


def test_boundary_moves_to_the_latest_date_and_reads_again_from_lag() -> None:
    cursor = DocumentCursor().after(
        [doc("a", "2026-01-05T09:00:00"), doc("b", "2026-01-05T10:00:00")], LAG
    )
    assert cursor.since == datetime(2026, 1, 5, 10)
    assert cursor.start(LAG) == datetime(2026, 1, 5, 9)
    assert not cursor.is_new(doc("a", "2026-01-05T09:00:00"))
    assert not cursor.is_new(doc("b", "2026-01-05T10:00:00"))
    assert cursor.is_new(doc("c", "2026-01-05T09:30:00"))  # a late commit inside the window


def test_a_rewritten_document_is_new_again() -> None:
    cursor = DocumentCursor().after([doc("a", "2026-01-05T09:00:00", "v1")], LAG)
    assert cursor.is_new(doc("a", "2026-01-05T09:00:00", "v2"))


def test_keys_leaving_the_window_are_forgotten() -> None:
    cursor = DocumentCursor().after([doc("old", "2026-01-05T08:00:00")], LAG)
    cursor = cursor.after([doc("new", "2026-01-05T10:00:00")], LAG)
    assert set(cursor.seen) == {"new"}
    cursor = cursor.after([doc("late", "2026-01-05T09:15:00")], LAG)  # never moves back
    assert cursor.since == datetime(2026, 1, 5, 10)
    assert set(cursor.seen) == {"new", "late"}


def test_round_trips_through_json() -> None:
    cursor = DocumentCursor().after([doc("a", "2026-01-05T09:00:00")], LAG)
    again = DocumentCursor.load(json.loads(json.dumps(cursor.dump())))
    assert again == cursor
