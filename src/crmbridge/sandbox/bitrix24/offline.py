"""The offline event queue behind `event.offline.{get,clear,list}`.

Semantics from `bitrix24/b24restdocs:api-reference/events/offline-events.md`,
`event-offline-get.md`, `event-offline-clear.md`, `event-offline-list.md`: the queue keeps the
latest state per object (repeated edits collapse into one record), `get` with `clear=1` (the
default) removes what it returns, `clear=0` reserves the records under a `process_id` that
`clear` later confirms, and `list` reads without reserving.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import uuid
from typing import Any

from crmbridge.clock import Clock
from crmbridge.sandbox.bitrix24.query import matcher, page, sort
from crmbridge.sandbox.bitrix24.wire import iso, to_int

_INTERNAL = ("PROCESS_ID", "ERROR")  # listed by event.offline.list, not by event.offline.get


class OfflineQueue:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._next_id = 0

    def add(self, event: str, entity_id: int) -> None:
        message_id = hashlib.md5(f"{event}|{entity_id}".encode()).hexdigest()
        with self._lock:
            for record in self._records:
                if record["MESSAGE_ID"] == message_id and record["PROCESS_ID"] == "":
                    record["TIMESTAMP_X"] = iso(self._clock.now())
                    return  # collapsed into the pending record of the same object
            self._next_id += 1
            self._records.append(
                {
                    "ID": str(self._next_id),
                    "TIMESTAMP_X": iso(self._clock.now()),
                    "EVENT_NAME": event,
                    "EVENT_DATA": {"FIELDS": {"ID": entity_id}},
                    "EVENT_ADDITIONAL": {"user_id": "1"},
                    "MESSAGE_ID": message_id,
                    "PROCESS_ID": "",
                    "ERROR": "0",
                }
            )

    def get(
        self, flt: dict[str, Any], order: dict[str, Any], limit: int, clear: bool, process: str
    ) -> dict[str, Any]:
        with self._lock:
            accepts = matcher(flt)
            mine = [r for r in self._records if r["PROCESS_ID"] in ("", process) and accepts(r)]
            chosen = sort([r for r in mine if r["ERROR"] == "0"], order or {"TIMESTAMP_X": "ASC"})
            chosen = chosen[:limit]
            if clear:
                taken = {id(r) for r in chosen}
                self._records = [r for r in self._records if id(r) not in taken]
                process_id = None
            else:
                process_id = process or uuid.uuid4().hex
                for record in chosen:
                    record["PROCESS_ID"] = process_id
            events = [{k: v for k, v in r.items() if k not in _INTERNAL} for r in chosen]
            return {"process_id": process_id, "events": copy.deepcopy(events)}

    def clear(self, process: str, ids: list[Any] | None, message_ids: list[Any] | None) -> None:
        wanted_ids = {str(to_int(i)) for i in ids or []}
        wanted_messages = {str(m) for m in message_ids or []}

        def confirmed(record: dict[str, Any]) -> bool:
            if record["PROCESS_ID"] != process:
                return False
            if wanted_ids:
                return record["ID"] in wanted_ids
            return not wanted_messages or record["MESSAGE_ID"] in wanted_messages

        with self._lock:
            self._records = [r for r in self._records if not confirmed(r)]

    def list(self, flt: dict[str, Any], order: dict[str, Any], start: Any) -> tuple[Any, int, Any]:
        with self._lock:
            chosen = sort([r for r in self._records if matcher(flt)(r)], order or {"ID": "ASC"})
            found = page(copy.deepcopy(chosen), start)
        return found.items, found.total, found.next

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"records": copy.deepcopy(self._records), "next_id": self._next_id}

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._records = copy.deepcopy(data["records"])
            self._next_id = int(data["next_id"])
