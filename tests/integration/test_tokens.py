"""OAuth tokens in the store, on SQLite and PostgreSQL: install, and the refresh claim that keeps
two processes from spending one refresh token."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from crmbridge.clock import FakeClock
from crmbridge.store import tokens
from crmbridge.store.database import Database
from crmbridge.store.tokens import StoredTokens

KEY = "bitrix24"
LEASE = timedelta(seconds=90)


def pair(n: int) -> StoredTokens:
    return StoredTokens(
        access_token=f"access-{n}",
        refresh_token=f"refresh-{n}",
        client_endpoint="https://example.bitrix24.ua/rest/",
        member_id="a223c6b3710f85df22e9377d6c4f7553",
        application_token="app-token-1",
        scope="crm,task",
        expires_at=None,
    )


def test_nothing_is_stored_before_the_install(db: Database) -> None:
    assert tokens.load(db, KEY) is None


def test_an_install_is_stored_and_a_reinstall_replaces_it(db: Database, clock: FakeClock) -> None:
    first = replace(pair(1), expires_at=clock.now() + timedelta(hours=1))
    tokens.install(db, KEY, first, clock.now())
    assert tokens.load(db, KEY) == first
    assert tokens.claim_refresh(db, KEY, "access-1", clock.now(), clock.now() + LEASE)
    second = replace(pair(7), application_token="app-token-2")
    tokens.install(db, KEY, second, clock.now())
    assert tokens.load(db, KEY) == second
    # the reinstall also dropped the claim on the old pair
    assert tokens.claim_refresh(db, KEY, "access-7", clock.now(), clock.now() + LEASE)


def test_one_claim_at_a_time_and_only_on_the_current_token(db: Database, clock: FakeClock) -> None:
    tokens.install(db, KEY, pair(1), clock.now())
    now = clock.now()
    assert tokens.claim_refresh(db, KEY, "access-0", now, now + LEASE) is None  # stale
    claimed = tokens.claim_refresh(db, KEY, "access-1", now, now + LEASE)
    assert claimed == pair(1)
    assert tokens.claim_refresh(db, KEY, "access-1", now, now + LEASE) is None  # held
    clock.advance(91)  # the holder died: its claim lapses
    later = clock.now()
    assert tokens.claim_refresh(db, KEY, "access-1", later, later + LEASE) == pair(1)


def test_a_refresh_is_saved_only_over_the_pair_it_renewed(db: Database, clock: FakeClock) -> None:
    tokens.install(db, KEY, pair(1), clock.now())
    now = clock.now()
    assert tokens.claim_refresh(db, KEY, "access-1", now, now + LEASE)
    assert tokens.finish_refresh(db, KEY, "refresh-1", pair(2), now) is True
    assert tokens.load(db, KEY) == pair(2)
    assert tokens.claim_refresh(db, KEY, "access-2", now, now + LEASE)  # released
    tokens.install(db, KEY, pair(9), now)  # reinstalled while the refresh was under way
    assert tokens.finish_refresh(db, KEY, "refresh-2", pair(3), now) is False
    assert tokens.load(db, KEY) == pair(9)


def test_a_failed_refresh_releases_the_claim(db: Database, clock: FakeClock) -> None:
    tokens.install(db, KEY, pair(1), clock.now())
    now = clock.now()
    assert tokens.claim_refresh(db, KEY, "access-1", now, now + LEASE)
    assert tokens.finish_refresh(db, KEY, "refresh-1", None, now) is True
    assert tokens.load(db, KEY) == pair(1)
    assert tokens.claim_refresh(db, KEY, "access-1", now, now + LEASE) == pair(1)


def test_the_repr_shows_no_token() -> None:
    text = repr(pair(1)) + str(pair(1))
    assert "access-1" not in text and "refresh-1" not in text and "app-token-1" not in text
