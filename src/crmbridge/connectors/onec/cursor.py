"""The poll position over documents: their `Date`, with overlap, dedupe and a lag window.

1C keeps no modification time (reference §1.13), so documents are polled by `Date`: the next poll
reads again from `since - lag` (a payment entered late with an earlier date, or committed after a
poll began, is still found), and what was already handed out is skipped by Ref_Key — unless its
`DataVersion` changed, because then it *is* a change. The cursor is plain JSON for the cursors
table: `{"since": "2026-01-05T10:00:00", "seen": {"<Ref_Key>": ["<Date>", "<DataVersion>"]}}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec.literals import format_datetime, parse_datetime


@dataclass(frozen=True)
class DocumentCursor:
    since: datetime | None = None
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # ref → (Date, DataVersion)

    @classmethod
    def load(cls, value: dict[str, Any] | None) -> DocumentCursor:
        if not value:
            return cls()
        since = value.get("since")
        seen = {ref: (str(d), str(v)) for ref, (d, v) in dict(value.get("seen", {})).items()}
        return cls(parse_datetime(since) if since else None, seen)

    def dump(self) -> dict[str, Any]:
        since = format_datetime(self.since) if self.since else None
        return {"since": since, "seen": {ref: list(pair) for ref, pair in self.seen.items()}}

    def start(self, lag: timedelta) -> datetime | None:
        """Where the next read begins: the boundary minus the lag window."""
        return None if self.since is None else self.since - lag

    def is_new(self, record: Record) -> bool:
        held = self.seen.get(str(record["Ref_Key"]))
        return held is None or held[1] != record.get("DataVersion")

    def after(self, emitted: Iterable[Record], lag: timedelta) -> DocumentCursor:
        """The cursor once `emitted` (in Date order) has been handed out."""
        seen = dict(self.seen)
        since = self.since
        for record in emitted:
            when = parse_datetime(str(record["Date"]))
            seen[str(record["Ref_Key"])] = (format_datetime(when), str(record.get("DataVersion")))
            since = when if since is None or when > since else since
        if since is None:
            return DocumentCursor()
        floor = since - lag  # keys older than the window are never read again: forget them
        kept = {r: p for r, p in seen.items() if parse_datetime(p[0]) >= floor}
        return DocumentCursor(since, kept)
