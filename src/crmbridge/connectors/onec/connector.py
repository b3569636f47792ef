"""`BasConnector`: the `Connector` shape over a 1C/BAS infobase, plus posting and the PDF.

Kinds are the profile's (`counterparty`, `invoice`, `payment`, …); records are 1C entities as the
server sends them (`Ref_Key`, `Description`, `Контрагент_Key`…, money as Decimal).

Writes are checked against `$metadata` first (`UnknownFields`, Permanent, before anything is
sent): 1C would silently drop a misspelt field. `put` takes the record's `DataVersion` as the
`If-Match` of an update, so an object changed since it was read is not overwritten (412 →
`VersionConflict`, Retryable: the next attempt re-reads). A create may carry its own `Ref_Key`
(e.g. a UUIDv5 of the CRM id); a retry then meets 1C's "key already exists" and is a success.
A record read from 1C (it has a `DataVersion`) put back without a key updates its own `Ref_Key`.
A configuration update can add fields: before refusing, `$metadata` is read again, at most once
per `Options.metadata_refresh`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crmbridge.clock import Clock
from crmbridge.connectors.base import ChangedEvent, Page, Record, WebhookRejected
from crmbridge.connectors.onec import literals, query, webhooks
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.cursor import DocumentCursor
from crmbridge.connectors.onec.errors import NotFound, OneCError
from crmbridge.connectors.onec.metadata import Metadata, Problem
from crmbridge.connectors.onec.metadata import parse as parse_metadata
from crmbridge.connectors.onec.profile import KINDS, RECEIPTS, Profile, checked
from crmbridge.errors import Permanent

KEY_EXISTS = "15"  # 1C internal code: an object with this key already exists


class UnknownFields(Permanent):
    """The record has fields the infobase does not know; 1C would drop them silently."""

    def __init__(self, entity_set: str, problems: list[Problem]) -> None:
        listed = "; ".join(str(p) for p in problems)
        super().__init__(f"{entity_set}: {listed}")
        self.problems = problems


@dataclass(frozen=True)
class Options:
    page_size: int = 100
    lag: timedelta = timedelta(days=3)  # payments are often entered days after their date
    changes_size: int = 100
    metadata_refresh: timedelta = timedelta(minutes=10)  # least time between two re-reads


class BasConnector:
    system = "bas"

    def __init__(
        self,
        client: ODataClient,
        profile: Profile,
        metadata: Metadata,
        clock: Clock,
        *,
        webhook_secret: webhooks.WebhookSecret | None = None,
        options: Options | None = None,
    ) -> None:
        self.client = client
        self.profile = profile
        self.metadata = metadata
        self.options = options or Options()
        self._clock = clock
        self._secret = webhook_secret
        self._metadata_at = clock.now()

    @classmethod
    def start(cls, client: ODataClient, profile: str, clock: Clock, **kw: Any) -> BasConnector:
        """Reads `$metadata` and checks the profile fits it (ConfigError if not)."""
        found = parse_metadata(client.metadata())
        return cls(client, checked(profile, found), found, clock, **kw)

    def __repr__(self) -> str:
        return f"BasConnector({self.client.base!r}, profile={self.profile.name!r})"

    # the Connector shape ------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Record | None:
        try:
            return self.client.read(self.entity_set(kind), key)
        except NotFound:
            return None

    def put(self, kind: str, record: Record, key: str | None = None) -> str:
        name = self.entity_set(kind)
        body, version = writable(record)
        if key is None and version and record.get("Ref_Key"):
            key = str(record["Ref_Key"])  # read from 1C (it has a DataVersion): an update
        if key is None:
            self.check(name, body)
            return self._create(name, body)
        body.pop("Ref_Key", None)
        self.check(name, body)
        self.client.update(name, key, body, if_match=version)
        return key

    def iterate(self, kind: str, filters: Mapping[str, Any] | None = None) -> Iterator[Record]:
        """Every record, paged by `$orderby=Ref_Key` (1C orders references by presentation —
        stable, but an insert during the walk shifts later pages, hence the dedupe)."""
        found = query.Query(filter=query.matching(filters or {}), orderby=("Ref_Key",))
        seen: set[str] = set()
        for page in self.client.pages(self.entity_set(kind), found, self.options.page_size):
            for record in page:
                if record["Ref_Key"] not in seen:
                    seen.add(record["Ref_Key"])
                    yield record

    def changes(self, kind: str, cursor: dict[str, Any] | None) -> Page:
        """Documents by `Date` from the cursor's boundary minus the lag window; payments only
        once posted. Records already handed out (same DataVersion) are skipped."""
        name = self.entity_set(kind)
        entity = self.metadata.entity(name)
        if entity is None or "Date" not in entity.properties:
            raise Permanent(f"changes() reads documents by Date; {kind} has none")
        state = DocumentCursor.load(cursor)
        fresh: list[Record] = []
        for page in self.client.pages(name, self._since(name, state), self.options.page_size):
            fresh += [r for r in page if state.is_new(r)]
            if len(fresh) >= self.options.changes_size:
                break
        fresh = fresh[: self.options.changes_size]
        return Page(fresh, state.after(fresh, self.options.lag).dump())

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ChangedEvent]:
        if self._secret is None:
            raise WebhookRejected("no BAS webhook secret is configured")
        return webhooks.parse(self._secret, body, headers, self._clock)

    # 1C specifics -------------------------------------------------------------------------
    def check(self, name: str, body: Mapping[str, Any]) -> None:
        """UnknownFields if the body writes a field the infobase does not have."""
        problems = self.metadata.check_record(name, body)
        if problems and self.refresh_metadata():
            problems = self.metadata.check_record(name, body)
        if problems:
            raise UnknownFields(name, problems)

    def refresh_metadata(self) -> bool:
        """Reads `$metadata` again unless it was read recently; whether it did."""
        now = self._clock.now()
        if now - self._metadata_at < self.options.metadata_refresh:
            return False
        found = parse_metadata(self.client.metadata())
        self.profile = checked(self.profile.name, found)
        self.metadata, self._metadata_at = found, now
        return True

    def post(self, kind: str, ref: str, *, operational: bool = False) -> None:
        """Post a document (re-posting a posted one re-runs posting: safe to retry)."""
        flag = "true" if operational else "false"
        self.client.action(self.entity_set(kind), ref, "Post", {"PostingModeOperational": flag})

    def unpost(self, kind: str, ref: str) -> None:
        self.client.action(self.entity_set(kind), ref, "Unpost", {})

    def invoice_pdf(self, ref: str) -> bytes:
        """The printable invoice from the extension's HTTP service `hs/crm/invoice/<ref>/pdf`
        (`flows.issue_invoice.pdf: bas-extension`). 404: no such invoice, or no extension."""
        path = f"hs/crm/invoice/{uuid.UUID(ref)}/pdf"  # a GUID, so nothing to escape
        try:
            data = self.client.download(path, "hs.invoice_pdf").content
        except NotFound as missing:
            raise NotFound(
                f"{missing}: BAS has no invoice {ref}, or no extension serving hs/crm/ "
                "(flows.issue_invoice.pdf: render needs none)",
                status=404,
            ) from missing
        if not data.startswith(b"%PDF"):
            raise Permanent(
                f"the invoice print service answered something else than a PDF for {ref}"
            )
        return data

    def entity_set(self, kind: str) -> str:
        """The set of a kind; Permanent if this infobase does not publish it."""
        name = entity_set(kind)
        if self.metadata.entity(name) is None:
            raise Permanent(f"{name} ({kind}) is not in the OData composition of this infobase")
        return name

    # helpers ------------------------------------------------------------------------------
    def _create(self, name: str, body: dict[str, Any]) -> str:
        ref = body.get("Ref_Key")
        try:
            return str(self.client.create(name, body)["Ref_Key"])
        except OneCError as error:
            if ref and error.code == KEY_EXISTS:
                return str(ref)  # an earlier attempt created it; the key makes it idempotent
            raise

    def _since(self, name: str, state: DocumentCursor) -> query.Query:
        start = state.start(self.options.lag)
        posted = "Posted eq true" if name in RECEIPTS else None
        since = None if start is None else f"Date ge {literals.datetime_literal(start)}"
        return query.Query(filter=query.all_of(since, posted), orderby=("Date", "Ref_Key"))


def writable(record: Record) -> tuple[dict[str, Any], str | None]:
    """The body to send and its If-Match. What 1C echoes on a read but ignores on a write
    (metadata, link URLs, predefined flags, the owner's key repeated in tabular rows) is
    dropped, so a record read with `get` can be changed and put back; `Posted` too when the
    record was read (it has a DataVersion) — written by a mapping, the field check refuses it
    (posting is `post()`)."""
    version = record.get("DataVersion")
    echoed = {"odata.metadata", "DataVersion", "Predefined", "PredefinedDataName"}
    echoed |= {"Posted"} if version else set()
    body: dict[str, Any] = {}
    for name, value in record.items():
        if name in echoed or name.endswith("@navigationLinkUrl"):
            continue
        body[name] = [_row(r) for r in value] if isinstance(value, list) else value
    return body, str(version) if version else None


def _row(row: Any) -> Any:
    if not isinstance(row, Mapping):
        return row
    return {k: v for k, v in row.items() if k != "Ref_Key"}


def entity_set(kind: str) -> str:
    if kind not in KINDS:
        raise Permanent(f"BAS has no kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind]
