"""What every connector offers, whatever the system: the shape the contract suite tests.

Records are plain dicts in the system's own field names (Bitrix24 `TITLE`, 1C `Description`);
mapping between systems is the flows' business, not the connectors'.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmbridge.errors import Permanent

Record = dict[str, Any]


class WebhookRejected(Permanent):
    """The webhook is not authentic (bad token or signature) or not well-formed."""

    def __init__(self, message: str | None = None, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status  # what the intake answers: 401 unauthentic, 400 malformed


@dataclass(frozen=True)
class ChangedEvent:
    """Something changed in a system; the flow re-reads the entity (events carry only ids)."""

    source: str  # bitrix24 | bas
    event_id: str  # unique per delivery source event, for the inbox's dedupe
    event_type: str  # e.g. ONCRMDEALUPDATE
    entity_kind: str  # deal | company | product | invoice | payment …
    entity_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)  # secrets already removed


@dataclass(frozen=True)
class Page:
    """One step of `changes()`: the records changed since the cursor, and the next cursor."""

    records: list[Record]
    cursor: dict[str, Any]  # JSON-able; stored in the cursors table between polls


class Connector(Protocol):
    system: str

    def get(self, kind: str, key: str) -> Record | None:
        """The record of `kind` with id / Ref_Key `key`, or None if there is none."""
        ...

    def put(self, kind: str, record: Record, key: str | None = None) -> str:
        """Create (key None) or update the record; returns its key."""
        ...

    def iterate(self, kind: str, filters: Mapping[str, Any] | None = None) -> Iterator[Record]:
        """Every record of `kind` (matching `filters`), page by page, in a stable order."""
        ...

    def changes(self, kind: str, cursor: dict[str, Any] | None) -> Page:
        """Records changed since `cursor` (None: from the start). Consecutive pages overlap at
        the boundary and are deduplicated by key, so a late commit is not skipped."""
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        """Verify and decode one delivery; raises WebhookRejected when it is not authentic."""
        ...
