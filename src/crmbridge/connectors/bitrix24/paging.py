"""Reading lists: fast full iteration (`>ID`, `start=-1`) and `changes()` by a modified-time cursor.

Full iteration follows `settings/performance/huge-data.md`: order by ID, filter `>ID` past the
last one seen, `start=-1` so the portal skips the COUNT, stop on a short page. Offset paging is
never used: rows added or deleted meanwhile would make it skip or repeat rows.

`changes()` walks (modified, ID) as a keyset: `>=modified` from the cursor's lower bound, and
after a full page the rest of the same second (`=modified`, `>ID`) then `>modified`. A scan that
fills a page stops there and the cursor remembers the position (`after`), so catching up on
10,000 changes reads each once. When a scan reaches the end, the next one starts from the
portal's time at the start of this scan minus `overlap` (portal clock, from the envelope's
`time.date_start`): a record committed late with an older stamp is still found, and an idle
poll re-reads only the last `overlap` of changes. Records already reported are dropped by key
and content fingerprint; the fingerprint, not the stamp, decides, because `DATE_MODIFY` has
one-second resolution and two changes within a second carry the same stamp.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from crmbridge.connectors.base import Page, Record
from crmbridge.connectors.bitrix24.kinds import Kind
from crmbridge.connectors.bitrix24.rest import RestClient
from crmbridge.connectors.bitrix24.wire import PAGE_SIZE

OVERLAP = timedelta(seconds=60)


def iterate(rest: RestClient, kind: Kind, filters: Mapping[str, Any] | None) -> Iterator[Record]:
    last = 0
    while True:
        flt = {**(filters or {}), ">ID": last}
        page = _list(rest, kind, flt, {"ID": "ASC"})
        yield from page
        if len(page) < PAGE_SIZE:
            return
        last = int(page[-1]["ID"])


def _list(rest: RestClient, kind: Kind, flt: Mapping[str, Any], order: Mapping[str, str]) -> Any:
    result = _call(rest, kind, flt, order).result
    return result if isinstance(result, list) else []


class _Scan:
    """A keyset walk over (modified, ID) that remembers the portal's time of its first page."""

    def __init__(self, rest: RestClient, kind: Kind) -> None:
        self.rest, self.kind, self.started = rest, kind, ""

    def page(self, flt: Mapping[str, Any], order: Mapping[str, str]) -> list[Record]:
        answer = _call(self.rest, self.kind, flt, order)
        self.started = self.started or str(answer.time.get("date_start") or "")
        return answer.result if isinstance(answer.result, list) else []

    def since(self, since: str | None) -> Iterator[Record]:
        """Records from `since` inclusive (everything when None), lazily, page by page."""
        m = self.kind.modified
        page = self.page({} if since is None else {f">={m}": since}, {m: "ASC", "ID": "ASC"})
        yield from page
        if len(page) == PAGE_SIZE:
            yield from self.after(str(page[-1][m]), int(page[-1]["ID"]))

    def after(self, stamp: str, last: int) -> Iterator[Record]:
        """Records strictly after (stamp, last) in (modified, ID) order."""
        m = self.kind.modified
        while True:
            same = self.page({f"={m}": stamp, ">ID": last}, {"ID": "ASC"})
            yield from same
            if len(same) == PAGE_SIZE:
                last = int(same[-1]["ID"])
                continue
            later = self.page({f">{m}": stamp}, {m: "ASC", "ID": "ASC"})
            yield from later
            if len(later) < PAGE_SIZE:
                return
            stamp, last = str(later[-1][m]), int(later[-1]["ID"])


def _call(rest: RestClient, kind: Kind, flt: Mapping[str, Any], order: Mapping[str, str]) -> Any:
    params: dict[str, Any] = {"filter": dict(flt), "order": dict(order), "start": -1}
    if kind.select:
        params["select"] = list(kind.select)
    return rest.call(f"{kind.prefix}.list", params)


def changes(
    rest: RestClient, kind: Kind, cursor: Mapping[str, Any] | None, *, overlap: timedelta = OVERLAP
) -> Page:
    state = dict(cursor or {})
    since, after = state.get("since"), state.get("after")
    seen: dict[str, list[str]] = dict(state.get("seen") or {})  # ID → [stamp, fingerprint]
    scan = _Scan(rest, kind)
    scan.started = str(state.get("started") or "")
    source = scan.after(after[0], int(after[1])) if after else scan.since(since)
    fresh: list[Record] = []
    for record in source:
        key, mark = str(record["ID"]), fingerprint(record)
        if seen.get(key, ["", ""])[1] != mark:
            seen[key] = [str(record[kind.modified]), mark]
            fresh.append(record)
        if len(fresh) == PAGE_SIZE:
            last = [str(record[kind.modified]), str(record["ID"])]
            low = _low(since, scan.started, overlap)
            return Page(fresh, _cursor(since, seen, low, after=last, started=scan.started))
    low = _low(since, scan.started, overlap)
    return Page(fresh, _cursor(low, seen, low))


def _low(since: str | None, started: str, overlap: timedelta) -> str | None:
    """Where the next full scan starts: the portal's time of this one minus the overlap."""
    if not started:
        return since
    low = (datetime.fromisoformat(started) - overlap).isoformat(timespec="seconds")
    return low if since is None or _at(low) > _at(since) else since


def _cursor(
    since: str | None,
    seen: dict[str, list[str]],
    low: str | None,
    *,
    after: list[str] | None = None,
    started: str = "",
) -> dict[str, Any]:
    kept = {k: v for k, v in seen.items() if low is None or _at(v[0]) >= _at(low)}
    cursor: dict[str, Any] = {"since": since, "seen": kept}
    if after is not None:
        cursor.update(after=after, started=started)
    return cursor


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def fingerprint(record: Record) -> str:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
