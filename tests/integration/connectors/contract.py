"""The contract every connector passes, whatever the system behind it.

How to plug a connector in (see `test_bitrix24_contract.py` for a complete example):

1. Write an adapter: any object with the attributes and methods of `ContractAdapter` below. It
   holds a connector wired to a running sandbox (real HTTP on loopback) whose `HttpCaller`
   records into the `db` fixture, plus the few system-specific facts the contract cannot guess:
   which record kind to use, how to make a new record, how to change one behind the
   connector's back, which secrets must never leak, and two webhook deliveries.
2. Subclass `ConnectorContract` in a module named `test_<system>_contract.py` and provide an
   `adapter` fixture (it may depend on `db`, `caplog` or any other fixture; parametrize it to
   run the contract over several profiles, e.g. BAS `bas-buh` and `bp30`):

       class TestBasContract(ConnectorContract):
           @pytest.fixture(params=["bas-buh", "bp30"])
           def adapter(self, request, db) -> Iterator[ContractAdapter]:
               with running_sandbox(profile=request.param) as sandbox, httpx.Client() as client:
                   yield BasAdapter(sandbox, client, db)

Every test below then runs for that connector (and, through `db`, on SQLite and PostgreSQL).
The checks are on state (records read back, rows in the exchange log, log records), not calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

import pytest

from crmbridge.connectors.base import ChangedEvent, Connector, Page, Record, WebhookRejected
from crmbridge.correlation import CallContext, bound
from crmbridge.store.database import Database
from crmbridge.store.journal import exchanges_for

MAX_PAGES = 1000  # a changes() loop that has not ended by then never will


class ContractAdapter(Protocol):
    connector: Connector
    kind: str  # a kind the connector can get, put, iterate and poll for changes
    # The page size the connector reads with; the sandbox must hold more records of `kind` than
    # this (create them in the adapter fixture when the seed has fewer, as the Bitrix24 one does).
    page_size: int
    secrets: list[str]  # strings that must never appear in repr, logs or the exchange log

    def new_record(self, n: int) -> Record:
        """Fields of a new, valid record of `kind`; `n` makes it unique."""
        ...

    def changed(self, record: Record) -> Record:
        """Fields that change `record` (as read back) when written with put(key=...)."""
        ...

    def agrees(self, written: Record, read: Record) -> bool:
        """Whether the record read back holds what was written (in the system's own format)."""
        ...

    def key_of(self, record: Record) -> str: ...

    def missing_key(self) -> str:
        """A key no record has."""
        ...

    def stored_keys(self) -> set[str]:
        """The keys of every record of `kind`, read from the sandbox itself (not the connector)."""
        ...

    def touch(self, key: str) -> None:
        """Change the record behind the connector's back, as a user in the system would."""
        ...

    def authentic_webhook(self) -> tuple[bytes, Mapping[str, str], str] | None:
        """(body, headers, entity id it announces) of a genuine delivery; None if the connector
        takes no webhooks (then every delivery must be rejected)."""
        ...

    def forged_webhook(self) -> tuple[bytes, Mapping[str, str]]:
        """A delivery that looks right but is not authentic (wrong token or signature)."""
        ...


def drain(adapter: ContractAdapter, cursor: dict[str, Any] | None) -> tuple[list[str], Any]:
    """Keys of everything `changes()` reports from `cursor` until an empty page."""
    keys: list[str] = []
    for _ in range(MAX_PAGES):
        page: Page = adapter.connector.changes(adapter.kind, cursor)
        cursor = page.cursor
        if not page.records:
            return keys, cursor
        keys.extend(adapter.key_of(r) for r in page.records)
    raise AssertionError(f"changes({adapter.kind!r}) did not end after {MAX_PAGES} pages")


class ConnectorContract:
    """Subclass and provide an `adapter` fixture; see the module docstring."""

    @pytest.fixture
    def adapter(self) -> ContractAdapter:
        raise NotImplementedError("provide an `adapter` fixture in the subclass")

    # get / put ----------------------------------------------------------------------------
    def test_put_then_get_round_trip(self, adapter: ContractAdapter) -> None:
        record = adapter.new_record(1)
        key = adapter.connector.put(adapter.kind, record)
        read = adapter.connector.get(adapter.kind, key)
        assert read is not None and adapter.key_of(read) == key
        assert adapter.agrees(record, read)

    def test_put_with_a_key_updates_in_place(self, adapter: ContractAdapter) -> None:
        key = adapter.connector.put(adapter.kind, adapter.new_record(2))
        before = adapter.connector.get(adapter.kind, key)
        assert before is not None
        change = adapter.changed(before)
        assert adapter.connector.put(adapter.kind, change, key) == key
        after = adapter.connector.get(adapter.kind, key)
        assert after is not None and adapter.agrees(change, after)
        assert key in adapter.stored_keys()

    def test_get_of_a_missing_key_is_none(self, adapter: ContractAdapter) -> None:
        assert adapter.connector.get(adapter.kind, adapter.missing_key()) is None

    # iterate / changes ----------------------------------------------------------------------
    def test_iterate_yields_every_record_once_and_ends(self, adapter: ContractAdapter) -> None:
        expected = adapter.stored_keys()
        assert len(expected) > adapter.page_size, "the sandbox must hold more than one page"
        keys = [adapter.key_of(r) for r in adapter.connector.iterate(adapter.kind)]
        assert len(keys) == len(set(keys))
        assert set(keys) == expected

    def test_changes_from_the_start_report_everything_once(self, adapter: ContractAdapter) -> None:
        keys, _ = drain(adapter, None)
        assert len(keys) == len(set(keys))
        assert set(keys) == adapter.stored_keys()

    def test_changes_after_the_end_are_empty(self, adapter: ContractAdapter) -> None:
        _, cursor = drain(adapter, None)
        again, _ = drain(adapter, cursor)
        assert again == []  # the overlap re-reads the boundary, the dedupe drops it

    def test_a_change_is_reported_exactly_once(self, adapter: ContractAdapter) -> None:
        _, cursor = drain(adapter, None)
        key = sorted(adapter.stored_keys())[0]
        adapter.touch(key)
        keys, cursor = drain(adapter, cursor)
        assert keys == [key]
        assert drain(adapter, cursor)[0] == []

    def test_a_new_record_is_reported_by_changes(self, adapter: ContractAdapter) -> None:
        _, cursor = drain(adapter, None)
        key = adapter.connector.put(adapter.kind, adapter.new_record(3))
        keys, _ = drain(adapter, cursor)
        assert keys.count(key) == 1

    # webhooks -------------------------------------------------------------------------------
    def test_an_authentic_webhook_becomes_events(self, adapter: ContractAdapter) -> None:
        delivery = adapter.authentic_webhook()
        if delivery is None:
            body, headers = adapter.forged_webhook()
            with pytest.raises(WebhookRejected):
                adapter.connector.parse_webhook(body, headers)
            return
        body, headers, entity_id = delivery
        events = adapter.connector.parse_webhook(body, headers)
        assert [e.entity_id for e in events] == [entity_id]
        assert all(isinstance(e, ChangedEvent) and e.event_id for e in events)
        assert all(adapter.connector.system == e.source for e in events)
        for secret in adapter.secrets:
            assert secret not in repr(events)

    def test_a_forged_webhook_is_rejected(self, adapter: ContractAdapter) -> None:
        body, headers = adapter.forged_webhook()
        with pytest.raises(WebhookRejected) as caught:
            adapter.connector.parse_webhook(body, headers)
        assert caught.value.status in (401, 403)

    def test_a_malformed_webhook_is_rejected(self, adapter: ContractAdapter) -> None:
        with pytest.raises(WebhookRejected):
            adapter.connector.parse_webhook(b"\xff\xfe not a delivery", {})

    # secrets and the exchange log -----------------------------------------------------------
    def test_repr_shows_no_secret(self, adapter: ContractAdapter) -> None:
        text = repr(adapter.connector) + str(adapter.connector)
        assert adapter.secrets, "the adapter must name the secrets to look for"
        for secret in adapter.secrets:
            assert secret not in text

    def test_no_secret_in_logs_or_the_exchange_log(
        self, adapter: ContractAdapter, db: Database, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.DEBUG), bound(CallContext("contract-secrets")):
            key = adapter.connector.put(adapter.kind, adapter.new_record(4))
            adapter.connector.get(adapter.kind, key)
            adapter.connector.get(adapter.kind, adapter.missing_key())
            drain(adapter, None)
        rows = exchanges_for(db, correlation_id="contract-secrets")
        assert rows, "every call must be recorded in the exchange log"
        stored = " ".join(str(v) for row in rows for v in row.values())
        for secret in adapter.secrets:
            assert secret not in caplog.text
            assert secret not in stored

    def test_each_call_is_recorded_with_the_job_context(
        self, adapter: ContractAdapter, db: Database
    ) -> None:
        context = CallContext("contract-ctx", job_id=41, attempt=3, business_key="contract:1")
        with bound(context):
            adapter.connector.get(adapter.kind, adapter.missing_key())
        rows = exchanges_for(db, correlation_id="contract-ctx")
        assert rows
        for row in rows:
            assert row["system"] == adapter.connector.system
            assert (row["job_id"], row["attempt"]) == (41, 3)
            assert row["business_key"]  # the job's, unless the call names a narrower one
            assert row["status"] is not None and row["duration_ms"] is not None
