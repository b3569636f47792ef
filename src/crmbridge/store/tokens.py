"""OAuth tokens of an installed application, and who may renew them.

The problem: a Bitrix24 refresh token is spent by its use; the answer carries the next one. With
several processes (serve, workers) on one installation, two that see `expired_token` together
would both present the same refresh token: one of them is refused, and if the other's answer
were then overwritten by a stale save, the installation would be lost until someone reinstalls.

The mechanism: a claim, taken by compare-and-swap. `claim_refresh` sets `refreshing_until` only
if the stored access token is still the one the caller used and no live claim exists; whoever
gets the row renews, and `finish_refresh` saves the new pair only over the refresh token it
spent (a reinstall meanwhile wins) and drops the claim. The others wait until the stored access
token changes, or the claim lapses (its holder died), and use what is stored.

The guarantee: a refresh token is presented to the authorization server by one process at most,
while the claim lasts; choose the claim longer than the refresh request may take. Each statement
is one short transaction: no lock is held across the network call (on SQLite a write lock would
stop intake meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import oauth_tokens

_COLUMNS = (
    "access_token",
    "refresh_token",
    "client_endpoint",
    "member_id",
    "application_token",
    "scope",
    "expires_at",
)


@dataclass(frozen=True)
class StoredTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    client_endpoint: str
    member_id: str
    application_token: str = field(repr=False)
    scope: str
    expires_at: datetime | None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _COLUMNS}


_SELECT = select(*(oauth_tokens.c[name] for name in _COLUMNS))


def load(db: Database, installation: str) -> StoredTokens | None:
    with db.read() as conn:
        row = conn.execute(_SELECT.where(oauth_tokens.c.installation == installation)).first()
    return StoredTokens(**row._mapping) if row is not None else None


def install(db: Database, installation: str, tokens: StoredTokens, now: datetime) -> None:
    """Store an installation's tokens, replacing an earlier installation's (and its claim)."""
    values = {**tokens.values(), "refreshing_until": None, "installed_at": now, "updated_at": now}
    stmt = upsert_insert(db.dialect, oauth_tokens).values(installation=installation, **values)
    stmt = stmt.on_conflict_do_update(index_elements=[oauth_tokens.c.installation], set_=values)
    with db.write() as conn:
        conn.execute(stmt)


def claim_refresh(
    db: Database, installation: str, used: str, now: datetime, until: datetime
) -> StoredTokens | None:
    """The right to renew until `until`: the stored tokens when `used` is still the stored
    access token and nobody else holds a live claim; None otherwise."""
    t = oauth_tokens.c
    free = t.refreshing_until.is_(None) | (t.refreshing_until <= now)
    stmt = (
        update(oauth_tokens)
        .where(t.installation == installation, t.access_token == used, free)
        .values(refreshing_until=until)
    )
    with db.write() as conn:
        if conn.execute(stmt).rowcount != 1:
            return None
        row = conn.execute(_SELECT.where(t.installation == installation)).first()
    return StoredTokens(**row._mapping) if row is not None else None


def finish_refresh(
    db: Database, installation: str, spent: str, renewed: StoredTokens | None, now: datetime
) -> bool:
    """Save `renewed` (None: the renewal failed) over the pair whose refresh token was `spent`,
    and drop the claim. False when the pair was replaced meanwhile (a reinstall): then nothing
    is saved."""
    t = oauth_tokens.c
    values: dict[str, Any] = {"refreshing_until": None}
    if renewed is not None:
        values |= {**renewed.values(), "updated_at": now}
    stmt = (
        update(oauth_tokens)
        .where(t.installation == installation, t.refresh_token == spent)
        .values(**values)
    )
    with db.write() as conn:
        return bool(conn.execute(stmt).rowcount == 1)
